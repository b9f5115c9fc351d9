import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { type GroupBy, type OpportunityScope, opportunityCte, periodMovesCte, stageCte } from './report-scope.js';

// Conversion from the stage transition history (docs/reports.md, "Conversion"). An opportunity's
// history is a list of stage entries: the stage it was created in, then one entry per transition.
// It has "reached" an open stage S once it entered S or any stage beyond it (a skipped stage counts as
// passed; WON is beyond every open stage). Counted per opportunity, never per visit: a move back and
// a re-entry count once. Outcomes are judged by the end of the period.

export type StepRow = {
  g: string | null;
  key: string;
  position: number;
  // Reached S within the period.
  entered: number;
  // ... and reached a stage beyond S by the period's end.
  advanced: number;
  // ... did not, and stood LOST at the period's end.
  lost: number;
  // ... and stood WON / WON or LOST at the period's end.
  won: number;
  decided: number;
};

export type TimeRow = { g: string | null; key: string; n: number; mean_seconds: number | null; median_seconds: number | null };
export type MovesRow = { g: string | null; backward: number; reopened: number };
export type ClosedRow = { g: string | null; won: number; lost: number; cycle_seconds: number | null; won_amount: string };

const num = (v: unknown): number => Number(v ?? 0);
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

export const conversionRepository = {
  /**
   * `decidedOnly` walks only the deals that may stand WON or LOST at `to` (opportunityCte): exact for
   * `won` and `decided`, the only counts a forecast's stage rates read; the other counts then cover
   * those deals only.
   */
  async steps(ex: Executor, p: Principal, s: OpportunityScope, g: GroupBy | undefined, from: Date, to: Date, o: { decidedOnly?: boolean } = {}): Promise<StepRow[]> {
    const rows = await queryRows<Record<string, unknown>>(
      ex,
      sql`WITH ${opportunityCte(p, s, g, to, { activeSince: from, decidedOnly: o.decidedOnly ?? false })}, ${stageCte(s.pipelineId)},
        -- The transitions (before the period's end) of these opportunities.
        tr AS (
          SELECT opp.id, opp.g, st.at, stg.rank, stg.outcome
          FROM stage_transitions st JOIN opp ON opp.id = st.opportunity_id JOIN stg ON stg.id = st.to_stage_id
          WHERE st.at < ${to.toISOString()}::timestamptz
        ),
        -- The entries of the deals that moved: the stage each was created in (stored on it), then its transitions.
        ev AS (
          SELECT opp.id, opp.g, opp.created_at AS at, 0 AS seq, stg.rank, stg.outcome
          FROM opp JOIN stg ON stg.id = opp.created_stage_id
          WHERE EXISTS (SELECT 1 FROM tr WHERE tr.id = opp.id)
          UNION ALL
          SELECT tr.id, tr.g, tr.at, 1, tr.rank, tr.outcome FROM tr
        ),
        -- A deal that did not move before the period's end has one entry, its creation: it reached the
        -- open stages up to its created stage then, stands there, and needs no walk. Counted per group
        -- and created stage (most deals never move).
        still AS (
          SELECT opp.g, stg.rank, stg.outcome, count(*) AS n
          FROM opp JOIN stg ON stg.id = opp.created_stage_id
          WHERE opp.created_at >= ${from.toISOString()}::timestamptz AND NOT EXISTS (SELECT 1 FROM tr WHERE tr.id = opp.id)
          GROUP BY 1, 2, 3
        ),
        -- Walked once in order per opportunity: the highest rank reached before each entry, the highest
        -- overall, and the outcome it stands at by the period's end. An entry first reaches the open
        -- stages above everything before it and up to its own rank: one row per stage reached.
        -- Materialized: joined to the few open stages, the walk is done once and its rows rescanned,
        -- rather than the windows recomputed for every open stage.
        run AS MATERIALIZED (
          SELECT ev.id, ev.g, ev.at, ev.rank,
            max(ev.rank) OVER (PARTITION BY ev.id ORDER BY ev.at, ev.seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before,
            max(ev.rank) OVER whole AS top,
            last_value(ev.outcome) OVER whole AS outcome
          FROM ev
          WINDOW whole AS (PARTITION BY ev.id ORDER BY ev.at, ev.seq ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
        )
        SELECT g, key, position, sum(entered) AS entered, sum(advanced) AS advanced, sum(lost) AS lost, sum(won) AS won, sum(decided) AS decided
        FROM (
          SELECT run.g, os.key, os.position, count(*) AS entered,
            count(*) FILTER (WHERE run.top > os.position) AS advanced,
            count(*) FILTER (WHERE NOT COALESCE(run.top > os.position, false) AND run.outcome = 'LOST') AS lost,
            count(*) FILTER (WHERE run.outcome = 'WON') AS won,
            count(*) FILTER (WHERE run.outcome IN ('WON', 'LOST')) AS decided
          FROM run CROSS JOIN LATERAL (SELECT key, position FROM stg
            WHERE stg.outcome IS NULL AND stg.position <= run.rank AND (run.before IS NULL OR stg.position > run.before)) os
          WHERE run.at >= ${from.toISOString()}::timestamptz AND run.at < ${to.toISOString()}::timestamptz
          GROUP BY 1, 2, 3
          UNION ALL
          SELECT still.g, os.key, os.position, sum(still.n),
            COALESCE(sum(still.n) FILTER (WHERE still.rank > os.position), 0),
            COALESCE(sum(still.n) FILTER (WHERE NOT COALESCE(still.rank > os.position, false) AND still.outcome = 'LOST'), 0),
            COALESCE(sum(still.n) FILTER (WHERE still.outcome = 'WON'), 0),
            COALESCE(sum(still.n) FILTER (WHERE still.outcome IN ('WON', 'LOST')), 0)
          FROM still JOIN stg os ON os.outcome IS NULL AND os.position <= still.rank
          GROUP BY 1, 2, 3
        ) x
        GROUP BY 1, 2, 3
        ORDER BY 1 NULLS FIRST, 3`,
    );
    return rows.map((r) => ({
      g: (r.g as string | null) ?? null,
      key: String(r.key),
      position: num(r.position),
      entered: num(r.entered),
      advanced: num(r.advanced),
      lost: num(r.lost),
      won: num(r.won),
      decided: num(r.decided),
    }));
  },

  /** Time spent in each open stage by the moves out of it made within the period. */
  async timeInStage(ex: Executor, p: Principal, s: OpportunityScope, g: GroupBy | undefined, from: Date, to: Date): Promise<TimeRow[]> {
    const rows = await queryRows<Record<string, unknown>>(
      ex,
      sql`WITH ${periodMovesCte(p, s, g, from, to)}, ${stageCte(s.pipelineId)}
        SELECT mv.g, fs.key, count(*) AS n, avg(mv.seconds_in_from_stage)::float8 AS mean_seconds,
          percentile_cont(0.5) WITHIN GROUP (ORDER BY mv.seconds_in_from_stage) AS median_seconds
        FROM mv JOIN stg fs ON fs.id = mv.from_stage_id
        WHERE fs.outcome IS NULL AND mv.seconds_in_from_stage IS NOT NULL
        GROUP BY 1, 2`,
    );
    return rows.map((r) => ({ g: (r.g as string | null) ?? null, key: String(r.key), n: num(r.n), mean_seconds: numOrNull(r.mean_seconds), median_seconds: numOrNull(r.median_seconds) }));
  },

  /** Moves back (to an earlier open stage) and reopenings (out of WON or LOST) made within the period. */
  async moves(ex: Executor, p: Principal, s: OpportunityScope, g: GroupBy | undefined, from: Date, to: Date): Promise<MovesRow[]> {
    const rows = await queryRows<Record<string, unknown>>(
      ex,
      sql`WITH ${periodMovesCte(p, s, g, from, to)}, ${stageCte(s.pipelineId)}
        SELECT mv.g,
          count(*) FILTER (WHERE fs.outcome IS NULL AND ts.outcome IS NULL AND ts.position < fs.position) AS backward,
          count(*) FILTER (WHERE fs.outcome IS NOT NULL) AS reopened
        FROM mv JOIN stg fs ON fs.id = mv.from_stage_id JOIN stg ts ON ts.id = mv.to_stage_id
        GROUP BY 1`,
    );
    return rows.map((r) => ({ g: (r.g as string | null) ?? null, backward: num(r.backward), reopened: num(r.reopened) }));
  },

  /** Deals that stand WON or LOST now and were (last) closed within the period; cycle = creation to close. */
  async closed(ex: Executor, p: Principal, s: OpportunityScope, g: GroupBy | undefined, from: Date, to: Date, currency: string): Promise<ClosedRow[]> {
    const rows = await queryRows<Record<string, unknown>>(
      ex,
      sql`WITH ${opportunityCte(p, s, g, to)}
        SELECT opp.g, count(*) FILTER (WHERE opp.status = 'WON') AS won, count(*) FILTER (WHERE opp.status = 'LOST') AS lost,
          avg(extract(epoch FROM opp.closed_at - opp.created_at)) FILTER (WHERE opp.status = 'WON')::float8 AS cycle_seconds,
          round(COALESCE(sum(opp.amount) FILTER (WHERE opp.status = 'WON' AND opp.currency = ${currency}), 0), 2)::text AS won_amount
        FROM opp
        WHERE opp.status IN ('WON', 'LOST') AND opp.closed_at >= ${from.toISOString()}::timestamptz AND opp.closed_at < ${to.toISOString()}::timestamptz
        GROUP BY 1`,
    );
    return rows.map((r) => ({ g: (r.g as string | null) ?? null, won: num(r.won), lost: num(r.lost), cycle_seconds: numOrNull(r.cycle_seconds), won_amount: String(r.won_amount) }));
  },
};
