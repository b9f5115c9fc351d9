import { and, desc, eq, type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { customerCosts, customers, customerValueHistory, customerValues, referenceEffects, valueModels, valueRuns } from '../../db/schema/index.js';
import { access, type Principal } from '../../lib/access.js';
import { countRows, keyset, updatedAfterCondition } from '../../lib/pagination.js';
import type { ValueModelConfig } from './scoring.js';
import type { Model } from './value.recompute.js';
import type { CostSort } from './value.schemas.js';

export type CostRow = typeof customerCosts.$inferSelect;
export type ValueRow = typeof customerValues.$inferSelect;
export type HistoryRow = typeof customerValueHistory.$inferSelect;

// A lock key of its own (two-key advisory space): one full recomputation at a time, across instances.
const RUN_LOCK = [4243, 1] as const;

// The column of each costs sort: a cost is never changed, so its last change is its recording.
const COST_COLUMNS = { incurredAt: customerCosts.incurredAt, createdAt: customerCosts.createdAt, updatedAt: customerCosts.createdAt } as const;
export const costSortValue = (r: CostRow, field: CostSort): Date => (field === 'incurredAt' ? r.incurredAt : r.createdAt);

// The list's where-builder, for its pages and its count: the customer's costs, recorded after `updatedAfter`.
const costConditions = (customerId: string, updatedAfter: string | undefined) =>
  and(eq(customerCosts.customerId, customerId), updatedAfterCondition(customerCosts.createdAt, updatedAfter));

export const valueRepository = {
  /** The customers a recomputation covers (a SELECT of ids): these, or all. */
  targetOf(ids: readonly string[] | 'all'): SQL | 'all' {
    if (ids === 'all') return 'all';
    return sql`SELECT unnest(${sql.param([...ids])}::uuid[])`;
  },

  /** The customer if visible, with whether `permission` also allows acting on it; locked for update when asked. */
  async customerFor(ex: Executor, p: Principal, id: string, permission: string, lock = false) {
    const q = ex
      .select({
        id: customers.id,
        name: customers.name,
        status: customers.status,
        ownerUserId: customers.ownerUserId,
        ownerUnitId: customers.ownerUnitId,
        allowed: sql<boolean>`(${access.customer.allows(p, permission)})`,
      })
      .from(customers)
      .where(and(eq(customers.id, id), access.customer.visible(p)));
    const [hit] = lock ? await q.for('update', { of: customers }) : await q;
    return hit ?? null;
  },

  async currentModel(ex: Executor): Promise<Model & { createdAt: Date; createdBy: string | null }> {
    const [row] = await ex.select().from(valueModels).orderBy(desc(valueModels.version)).limit(1);
    if (!row) throw new Error('no value model: the migrations insert version 1');
    return { version: row.version, config: row.config as ValueModelConfig, createdAt: row.createdAt, createdBy: row.createdBy };
  },

  async modelVersion(ex: Executor, version: number): Promise<ValueModelConfig | null> {
    const [row] = await ex.select({ config: valueModels.config }).from(valueModels).where(eq(valueModels.version, version));
    return (row?.config as ValueModelConfig | undefined) ?? null;
  },

  /** A new version after the current one, under a lock on the table so two PUTs cannot take one number. */
  async insertModel(ex: Executor, config: ValueModelConfig, createdBy: string) {
    await ex.execute(sql`LOCK TABLE value_models IN SHARE ROW EXCLUSIVE MODE`);
    const [row] = await queryRows<{ version: number; created_at: string }>(
      ex,
      sql`INSERT INTO value_models (version, config, created_by) SELECT coalesce(max(version), 0) + 1, ${JSON.stringify(config)}::jsonb, ${createdBy}::uuid FROM value_models
        RETURNING version, created_at`,
    );
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  /**
   * The model in force and the class cut-offs of the last full recomputation, in one round trip (what
   * an incremental update needs). The same round trip sets `plan_cache_mode` to `force_generic_plan`
   * for the rest of the transaction, for the rescoring statement that follows (see recompute), and
   * answers the setting it replaced (`planMode`), which that statement puts back.
   */
  async modelAndCuts(ex: Executor): Promise<{ model: Model; aMin: string | null; cMax: string | null; planMode: string }> {
    const [row] = await queryRows<{ version: number; config: ValueModelConfig; a_min: string | null; c_max: string | null; plan_mode: string }>(
      ex,
      sql`SELECT m.version, m.config, r.a_min_score::text AS a_min, r.c_max_score::text AS c_max,
          current_setting('plan_cache_mode') AS plan_mode, set_config('plan_cache_mode', 'force_generic_plan', true) AS plan_mode_set
        FROM (SELECT version, config FROM value_models ORDER BY version DESC LIMIT 1) m
        LEFT JOIN LATERAL (SELECT a_min_score, c_max_score FROM value_runs WHERE finished_at IS NOT NULL ORDER BY finished_at DESC LIMIT 1) r ON true`,
    );
    if (!row) throw new Error('no value model: the migrations insert version 1');
    return { model: { version: row.version, config: row.config }, aMin: row.a_min, cMax: row.c_max, planMode: row.plan_mode };
  },

  /** The cut-offs of the last full recomputation (null before the first). */
  async lastRun(ex: Executor) {
    const [row] = await ex.select().from(valueRuns).where(sql`${valueRuns.finishedAt} IS NOT NULL`).orderBy(desc(valueRuns.finishedAt)).limit(1);
    return row ?? null;
  },

  /** Takes the run lock for this transaction; false when another full recomputation holds it. */
  async tryRunLock(ex: Executor): Promise<boolean> {
    const [r] = await queryRows<{ ok: boolean }>(ex, sql`SELECT pg_try_advisory_xact_lock(${RUN_LOCK[0]}, ${RUN_LOCK[1]}) AS ok`);
    return r?.ok === true;
  },

  /** Records a finished run with the score cut-offs of classes A and C as they now stand. */
  async recordRun(ex: Executor, modelVersion: number, startedAt: Date, changed: number) {
    const [row] = await queryRows<{ id: string; ranked: number; a_min_score: string | null; c_max_score: string | null; finished_at: string }>(
      ex,
      sql`INSERT INTO value_runs (model_version, started_at, finished_at, ranked, a_min_score, c_max_score, changed)
        SELECT ${modelVersion}, ${startedAt.toISOString()}::timestamptz, clock_timestamp(), count(*) FILTER (WHERE value_class IS NOT NULL),
          min(score) FILTER (WHERE value_class = 'A'), max(score) FILTER (WHERE value_class = 'C'), ${changed}
        FROM customer_values RETURNING id, ranked, a_min_score, c_max_score, to_char(finished_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS finished_at`,
    );
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async insertCost(ex: Executor, v: typeof customerCosts.$inferInsert): Promise<CostRow> {
    const [row] = await ex.insert(customerCosts).values(v).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async listCosts(
    ex: Executor,
    customerId: string,
    updatedAfter: string | undefined,
    order: { field: CostSort; desc: boolean },
    cursor: string | undefined,
    limit: number,
  ): Promise<CostRow[]> {
    const ks = keyset({ column: COST_COLUMNS[order.field], desc: order.desc, kind: 'timestamp' }, customerCosts.id, cursor);
    return ex
      .select()
      .from(customerCosts)
      .where(and(costConditions(customerId, updatedAfter), ks.where))
      .orderBy(...ks.orderBy)
      .limit(limit + 1);
  },

  countCosts: (ex: Executor, customerId: string, updatedAfter: string | undefined): Promise<number> =>
    countRows(ex, customerCosts, costConditions(customerId, updatedAfter)),

  async insertReference(ex: Executor, v: typeof referenceEffects.$inferInsert) {
    const [row] = await ex.insert(referenceEffects).values(v).returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },

  async currentReference(ex: Executor, customerId: string) {
    const [row] = await ex.select().from(referenceEffects).where(eq(referenceEffects.customerId, customerId)).orderBy(desc(referenceEffects.at), desc(referenceEffects.id)).limit(1);
    return row ?? null;
  },

  async valueOf(ex: Executor, customerId: string): Promise<ValueRow | null> {
    const [row] = await ex.select().from(customerValues).where(eq(customerValues.customerId, customerId));
    return row ?? null;
  },

  async history(ex: Executor, customerId: string, limit: number): Promise<HistoryRow[]> {
    return ex
      .select()
      .from(customerValueHistory)
      .where(eq(customerValueHistory.customerId, customerId))
      .orderBy(desc(customerValueHistory.at), desc(customerValueHistory.id))
      .limit(limit);
  },
};
