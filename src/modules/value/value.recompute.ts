import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows, queryRowsNamed } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { recordRowChanges } from '../../lib/audit.js';
import { closeAlertActions, createAlertActions } from '../actions/index.js';
import type { ValueModelConfig } from './scoring.js';
import { computeSql } from './value.sql.js';

// What moved a customer's value: the input that changed, or a scheduled / model-driven recomputation.
export const VALUE_CAUSES = ['ORDER', 'COST', 'REFERENCE_EFFECT', 'OPPORTUNITY', 'CREDIT', 'INTERACTION', 'SCHEDULE', 'MODEL', 'RECOMPUTE'] as const;
export type ValueCause = (typeof VALUE_CAUSES)[number];

export type Model = { version: number; config: ValueModelConfig };
export type RecomputeResult = { customers: number; scoreChanged: number; classChanged: number; churnChanged: number; actions: number };
// An incremental update: the class cut-offs of the last full run, and the plan_cache_mode setting to put back (see modelAndCuts).
export type RescoreMode = { full: false; aMin: string | null; cMax: string | null; planMode: string };
export type RecomputeMode = { full: true } | RescoreMode;

// A full run's changed rows go to a temporary table of its own (dropped at commit), so two runs in one transaction do not meet.
let seq = 0;

const STORED = ['revenue', 'expected_sales', 'cost', 'reference_level', 'credit_status', 'score', 'value_class', 'churn_level', 'churn_signals'] as const;
const cols = (prefix: string, names: readonly string[]) => sql.raw(names.map((n) => `${prefix}${n}`).join(', '));
const rankOf = (col: string) => `(CASE ${col} WHEN 'HIGH' THEN 2 WHEN 'WATCH' THEN 1 ELSE 0 END)`;
const rank = (col: string) => sql.raw(rankOf(col));

/** The computed rows with `stale`: their stored value differs from what was computed (or there is none). */
export function staleSql(model: Model, classed: SQL): SQL {
  return sql`SELECT c.*, (NOT c.had_value OR (c.old_model_version, c.old_revenue, c.old_expected_sales, c.old_cost, c.old_reference_level, c.old_credit_status,
      c.old_score, c.old_class, c.old_churn, c.old_signals) IS DISTINCT FROM (${model.version}::int, ${cols('c.', STORED)})) AS stale
    FROM (${classed}) c`;
}

/**
 * The writes of one recomputation as CTEs over the relation `ch` (computed rows with `stale`): the
 * customer_values rows that changed (an UPDATE of the existing, an INSERT of the new), history for a
 * change of score or class, `customer.value_changed` for a class change of a customer that had one,
 * `customer.churn_risk_changed` (with audit rows) for a churn level change. `firstIsNews` says whether
 * a customer's first churn level is an event: yes for one rescored by a write, no in a full run (it
 * sets the baseline of customers never scored).
 */
function writesSql(actor: Principal, model: Model, cause: ValueCause, firstIsNews: boolean): SQL {
  const v = sql`${model.version}::int`;
  const valueEvents = recordRowChanges(actor, {
    rows: 'moved',
    entityType: 'customer',
    action: 'value_changed',
    entityId: sql`customer_id`,
    ownerUserId: sql`owner_user_id`,
    ownerUnitId: sql`owner_unit_id`,
    before: sql`jsonb_build_object('valueClass', old_class, 'valueScore', old_score::text)`,
    after: sql`jsonb_build_object('valueClass', value_class, 'valueScore', score::text, 'modelVersion', ${v}, 'cause', ${cause}::text)`,
  });
  const churnEvents = recordRowChanges(actor, {
    rows: 'churned',
    entityType: 'customer',
    action: 'churn_risk_changed',
    entityId: sql`customer_id`,
    ownerUserId: sql`owner_user_id`,
    ownerUnitId: sql`owner_unit_id`,
    before: sql`jsonb_build_object('churnRisk', old_churn)`,
    after: sql`jsonb_build_object('churnRisk', churn_level, 'signals', churn_signals)`,
  });
  return sql`updated AS (
      UPDATE customer_values cv SET model_version = ${v}, ${sql.raw(STORED.map((n) => `${n} = ch.${n}`).join(', '))}, computed_at = now()
      FROM ch WHERE ch.stale AND ch.had_value AND cv.customer_id = ch.customer_id
    ), inserted AS (
      INSERT INTO customer_values (customer_id, model_version, ${cols('', STORED)}, computed_at)
      SELECT customer_id, ${v}, ${cols('', STORED)}, now() FROM ch WHERE ch.stale AND NOT ch.had_value
      ON CONFLICT (customer_id) DO UPDATE SET model_version = excluded.model_version, ${sql.raw(STORED.map((n) => `${n} = excluded.${n}`).join(', '))},
        computed_at = excluded.computed_at
    ), history AS (
      INSERT INTO customer_value_history (customer_id, score, value_class, previous_class, previous_score, model_version, cause)
      SELECT customer_id, score, value_class, old_class, old_score, ${v}, ${cause} FROM ch
      WHERE ch.stale AND (old_score IS DISTINCT FROM score OR old_class IS DISTINCT FROM value_class)
    ), moved AS (SELECT * FROM ch WHERE had_value AND old_class IS DISTINCT FROM value_class),
    value_audit AS (${valueEvents.audit}), value_outbox AS (${valueEvents.events}),
    churned AS (SELECT * FROM ch WHERE old_churn IS DISTINCT FROM churn_level${firstIsNews ? sql`` : sql` AND had_value`}),
    churn_audit AS (${churnEvents.audit}), churn_outbox AS (${churnEvents.events})`;
}

// What the counts and the alerts read of the computed rows.
const COUNTS = sql`count(*) AS n, count(*) FILTER (WHERE old_score IS DISTINCT FROM score) AS score_changed,
  count(*) FILTER (WHERE old_class IS DISTINCT FROM value_class) AS class_changed, count(*) FILTER (WHERE old_churn IS DISTINCT FROM churn_level) AS churn_changed`;
const ALERTABLE = sql.raw(`((old_class = 'A' AND value_class IS DISTINCT FROM 'A') OR ${rankOf('churn_level')} <> ${rankOf('old_churn')})`);
const ALERT_COLUMNS = 'customer_id uuid, owner_user_id uuid, name text, had_value boolean, old_class text, value_class text, old_churn text, churn_level text';
type Counts = { n: string; score_changed: string; class_changed: string; churn_changed: string };

/**
 * The key actions a recomputation leaves, read from `rel` (a relation with the ALERT_COLUMNS): for a
 * fall from A a VALUE_ALERT, for a rise of the churn risk a CHURN_ALERT (in a full run only for
 * customers that had a level before: a first full run on a never-scored database raises none), and a
 * churn risk fallen back to NONE closes the open CHURN_ALERT. Returns how many actions were made.
 */
async function alerts(tx: Executor, actor: Principal, rel: SQL, firstIsNews: boolean): Promise<number> {
  const made = await createAlertActions(
    tx,
    actor,
    sql`SELECT customer_id, owner_user_id AS assignee_id, 'VALUE_ALERT' AS kind, 'Fell from class A: ' || name AS title, 5 AS urgency
        FROM ${rel} WHERE old_class = 'A' AND value_class IS DISTINCT FROM 'A' AND owner_user_id IS NOT NULL
      UNION ALL
      SELECT customer_id, owner_user_id, 'CHURN_ALERT', 'Churn risk ' || churn_level || ': ' || name, CASE churn_level WHEN 'HIGH' THEN 5 ELSE 3 END
        FROM ${rel} WHERE ${rank('churn_level')} > ${rank('old_churn')} AND owner_user_id IS NOT NULL${firstIsNews ? sql`` : sql` AND had_value`}`,
  );
  await closeAlertActions(tx, actor, 'CHURN_ALERT', sql`SELECT customer_id FROM ${rel} WHERE churn_level = 'NONE' AND old_churn <> 'NONE'`, 'the churn signals cleared');
  return made;
}

const result = (c: Counts | undefined, actions: number): RecomputeResult => ({
  customers: Number(c?.n ?? 0),
  scoreChanged: Number(c?.score_changed ?? 0),
  classChanged: Number(c?.class_changed ?? 0),
  churnChanged: Number(c?.churn_changed ?? 0),
  actions,
});

// A full run's transaction: the grouped scans' hash tables and the ranking's sort get room in memory.
export const FULL_RUN_SETTINGS = [`SET LOCAL work_mem = '256MB'`, `SET LOCAL jit = off`, `SET LOCAL max_parallel_workers_per_gather = 0`];

/** The incremental update of the customers `target` selects as one statement: compute, write, and the counts and alertable rows it answers. */
export function rescoreSql(actor: Principal, model: Model, target: SQL | 'all', cause: ValueCause, mode: RescoreMode): SQL {
  const computed = staleSql(model, computeSql(model.config, target, mode));
  // The statement is run under a generic plan (chosen when it starts); it puts the caller's plan_cache_mode back itself.
  return sql`WITH ch AS MATERIALIZED (${computed}), ${writesSql(actor, model, cause, true)}
    SELECT ${COUNTS}, jsonb_agg(jsonb_build_object('customer_id', customer_id, 'owner_user_id', owner_user_id, 'name', name, 'had_value', had_value,
      'old_class', old_class, 'value_class', value_class, 'old_churn', old_churn, 'churn_level', churn_level)) FILTER (WHERE ${ALERTABLE}) AS alerts,
      set_config('plan_cache_mode', ${mode.planMode}, true) AS plan_mode FROM ch`;
}

/**
 * A full run's computed rows whose stored value would change, with only the columns the writes and
 * alerts read, in the order of customer ids: the writes then meet the indexes on customer_id (and the
 * foreign key's lookups in customers) in key order rather than at random.
 */
export function changesSql(model: Model): SQL {
  const computed = staleSql(model, computeSql(model.config, 'all', { full: true }));
  return sql`SELECT customer_id, name, owner_user_id, owner_unit_id, had_value, stale, ${cols('', STORED)}, old_score, old_class, old_churn FROM (${computed}) x WHERE x.stale
    ORDER BY customer_id`;
}

/** A full run's one write statement over `table`, its changed rows (see writesSql), answering the counts. */
export function changesWriteSql(actor: Principal, model: Model, cause: ValueCause, table: SQL): SQL {
  return sql`WITH ch AS (SELECT * FROM ${table}), ${writesSql(actor, model, cause, false)}
    SELECT ${COUNTS}, count(*) FILTER (WHERE ${ALERTABLE}) AS alertable FROM ch`;
}

/**
 * Recomputes the value of the customers `target` selects, in the caller's transaction: the
 * customer_values rows, history, events and audit rows for what changed, and the key actions (see
 * writesSql and alerts). Set-based throughout; nothing is written for a customer whose value did not
 * change. The computed fields of a customer are read from customer_values (the customers module joins
 * it), so a recomputation never writes the wide customer rows.
 *
 * A full run (target 'all') ranks every customer, keeps the changed rows in a temporary table and
 * writes from it: a handful of statements whatever the count, each of them skipping what did not
 * change. An incremental update (a few customers, classes from the cut-offs of the last full run) is
 * one statement, plus the alert statements only when a class or churn level moved.
 */
export async function recompute(tx: Executor, actor: Principal, model: Model, target: SQL | 'all', cause: ValueCause, mode: RecomputeMode): Promise<RecomputeResult> {
  if (!mode.full) {
    // The same text for every write under one model version: prepared once per connection, and
    // planned once too (its plan does not depend on the customer ids; planning it each time cost more
    // than running it): modelAndCuts set plan_cache_mode to force_generic_plan in its round trip, and
    // the statement puts the caller's setting back as it ends, so neither costs a round trip of its own.
    const [row] = await queryRowsNamed<Counts & { alerts: unknown[] | null }>(tx, 'value_rescore', rescoreSql(actor, model, target, cause, mode));
    const moved = row?.alerts ?? [];
    const actions = moved.length ? await alerts(tx, actor, sql`jsonb_to_recordset(${JSON.stringify(moved)}::jsonb) AS r(${sql.raw(ALERT_COLUMNS)})`, true) : 0;
    return result(row, actions);
  }
  for (const setting of FULL_RUN_SETTINGS) await tx.execute(sql.raw(setting));
  const table = sql.identifier(`value_changes_${++seq}`);
  // Only the columns the writes and alerts read: the table is as narrow as it can be.
  await tx.execute(sql`CREATE TEMP TABLE ${table} ON COMMIT DROP AS ${changesSql(model)}`);
  await tx.execute(sql`ANALYZE ${table}`);
  const [counts] = await queryRows<Counts & { alertable: string }>(tx, changesWriteSql(actor, model, cause, sql`${table}`));
  const actions = Number(counts?.alertable ?? 0) > 0 ? await alerts(tx, actor, sql`${table}`, false) : 0;
  // Every customer was computed; the counts above are of those whose value changed.
  const [all] = await queryRows<{ n: string }>(tx, sql`SELECT count(*) AS n FROM customers`);
  return result(counts ? { ...counts, n: all?.n ?? '0' } : undefined, actions);
}
