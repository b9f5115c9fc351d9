import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { customerActive, type GroupBy, type OpportunityScope, opportunityFilter, opportunityGroup, opportunitySource } from './report-scope.js';

// The open pipeline as it stands (funnel, forecast), the pipeline's stages, and the names of groups.

export type StageInfo = { id: string; key: string; name: string; position: number; probability: number; terminal: boolean; outcome: string | null };
export type FunnelRow = { g: string | null; key: string; n: number; amount: string; weighted: string; unpriced: number; other_currency: number };
export type ForecastRow = { g: string | null; month: string; key: string; n: number; amount: string; unpriced: number; other_currency: number };
export type BookedRow = { g: string | null; month: string; n: number; amount: string };

const num = (v: unknown): number => Number(v ?? 0);

// Open deals of active customers: frozen customers stop polluting the pipeline (docs/reports.md).
const openDeals = (p: Principal, s: OpportunityScope) => sql`opportunities.status = 'OPEN' AND ${customerActive} AND ${opportunityFilter(p, s)}`;

export const pipelineRepository = {
  /** The pipeline (the default one when no id is given) and its stages in order; null when there is none. */
  async pipeline(ex: Executor, id: string | undefined): Promise<{ id: string; name: string; stages: StageInfo[] } | null> {
    const [pl] = await queryRows<{ id: string; name: string }>(
      ex,
      id ? sql`SELECT id, name FROM pipelines WHERE id = ${id}::uuid` : sql`SELECT id, name FROM pipelines WHERE is_default LIMIT 1`,
    );
    if (!pl) return null;
    const stages = await queryRows<StageInfo>(
      ex,
      sql`SELECT id, key, name, position, probability, terminal, outcome FROM pipeline_stages WHERE pipeline_id = ${pl.id}::uuid ORDER BY position`,
    );
    return { ...pl, stages: stages.map((s) => ({ ...s, position: num(s.position), probability: num(s.probability) })) };
  },

  async funnel(ex: Executor, p: Principal, s: OpportunityScope, g: GroupBy | undefined, currency: string, close: { from?: string | undefined; to?: string | undefined }): Promise<FunnelRow[]> {
    const closeFrom = close.from ? sql` AND opportunities.expected_close_date >= ${close.from}::date` : sql``;
    const closeTo = close.to ? sql` AND opportunities.expected_close_date <= ${close.to}::date` : sql``;
    const rows = await queryRows<Record<string, unknown>>(
      ex,
      sql`SELECT ${opportunityGroup(g)} AS g, ps.key, count(*) AS n,
          round(COALESCE(sum(opportunities.amount) FILTER (WHERE opportunities.currency = ${currency}), 0), 2)::text AS amount,
          round(COALESCE(sum(opportunities.amount * ps.probability) FILTER (WHERE opportunities.currency = ${currency}), 0) / 100, 2)::text AS weighted,
          count(*) FILTER (WHERE opportunities.amount IS NULL) AS unpriced,
          count(*) FILTER (WHERE opportunities.amount IS NOT NULL AND opportunities.currency IS DISTINCT FROM ${currency}) AS other_currency
        FROM ${opportunitySource(s, g)} JOIN pipeline_stages ps ON ps.id = opportunities.stage_id
        WHERE ${openDeals(p, s)}${closeFrom}${closeTo}
        GROUP BY 1, 2`,
    );
    return rows.map((r) => ({
      g: (r.g as string | null) ?? null,
      key: String(r.key),
      n: num(r.n),
      amount: String(r.amount),
      weighted: String(r.weighted),
      unpriced: num(r.unpriced),
      other_currency: num(r.other_currency),
    }));
  },

  /** Open deals per group, month of expected close (UTC) and stage, within [fromDay, toDay). */
  async openByMonth(ex: Executor, p: Principal, s: OpportunityScope, g: GroupBy | undefined, currency: string, fromDay: string, toDay: string): Promise<ForecastRow[]> {
    const rows = await queryRows<Record<string, unknown>>(
      ex,
      sql`SELECT ${opportunityGroup(g)} AS g, to_char(opportunities.expected_close_date, 'YYYY-MM') AS month, ps.key, count(*) AS n,
          round(COALESCE(sum(opportunities.amount) FILTER (WHERE opportunities.currency = ${currency}), 0), 2)::text AS amount,
          count(*) FILTER (WHERE opportunities.amount IS NULL) AS unpriced,
          count(*) FILTER (WHERE opportunities.amount IS NOT NULL AND opportunities.currency IS DISTINCT FROM ${currency}) AS other_currency
        FROM ${opportunitySource(s, g)} JOIN pipeline_stages ps ON ps.id = opportunities.stage_id
        WHERE ${openDeals(p, s)} AND opportunities.expected_close_date >= ${fromDay}::date AND opportunities.expected_close_date < ${toDay}::date
        GROUP BY 1, 2, 3`,
    );
    return rows.map((r) => ({ g: (r.g as string | null) ?? null, month: String(r.month), key: String(r.key), n: num(r.n), amount: String(r.amount), unpriced: num(r.unpriced), other_currency: num(r.other_currency) }));
  },

  /** Open deals of the scope without an expected close date, per group: they belong to no month. */
  async undated(ex: Executor, p: Principal, s: OpportunityScope, g: GroupBy | undefined): Promise<{ g: string | null; n: number }[]> {
    const rows = await queryRows<{ g: string | null; n: string }>(
      ex,
      sql`SELECT ${opportunityGroup(g)} AS g, count(*) AS n FROM ${opportunitySource(s, g)}
        WHERE ${openDeals(p, s)} AND opportunities.expected_close_date IS NULL GROUP BY 1`,
    );
    return rows.map((r) => ({ g: r.g ?? null, n: num(r.n) }));
  },

  /** Deals standing WON now, per group and month (UTC) of closing, within [from, to), in the currency. */
  async wonByMonth(ex: Executor, p: Principal, s: OpportunityScope, g: GroupBy | undefined, currency: string, from: Date, to: Date): Promise<BookedRow[]> {
    const rows = await queryRows<Record<string, unknown>>(
      ex,
      sql`SELECT ${opportunityGroup(g)} AS g, to_char(opportunities.closed_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, count(*) AS n, round(sum(opportunities.amount), 2)::text AS amount
        FROM ${opportunitySource(s, g)}
        WHERE opportunities.status = 'WON' AND opportunities.currency = ${currency} AND ${opportunityFilter(p, s)}
          AND opportunities.closed_at >= ${from.toISOString()}::timestamptz AND opportunities.closed_at < ${to.toISOString()}::timestamptz
        GROUP BY 1, 2`,
    );
    return rows.map((r) => ({ g: (r.g as string | null) ?? null, month: String(r.month), n: num(r.n), amount: String(r.amount) }));
  },

  /** Deals standing WON now, closed within [from, to), in the currency: how many and their sum. */
  async wonTotals(ex: Executor, p: Principal, s: OpportunityScope, currency: string, from: Date, to: Date): Promise<{ n: number; amount: string }> {
    const [r] = await queryRows<{ n: string; amount: string }>(
      ex,
      sql`SELECT count(*) AS n, round(COALESCE(sum(opportunities.amount), 0), 2)::text AS amount
        FROM ${opportunitySource(s, undefined)}
        WHERE opportunities.status = 'WON' AND opportunities.currency = ${currency} AND ${opportunityFilter(p, s)}
          AND opportunities.closed_at >= ${from.toISOString()}::timestamptz AND opportunities.closed_at < ${to.toISOString()}::timestamptz`,
    );
    return { n: num(r?.n), amount: r?.amount ?? '0.00' };
  },

  /** Names of the groups a report found: units (unit, partner), users, or the channel itself (source). */
  async groupNames(ex: Executor, g: GroupBy, keys: string[]): Promise<Map<string, string>> {
    const ids = keys.filter((k) => /^[0-9a-f-]{36}$/.test(k));
    if (g === 'source' || ids.length === 0) return new Map(keys.map((k) => [k, k]));
    const table = g === 'user' ? sql`users` : sql`org_units`;
    const rows = await queryRows<{ id: string; name: string }>(ex, sql`SELECT id::text, name FROM ${table} WHERE id = ANY(${sql.param(ids)}::uuid[])`);
    return new Map(rows.map((r) => [r.id, r.name]));
  },
};
