// Plan decomposition (domain.md §6): a target amount broken down backwards through the funnel.
// Pure: no database, no clock. Exact integer arithmetic: money in cents, rates in ten-thousandths.
//
//   won deals needed  = ⌈ target ÷ average won amount ⌉
//   needed at a stage = ⌈ needed at the next stage ÷ rate(stage → next) ⌉, from WON back to SUSPECT
//
// Rounding up at every step keeps the plan sufficient: with the measured rates, the counts it asks for
// are enough to reach the target. Every count is monotone in the target.

export const RATE_SOURCES = ['UNIT', 'PARENT', 'COMPANY', 'PIPELINE', 'NONE'] as const;
export type RateSource = (typeof RATE_SOURCES)[number];

export type StepRate = {
  fromStageKey: string;
  toStageKey: string;
  // Four places ("0.2500"); null when nothing measured it.
  rate: string | null;
  sampleSize: number;
  source: RateSource;
  sourceUnitId: string | null;
  belowMinimumSample: boolean;
};

export type Required = { stageKey: string; count: number | null };

export class PlanOutOfRange extends Error {}

const rateUnits = (rate: string): bigint => {
  const [i = '0', f = ''] = rate.split('.');
  return BigInt(i) * 10_000n + BigInt(f.padEnd(4, '0').slice(0, 4));
};
export const cents = (amount: string): bigint => {
  const [i = '0', f = ''] = amount.split('.');
  return BigInt(i) * 100n + BigInt(f.padEnd(2, '0').slice(0, 2));
};
const divCeil = (a: bigint, b: bigint): bigint => (a + b - 1n) / b;
const MAX = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The counts needed at each stage, top of the funnel first: `steps` run from the top
 * (SUSPECT → PROSPECT) to the last step into WON. A count is null where it cannot be computed: no
 * average won amount, or a rate unknown or zero on the way (zero deals need nothing, though).
 * Throws PlanOutOfRange when a count would exceed 2^53 − 1.
 */
export function decompose(target: string, averageWonAmount: string | null, steps: readonly StepRate[]): Required[] {
  const targetCents = cents(target);
  const avg = averageWonAmount === null ? 0n : cents(averageWonAmount);
  let need: bigint | null = targetCents === 0n ? 0n : avg > 0n ? divCeil(targetCents, avg) : null;
  const check = (n: bigint | null) => {
    if (n !== null && n > MAX) throw new PlanOutOfRange('a stage would need more records than can be counted');
    return n;
  };
  const last = steps[steps.length - 1];
  const out: Required[] = [{ stageKey: last?.toStageKey ?? 'WON', count: toNumber(check(need)) }];
  for (let i = steps.length - 1; i >= 0; i--) {
    const step = steps[i] as StepRate;
    if (need !== null && need !== 0n) {
      const r = step.rate === null ? 0n : rateUnits(step.rate);
      need = r === 0n ? null : divCeil(need * 10_000n, r);
    }
    out.unshift({ stageKey: step.fromStageKey, count: toNumber(check(need)) });
  }
  return out;
}

const toNumber = (n: bigint | null): number | null => (n === null ? null : Number(n));

/**
 * A rate from a pipeline's stage probabilities when history is missing: the chance to win from a
 * stage is its probability, so the chance to get from `from` to `to` is p(from) ÷ p(to), at most 1.
 */
export function probabilityRate(fromProbability: number, toProbability: number): string | null {
  if (toProbability <= 0) return null;
  const units = Math.min(10_000, Math.floor((fromProbability * 10_000 * 2 + toProbability) / (2 * toProbability)));
  return `${Math.floor(units / 10_000)}.${String(units % 10_000).padStart(4, '0')}`;
}

/**
 * The rate for one step from measurements over scopes, narrowest first: the first whose sample
 * reaches `minSample`; otherwise `fallback` (the pipeline's probabilities), or — when there is none —
 * the widest scope that measured anything, marked below the minimum; otherwise NONE.
 */
export function chooseRate(
  step: { fromStageKey: string; toStageKey: string },
  measured: readonly { advanced: number; sample: number; source: RateSource; unitId: string | null }[],
  minSample: number,
  fallback: string | null | undefined,
): StepRate {
  const base = { fromStageKey: step.fromStageKey, toStageKey: step.toStageKey };
  const rateOf = (a: number, b: number) => {
    const units = Math.floor((a * 10_000 * 2 + b) / (2 * b));
    return `${Math.floor(units / 10_000)}.${String(units % 10_000).padStart(4, '0')}`;
  };
  const enough = measured.find((m) => m.sample >= minSample);
  if (enough) return { ...base, rate: rateOf(enough.advanced, enough.sample), sampleSize: enough.sample, source: enough.source, sourceUnitId: enough.unitId, belowMinimumSample: false };
  const widest = measured[measured.length - 1];
  const largest = Math.max(0, ...measured.map((m) => m.sample));
  if (fallback !== undefined) return { ...base, rate: fallback, sampleSize: largest, source: 'PIPELINE', sourceUnitId: null, belowMinimumSample: true };
  if (widest && widest.sample > 0) {
    return { ...base, rate: rateOf(widest.advanced, widest.sample), sampleSize: widest.sample, source: widest.source, sourceUnitId: widest.unitId, belowMinimumSample: true };
  }
  return { ...base, rate: null, sampleSize: 0, source: 'NONE', sourceUnitId: null, belowMinimumSample: true };
}
