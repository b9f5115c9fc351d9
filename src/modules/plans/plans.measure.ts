import type { Executor } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { fieldError } from '../../lib/errors.js';
import { DEFAULT_MIN_SAMPLE, findPipeline, type LifecycleCohort, measureLifecycle, measureSteps, measureWon, openStagesOf, type Pipeline, type StageStats, wonStageOf } from '../reports/index.js';
import { chooseRate, decompose, PlanOutOfRange, probabilityRate, type RateSource, type StepRate } from './decompose.js';
import type { DecomposeInput, DecompositionDto } from './plans.schemas.js';
import { type ChainUnit, plansRepository } from './plans.repository.js';

// Today's rates for a unit, measured within the caller's visibility, and the decomposition they give
// (docs/reports.md, "Plans"). Every number comes from records the caller can see: a wider scope only
// adds what the caller sees in it, and the chain of scopes stops where the caller's reach ends.

export const DEFAULT_PLAN_HISTORY_MONTHS = 12;
const LIFECYCLE = { suspect: 'SUSPECT', prospect: 'PROSPECT' } as const;

type Scope = { unitId: string; source: RateSource };
const scopesOf = (chain: ChainUnit[]): Scope[] => chain.map((u, i) => ({ unitId: u.id, source: u.parentId === null ? 'COMPANY' : i === 0 ? 'UNIT' : 'PARENT' }));

export type Measured = { rates: StepRate[]; averageWonAmount: string | null; averageWonAmountSampleSize: number; averageWonAmountSource: RateSource; since: Date; until: Date };

/** The unit's scope chain for the caller; a unit out of reach answers as an unknown one. */
export async function chainFor(ex: Executor, p: Principal, unitId: string, path = 'unitId'): Promise<ChainUnit[]> {
  const chain = await plansRepository.unitChain(ex, p, unitId, 'reports:read');
  if (chain.length === 0) throw fieldError('VALIDATION_FAILED', path, 'no such unit');
  return chain;
}

export async function measureRates(ex: Executor, p: Principal, chain: ChainUnit[], pl: Pipeline, currency: string, minSample: number, historyMonths: number, now: Date): Promise<Measured> {
  const until = now;
  const since = new Date(now);
  since.setUTCMonth(since.getUTCMonth() - historyMonths);
  const scopes = scopesOf(chain);
  const perScope: (Scope & { steps: Map<string, StageStats>; life: LifecycleCohort; won: { n: number; amount: string } })[] = [];
  for (const s of scopes) {
    const scope = { pipelineId: pl.id, ownerUnitId: s.unitId };
    perScope.push({
      ...s,
      steps: await measureSteps(ex, p, scope, pl, since, until),
      life: await measureLifecycle(ex, p, s.unitId, since, until),
      won: await measureWon(ex, p, scope, currency, since, until),
    });
  }
  const open = openStagesOf(pl);
  const won = wonStageOf(pl);
  const probability = new Map(pl.stages.map((s) => [s.key, s.probability]));
  const first = open[0]?.key ?? 'QUALIFICATION';
  const rates: StepRate[] = [
    chooseRate({ fromStageKey: LIFECYCLE.suspect, toStageKey: LIFECYCLE.prospect }, perScope.map((m) => ({ advanced: m.life.suspectsAdvanced, sample: m.life.suspects, source: m.source, unitId: m.unitId })), minSample, undefined),
    chooseRate({ fromStageKey: LIFECYCLE.prospect, toStageKey: first }, perScope.map((m) => ({ advanced: m.life.prospectsAdvanced, sample: m.life.prospects, source: m.source, unitId: m.unitId })), minSample, undefined),
    ...open.map((st, i) => {
      const to = open[i + 1]?.key ?? won?.key ?? 'WON';
      const measured = perScope.map((m) => {
        const x = m.steps.get(st.key);
        return { advanced: x?.advanced ?? 0, sample: (x?.advanced ?? 0) + (x?.lost ?? 0), source: m.source, unitId: m.unitId };
      });
      return chooseRate({ fromStageKey: st.key, toStageKey: to }, measured, minSample, probabilityRate(st.probability, probability.get(to) ?? 100));
    }),
  ];
  const enough = perScope.find((m) => m.won.n >= minSample) ?? [...perScope].reverse().find((m) => m.won.n > 0);
  const avg = enough ? averageOf(enough.won.amount, enough.won.n) : null;
  return {
    rates,
    averageWonAmount: avg,
    averageWonAmountSampleSize: enough?.won.n ?? 0,
    averageWonAmountSource: enough?.source ?? 'NONE',
    since,
    until,
  };
}

// The mean of n amounts summing to `total`, rounded half up to the cent.
function averageOf(total: string, n: number): string {
  const [i = '0', f = ''] = total.split('.');
  const c = BigInt(i) * 100n + BigInt(f.padEnd(2, '0').slice(0, 2));
  const avg = (c * 2n + BigInt(n)) / (2n * BigInt(n));
  return `${avg / 100n}.${String(avg % 100n).padStart(2, '0')}`;
}

/** The decomposition of a target for a unit with the rates measured now. */
export async function decomposeNow(ex: Executor, p: Principal, input: DecomposeInput, now: Date): Promise<DecompositionDto> {
  const chain = await chainFor(ex, p, input.unitId);
  const pl = await findPipeline(ex, input.pipelineId);
  const minSample = input.minSample ?? DEFAULT_MIN_SAMPLE;
  const historyMonths = input.historyMonths ?? DEFAULT_PLAN_HISTORY_MONTHS;
  const m = await measureRates(ex, p, chain, pl, input.target.currency, minSample, historyMonths, now);
  let required;
  try {
    required = decompose(input.target.amount, m.averageWonAmount, m.rates);
  } catch (e) {
    if (e instanceof PlanOutOfRange) throw fieldError('VALIDATION_FAILED', 'target.amount', 'too large for the measured rates: a stage would need more records than can be counted');
    throw e;
  }
  const target = { amount: canonical(input.target.amount), currency: input.target.currency };
  return {
    unitId: input.unitId,
    pipelineId: pl.id,
    periodStart: input.periodStart,
    periodEnd: input.periodEnd,
    target,
    averageWonAmount: m.averageWonAmount,
    averageWonAmountSampleSize: m.averageWonAmountSampleSize,
    averageWonAmountSource: m.averageWonAmountSource,
    wonNeeded: required[required.length - 1]?.count ?? null,
    required,
    rates: m.rates,
    minSample,
    historyMonths,
    measuredFrom: m.since.toISOString(),
    measuredTo: m.until.toISOString(),
  };
}

/** "1500" → "1500.00". */
export function canonical(amount: string): string {
  const [i = '0', f = ''] = amount.split('.');
  return `${BigInt(i)}.${f.padEnd(2, '0').slice(0, 2)}`;
}
