import type { Database, Executor } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { fieldError } from '../../lib/errors.js';
import { activityRepository } from './activity.repository.js';
import { conversionRepository, type StepRow } from './conversion.repository.js';
import { applyRate, cents, days, money, rateOf } from './numbers.js';
import { pipelineRepository, type StageInfo } from './pipeline.repository.js';
import { inReportSession } from './report-session.js';
import type {
  ConversionDto,
  ConversionQuery,
  FunnelDto,
  FunnelQuery,
  ForecastDto,
  ForecastQuery,
  PerformanceDto,
  PerformanceQuery,
} from './pipeline-reports.schemas.js';
import { DEFAULT_MIN_SAMPLE } from './pipeline-reports.schemas.js';
import type { GroupBy, OpportunityScope } from './report-scope.js';

export const DEFAULT_PERIOD_DAYS = 90;
export const DEFAULT_CURRENCY = 'EUR';
export const DEFAULT_HISTORY_MONTHS = 12;
export const MAX_FORECAST_MONTHS = 36;

type Group = { key: string | null; name: string | null } | null;
export type Pipeline = { id: string; name: string; stages: StageInfo[] };
export type StageStats = Omit<StepRow, 'g'>;

export const openStagesOf = (pl: Pipeline): StageInfo[] => pl.stages.filter((s) => !s.terminal);
export const wonStageOf = (pl: Pipeline): StageInfo | undefined => pl.stages.find((s) => s.outcome === 'WON');

export async function findPipeline(ex: Executor, id: string | undefined, path = 'pipelineId'): Promise<Pipeline> {
  const pl = await pipelineRepository.pipeline(ex, id);
  if (!pl) throw fieldError('VALIDATION_FAILED', path, id ? 'no such pipeline' : 'there is no default pipeline');
  return pl;
}

/** Per open stage of the pipeline: the conversion counts of opportunities that reached it within [from, to). */
export async function measureSteps(ex: Executor, p: Principal, s: OpportunityScope, pl: Pipeline, from: Date, to: Date): Promise<Map<string, StageStats>> {
  const rows = await conversionRepository.steps(ex, p, s, undefined, from, to);
  const zero = (st: StageInfo): StageStats => ({ key: st.key, position: st.position, entered: 0, advanced: 0, lost: 0, won: 0, decided: 0 });
  const byKey = new Map(rows.map(({ g: _g, ...r }) => [r.key, r]));
  return new Map(openStagesOf(pl).map((st) => [st.key, byKey.get(st.key) ?? zero(st)]));
}

/**
 * Per open stage: how many of the opportunities that reached it within [from, to) stood WON, and WON
 * or LOST, at `to` (the forecast's stage rates). Walks only the deals that may be decided at `to`.
 */
export async function measureDecided(ex: Executor, p: Principal, s: OpportunityScope, pl: Pipeline, from: Date, to: Date): Promise<Map<string, { won: number; decided: number }>> {
  const rows = await conversionRepository.steps(ex, p, s, undefined, from, to, { decidedOnly: true });
  const byKey = new Map(rows.map((r) => [r.key, { won: r.won, decided: r.decided }]));
  return new Map(openStagesOf(pl).map((st) => [st.key, byKey.get(st.key) ?? { won: 0, decided: 0 }]));
}

function period(q: { from?: Date | undefined; to?: Date | undefined }): { from: Date; to: Date } {
  const to = q.to ?? new Date();
  const from = q.from ?? new Date(to.getTime() - DEFAULT_PERIOD_DAYS * 86_400_000);
  if (from.getTime() > to.getTime()) throw fieldError('VALIDATION_FAILED', 'from', 'must not be after to');
  return { from, to };
}

const scopeOf = (q: { ownerUnitId?: string | undefined; ownerUserId?: string | undefined; source?: string | undefined }, pipelineId: string): OpportunityScope => ({
  pipelineId,
  ownerUnitId: q.ownerUnitId,
  ownerUserId: q.ownerUserId,
  source: q.source,
});

// Groups in a stable order: by name, the null group (no group, the company's own staff, no owner) first.
async function groupsOf(ex: Executor, g: GroupBy | undefined, keys: Iterable<string | null>): Promise<Map<string | null, Group>> {
  const distinct = [...new Set(keys)];
  if (!g) return new Map([[null, null]]);
  const names = await pipelineRepository.groupNames(ex, g, distinct.filter((k): k is string => k !== null));
  const out = distinct.map((k): [string | null, Group] => [k, { key: k, name: k === null ? null : (names.get(k) ?? null) }]);
  out.sort(([a, ga], [b, gb]) => (a === null ? -1 : b === null ? 1 : (ga?.name ?? '').localeCompare(gb?.name ?? '') || a.localeCompare(b)));
  return new Map(out);
}

const monthStart = (m: string): Date => new Date(`${m}-01T00:00:00Z`);
const nextMonth = (m: string): string => {
  const d = monthStart(m);
  d.setUTCMonth(d.getUTCMonth() + 1);
  return d.toISOString().slice(0, 7);
};
const monthsBetween = (from: string, to: string): string[] => {
  const out: string[] = [];
  for (let m = from; m <= to && out.length <= MAX_FORECAST_MONTHS; m = nextMonth(m)) out.push(m);
  return out;
};

export function createPipelineReportService(database: Database) {
  const { db } = database;
  return {
    async funnel(p: Principal, q: FunnelQuery): Promise<FunnelDto> {
      requirePermission(p, 'reports:read');
      return inReportSession(db, async (ex) => {
        const pl = await findPipeline(ex, q.pipelineId);
        const currency = q.currency ?? DEFAULT_CURRENCY;
        const rows = await pipelineRepository.funnel(ex, p, scopeOf(q, pl.id), q.groupBy, currency, { from: q.expectedCloseFrom, to: q.expectedCloseTo });
        const groups = await groupsOf(ex, q.groupBy, rows.map((r) => r.g));
        return {
          pipelineId: pl.id,
          currency,
          groupBy: q.groupBy ?? null,
          groups: [...groups].map(([key, group]) => {
            const stages = openStagesOf(pl).map((st) => {
              const r = rows.find((x) => x.g === key && x.key === st.key);
              return {
                stageId: st.id,
                stageKey: st.key,
                stageName: st.name,
                probability: st.probability,
                count: r?.n ?? 0,
                amount: r?.amount ?? '0.00',
                weightedAmount: r?.weighted ?? '0.00',
                unpricedCount: r?.unpriced ?? 0,
                otherCurrencyCount: r?.other_currency ?? 0,
              };
            });
            const sum = (k: 'count' | 'unpricedCount' | 'otherCurrencyCount') => stages.reduce((n, s) => n + s[k], 0);
            const sumMoney = (k: 'amount' | 'weightedAmount') => money(stages.reduce((n, s) => n + cents(s[k]), 0n));
            return {
              group,
              stages,
              totals: { count: sum('count'), amount: sumMoney('amount'), weightedAmount: sumMoney('weightedAmount'), unpricedCount: sum('unpricedCount'), otherCurrencyCount: sum('otherCurrencyCount') },
            };
          }),
        };
      });
    },

    async conversion(p: Principal, q: ConversionQuery): Promise<ConversionDto> {
      requirePermission(p, 'reports:read');
      const { from, to } = period(q);
      return inReportSession(db, async (ex) => {
        const pl = await findPipeline(ex, q.pipelineId);
        const s = scopeOf(q, pl.id);
        const g = q.groupBy;
        const [steps, times, moves, closed] = [
          await conversionRepository.steps(ex, p, s, g, from, to),
          await conversionRepository.timeInStage(ex, p, s, g, from, to),
          await conversionRepository.moves(ex, p, s, g, from, to),
          await conversionRepository.closed(ex, p, s, g, from, to, q.currency ?? DEFAULT_CURRENCY),
        ];
        const groups = await groupsOf(ex, g, [...steps, ...times, ...moves, ...closed].map((r) => r.g));
        const open = openStagesOf(pl);
        const won = wonStageOf(pl);
        return {
          pipelineId: pl.id,
          from: from.toISOString(),
          to: to.toISOString(),
          groupBy: g ?? null,
          groups: [...groups].map(([key, group]) => {
            const c = closed.find((r) => r.g === key);
            const m = moves.find((r) => r.g === key);
            return {
              group,
              steps: open.map((st, i) => {
                const r = steps.find((x) => x.g === key && x.key === st.key);
                const t = times.find((x) => x.g === key && x.key === st.key);
                const entered = r?.entered ?? 0;
                const advanced = r?.advanced ?? 0;
                const lost = r?.lost ?? 0;
                return {
                  fromStageKey: st.key,
                  toStageKey: open[i + 1]?.key ?? won?.key ?? 'WON',
                  entered,
                  advanced,
                  lost,
                  open: entered - advanced - lost,
                  conversionRate: advanced + lost > 0 ? rateOf(advanced, advanced + lost) : null,
                  sampleSize: advanced + lost,
                  wonByEnd: r?.won ?? 0,
                  winRateFromStage: r && r.decided > 0 ? rateOf(r.won, r.decided) : null,
                  meanDaysInStage: days(t?.mean_seconds ?? null),
                  medianDaysInStage: days(t?.median_seconds ?? null),
                  timeSampleSize: t?.n ?? 0,
                };
              }),
              wonCount: c?.won ?? 0,
              lostCount: c?.lost ?? 0,
              winRate: c && c.won + c.lost > 0 ? rateOf(c.won, c.won + c.lost) : null,
              meanCycleDays: days(c?.cycle_seconds ?? null),
              backwardMoves: m?.backward ?? 0,
              reopenings: m?.reopened ?? 0,
            };
          }),
        };
      });
    },

    async forecast(p: Principal, q: ForecastQuery): Promise<ForecastDto> {
      requirePermission(p, 'reports:read');
      const now = new Date();
      const fromMonth = q.from ?? now.toISOString().slice(0, 7);
      let toMonth = q.to;
      if (!toMonth) toMonth = nextMonth(nextMonth(fromMonth));
      if (fromMonth > toMonth) throw fieldError('VALIDATION_FAILED', 'from', 'must not be after to');
      const months = monthsBetween(fromMonth, toMonth);
      if (months.length > MAX_FORECAST_MONTHS) throw fieldError('VALIDATION_FAILED', 'to', `at most ${MAX_FORECAST_MONTHS} months from from`);
      return inReportSession(db, async (ex) => {
        const pl = await findPipeline(ex, q.pipelineId);
        const s = scopeOf(q, pl.id);
        const currency = q.currency ?? DEFAULT_CURRENCY;
        // By default the last open stage (the highest probability short of WON) is the commit stage.
        const commitProbability = q.commitProbability ?? Math.max(0, ...openStagesOf(pl).map((st) => st.probability));
        const minSample = q.minSample ?? DEFAULT_MIN_SAMPLE;
        const since = new Date(now);
        since.setUTCMonth(since.getUTCMonth() - (q.historyMonths ?? DEFAULT_HISTORY_MONTHS));
        const measured = await measureDecided(ex, p, s, pl, since, now);
        const stageRates = openStagesOf(pl).map((st) => {
          const m = measured.get(st.key);
          const decided = m?.decided ?? 0;
          return decided >= minSample && m
            ? { stageKey: st.key, rate: rateOf(m.won, decided), sampleSize: decided, source: 'HISTORY' as const }
            : { stageKey: st.key, rate: rateOf(st.probability, 100), sampleSize: decided, source: 'PIPELINE' as const };
        });
        const endMonth = nextMonth(toMonth);
        const g = q.groupBy;
        const open = await pipelineRepository.openByMonth(ex, p, s, g, currency, `${fromMonth}-01`, `${endMonth}-01`);
        const booked = await pipelineRepository.wonByMonth(ex, p, s, g, currency, monthStart(fromMonth), monthStart(endMonth));
        const undated = await pipelineRepository.undated(ex, p, s, g);
        const probability = new Map(pl.stages.map((st) => [st.key, st.probability]));
        const rateFor = new Map(stageRates.map((r) => [r.stageKey, r.rate]));
        const cells = (rows: typeof open, won: typeof booked) => {
          let weighted = 0n;
          let history = 0n;
          let commitOpen = 0n;
          let all = 0n;
          for (const r of rows) {
            const a = cents(r.amount);
            const prob = probability.get(r.key) ?? 0;
            weighted += applyRate(a, rateOf(prob, 100));
            history += applyRate(a, rateFor.get(r.key) ?? '0.0000');
            if (prob >= commitProbability) commitOpen += a;
            all += a;
          }
          const wonCents = won.reduce((n, r) => n + cents(r.amount), 0n);
          return {
            openCount: rows.reduce((n, r) => n + r.n, 0),
            weighted: money(weighted),
            historyBased: money(history),
            commit: money(wonCents + commitOpen),
            bestCase: money(wonCents + all),
            won: money(wonCents),
            wonCount: won.reduce((n, r) => n + r.n, 0),
            unpricedCount: rows.reduce((n, r) => n + r.unpriced, 0),
            otherCurrencyCount: rows.reduce((n, r) => n + r.other_currency, 0),
          };
        };
        const perMonth = (rows: typeof open, won: typeof booked) => months.map((m) => ({ month: m, ...cells(rows.filter((r) => r.month === m), won.filter((r) => r.month === m)) }));
        // Groups split the pipeline, not the measurement: every group is forecast with the scope's rates,
        // so the groups add up to the totals (docs/reports.md, "Forecast").
        const groups = await groupsOf(ex, g, [...open.map((r) => r.g), ...booked.map((r) => r.g), ...undated.map((r) => r.g)]);
        return {
          pipelineId: pl.id,
          currency,
          from: fromMonth,
          to: toMonth,
          commitProbability,
          stageRates,
          months: perMonth(open, booked),
          totals: cells(open, booked),
          undatedCount: undated.reduce((n, r) => n + r.n, 0),
          groupBy: g ?? null,
          groups: [...groups].map(([key, group]) => {
            const mine = <T extends { g: string | null }>(rows: T[]) => (g ? rows.filter((r) => r.g === key) : rows);
            return { group, months: perMonth(mine(open), mine(booked)), totals: cells(mine(open), mine(booked)), undatedCount: mine(undated).reduce((n, r) => n + r.n, 0) };
          }),
        };
      });
    },

    async salesPerformance(p: Principal, q: PerformanceQuery): Promise<PerformanceDto> {
      requirePermission(p, 'reports:read');
      const { from, to } = period(q);
      return inReportSession(db, async (ex) => {
        const pl = await findPipeline(ex, q.pipelineId);
        const s = scopeOf(q, pl.id);
        const g = q.groupBy ?? 'user';
        const currency = q.currency ?? DEFAULT_CURRENCY;
        const closed = await conversionRepository.closed(ex, p, s, g, from, to, currency);
        const created = await activityRepository.created(ex, p, s, g, from, to);
        // Activity is people's work, not deals': a source filter does not apply to it.
        const interactions = q.source ? [] : await activityRepository.interactions(ex, p, g, from, to, q.ownerUnitId, q.ownerUserId);
        const actions = q.source ? [] : await activityRepository.actionsDone(ex, p, g, from, to, q.ownerUnitId, q.ownerUserId);
        const groups = await groupsOf(ex, g, [...closed, ...created, ...interactions, ...actions].map((r) => r.g));
        return {
          pipelineId: pl.id,
          currency,
          from: from.toISOString(),
          to: to.toISOString(),
          groupBy: g,
          rows: [...groups].map(([key, group]) => {
            const c = closed.find((r) => r.g === key);
            const n = created.find((r) => r.g === key);
            return {
              group,
              created: n?.created ?? 0,
              won: c?.won ?? 0,
              lost: c?.lost ?? 0,
              wonAmount: c?.won_amount ?? '0.00',
              winRate: c && c.won + c.lost > 0 ? rateOf(c.won, c.won + c.lost) : null,
              conversionRate: n && n.created > 0 ? rateOf(n.created_won, n.created) : null,
              meanCycleDays: days(c?.cycle_seconds ?? null),
              interactions: interactions.find((r) => r.g === key)?.n ?? 0,
              actionsDone: actions.find((r) => r.g === key)?.n ?? 0,
            };
          }),
        };
      });
    },
  };
}

export type PipelineReportService = ReturnType<typeof createPipelineReportService>;
