// The value score (domain.md §7), pure: indicators → normalised parts (0–100) → weighted score (0–100).
// The set-based recomputation (value.sql.ts) computes the same formulas in SQL; a test holds them equal.

export const INDICATORS = ['revenue', 'expectedSales', 'referenceEffect', 'credit', 'cost'] as const;
export type Indicator = (typeof INDICATORS)[number];
export const VALUE_CLASSES = ['A', 'B', 'C'] as const;
export type ValueClass = (typeof VALUE_CLASSES)[number];
export const CREDIT_STATUSES = ['GOOD', 'WATCH', 'BLOCKED'] as const;

export type ChurnConfig = {
  noContactDays: number;
  orderWindowDays: number;
  orderDropPercent: number;
  complaintWindowDays: number;
  complaints: number;
  lostDealWindowDays: number;
  lostDeals: number;
  // Signals at once that make the risk HIGH (one signal is WATCH).
  highSignals: number;
};

export type ValueModelConfig = {
  // Weights in percent, summing to 100.
  weights: Record<Indicator, number>;
  // The amount at which revenue, expected sales and cost score half (50) on their part.
  revenueHalf: number;
  expectedSalesHalf: number;
  costHalf: number;
  // Months of orders and costs counted (trailing).
  trailingMonths: number;
  // Share of ranked customers in class A (top) and C (bottom), in percent.
  aPercent: number;
  cPercent: number;
  churn: ChurnConfig;
};

export const DEFAULT_MODEL: ValueModelConfig = {
  weights: { revenue: 45, expectedSales: 20, referenceEffect: 10, credit: 10, cost: 15 },
  revenueHalf: 50_000,
  expectedSalesHalf: 50_000,
  costHalf: 5_000,
  trailingMonths: 12,
  aPercent: 5,
  cPercent: 20,
  churn: { noContactDays: 90, orderWindowDays: 180, orderDropPercent: 50, complaintWindowDays: 180, complaints: 2, lostDealWindowDays: 365, lostDeals: 1, highSignals: 2 },
};

// What credit status is worth on its part; no status known scores in the middle.
export const CREDIT_POINTS: Record<string, number> = { GOOD: 100, WATCH: 50, BLOCKED: 0 };
export const CREDIT_UNKNOWN_POINTS = 50;

export type Inputs = {
  revenue: number;
  expectedSales: number;
  referenceLevel: number;
  creditStatus: string | null;
  cost: number;
};

export type Part = { indicator: Indicator; raw: string; normalised: number; weight: number; contribution: number; explanation: string };

const round2 = (x: number): number => Math.round(x * 100) / 100;
const money = (x: number): string => x.toFixed(2);
const grouped = (x: number): string => Math.round(x).toLocaleString('en-US');

/** Saturating growth: 0 at 0, 50 at `half`, towards 100 as the amount grows; never above 100. */
export const saturating = (amount: number, half: number): number => (amount <= 0 ? 0 : (100 * amount) / (amount + half));
/** The mirror for cost: 100 when nothing was spent, 50 at `half`, towards 0 as cost grows. */
export const costPoints = (cost: number, half: number): number => (cost <= 0 ? 100 : (100 * half) / (cost + half));
export const referencePoints = (level: number): number => Math.max(0, Math.min(5, level)) * 20;
export const creditPoints = (status: string | null): number => (status !== null && status in CREDIT_POINTS ? (CREDIT_POINTS[status] ?? CREDIT_UNKNOWN_POINTS) : CREDIT_UNKNOWN_POINTS);

export function normalise(m: ValueModelConfig, i: Inputs): Record<Indicator, number> {
  return {
    revenue: saturating(i.revenue, m.revenueHalf),
    expectedSales: saturating(i.expectedSales, m.expectedSalesHalf),
    referenceEffect: referencePoints(i.referenceLevel),
    credit: creditPoints(i.creditStatus),
    cost: costPoints(i.cost, m.costHalf),
  };
}

function explain(m: ValueModelConfig, ind: Indicator, i: Inputs): string {
  switch (ind) {
    case 'revenue':
      return i.revenue > 0
        ? `Ordered ${grouped(i.revenue)} in the last ${m.trailingMonths} months (cancelled orders not counted); ${grouped(m.revenueHalf)} would score 50.`
        : `No orders in the last ${m.trailingMonths} months.`;
    case 'expectedSales':
      return i.expectedSales > 0
        ? `Open opportunities worth ${grouped(i.expectedSales)} once weighted by their stage's win probability; ${grouped(m.expectedSalesHalf)} would score 50.`
        : 'No open opportunity with an amount.';
    case 'referenceEffect':
      return i.referenceLevel > 0 ? `Reference customer: a manager rated its demonstration effect ${i.referenceLevel} of 5.` : 'Not rated as a reference customer.';
    case 'credit':
      return i.creditStatus ? `Credit status from the ERP is ${i.creditStatus}.` : 'No credit status from the ERP yet (counted as neutral).';
    case 'cost':
      return i.cost > 0
        ? `Serving it cost ${grouped(i.cost)} in the last ${m.trailingMonths} months; the more it costs, the lower this part (${grouped(m.costHalf)} scores 50).`
        : `No cost recorded in the last ${m.trailingMonths} months.`;
  }
}

const rawOf = (ind: Indicator, i: Inputs): string => {
  switch (ind) {
    case 'revenue':
      return money(i.revenue);
    case 'expectedSales':
      return money(i.expectedSales);
    case 'referenceEffect':
      return String(i.referenceLevel);
    case 'credit':
      return i.creditStatus ?? 'UNKNOWN';
    case 'cost':
      return money(i.cost);
  }
};

/**
 * The score and its parts. Each part's contribution is weight × normalised / 100; the score is their
 * sum, so with weights summing to 100 it lies in 0–100, and it rises with revenue, expected sales,
 * reference effect and credit and falls with cost.
 */
export function scoreOf(m: ValueModelConfig, i: Inputs): { score: number; parts: Part[] } {
  const n = normalise(m, i);
  const parts = INDICATORS.map((ind) => {
    const weight = m.weights[ind];
    return { indicator: ind, raw: rawOf(ind, i), normalised: round2(n[ind]), weight, contribution: round2((weight * n[ind]) / 100), explanation: explain(m, ind, i) };
  });
  const exact = INDICATORS.reduce((s, ind) => s + (m.weights[ind] * n[ind]) / 100, 0);
  return { score: Math.max(0, Math.min(100, round2(exact))), parts };
}

/** The class of a score against the cut-offs of the last full recomputation (incremental updates). */
export function classOf(score: number, cut: { aMin: number | null; cMax: number | null }): ValueClass {
  if (cut.aMin !== null && score >= cut.aMin) return 'A';
  if (cut.cMax !== null && score <= cut.cMax) return 'C';
  return 'B';
}

/** How many of n ranked customers make up a class of `percent` (at least one when the percent is above 0). */
export const classSize = (n: number, percent: number): number => (percent <= 0 ? 0 : Math.ceil((n * percent) / 100));

export type ChurnLevel = 'NONE' | 'WATCH' | 'HIGH';
export const CHURN_LEVELS = ['NONE', 'WATCH', 'HIGH'] as const;
export const CHURN_SIGNALS = ['NO_CONTACT', 'ORDER_DROP', 'COMPLAINTS', 'LOST_DEAL', 'CREDIT'] as const;

/** The churn level of a number of signals at once. */
export const churnLevelOf = (signals: number, c: ChurnConfig): ChurnLevel => (signals === 0 ? 'NONE' : signals >= c.highSignals ? 'HIGH' : 'WATCH');
export const churnRank = (l: string | null): number => (l === 'HIGH' ? 2 : l === 'WATCH' ? 1 : 0);
