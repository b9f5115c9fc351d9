import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { recordRowChanges } from '../../lib/audit.js';
import { createAlertActions } from '../actions/index.js';
import { writeComputedValues } from '../customers/index.js';
import type { ValueModelConfig } from './scoring.js';
import { classedSql, computeSql } from './value.sql.js';

// What moved a customer's value: the input that changed, or a scheduled / model-driven recomputation.
export const VALUE_CAUSES = ['ORDER', 'COST', 'REFERENCE_EFFECT', 'OPPORTUNITY', 'CREDIT', 'INTERACTION', 'SCHEDULE', 'MODEL', 'RECOMPUTE'] as const;
export type ValueCause = (typeof VALUE_CAUSES)[number];

export type Model = { version: number; config: ValueModelConfig };
export type RecomputeResult = { customers: number; scoreChanged: number; classChanged: number; churnChanged: number; actions: number };

// Each call gets its own temporary table (dropped at commit), so two recomputations in one transaction do not meet.
let seq = 0;

/**
 * Recomputes the value of the customers `target` selects, in the caller's transaction: the
 * customer_values rows, history for every change of score or class, `customer.value_changed` for a
 * class change and `customer.churn_risk_changed` for a churn level change (with audit rows), a key
 * action for the owner when a customer falls from A or its churn risk rises, and the computed
 * columns of the customer row. Set-based throughout: a handful of statements whatever the count.
 */
export async function recompute(
  tx: Executor,
  actor: Principal,
  model: Model,
  target: SQL | 'all',
  cause: ValueCause,
  mode: { full: true } | { full: false; aMin: string | null; cMax: string | null },
): Promise<RecomputeResult> {
  const table = sql.identifier(`value_changes_${++seq}`);
  await tx.execute(sql`CREATE TEMP TABLE ${table} ON COMMIT DROP AS ${classedSql(model.config, computeSql(model.config, target), mode)}`);
  const [counts] = await queryRows<{ n: string; score_changed: string; class_changed: string; churn_changed: string }>(
    tx,
    sql`SELECT count(*) AS n,
        count(*) FILTER (WHERE old_score IS DISTINCT FROM score) AS score_changed,
        count(*) FILTER (WHERE old_class IS DISTINCT FROM value_class) AS class_changed,
        count(*) FILTER (WHERE old_churn IS DISTINCT FROM churn_level) AS churn_changed FROM ${table}`,
  );
  await tx.execute(sql`INSERT INTO customer_values AS cv (customer_id, model_version, revenue, expected_sales, cost, reference_level, credit_status, score, value_class,
      churn_level, churn_signals, computed_at)
    SELECT customer_id, ${model.version}, revenue, expected_sales, cost, reference_level, credit_status, score, value_class, churn_level, churn_signals, now() FROM ${table}
    ON CONFLICT (customer_id) DO UPDATE SET model_version = excluded.model_version, revenue = excluded.revenue, expected_sales = excluded.expected_sales,
      cost = excluded.cost, reference_level = excluded.reference_level, credit_status = excluded.credit_status, score = excluded.score,
      value_class = excluded.value_class, churn_level = excluded.churn_level, churn_signals = excluded.churn_signals, computed_at = excluded.computed_at
    WHERE (cv.model_version, cv.revenue, cv.expected_sales, cv.cost, cv.reference_level, cv.credit_status, cv.score, cv.value_class, cv.churn_level, cv.churn_signals)
      IS DISTINCT FROM (excluded.model_version, excluded.revenue, excluded.expected_sales, excluded.cost, excluded.reference_level, excluded.credit_status,
        excluded.score, excluded.value_class, excluded.churn_level, excluded.churn_signals)`);
  await tx.execute(sql`INSERT INTO customer_value_history (customer_id, score, value_class, previous_class, previous_score, model_version, cause)
    SELECT customer_id, score, value_class, old_class, old_score, ${model.version}, ${cause} FROM ${table}
    WHERE old_score IS DISTINCT FROM score OR old_class IS DISTINCT FROM value_class`);

  const valueEvents = recordRowChanges(actor, {
    rows: 'moved',
    entityType: 'customer',
    action: 'value_changed',
    entityId: sql`customer_id`,
    ownerUserId: sql`owner_user_id`,
    ownerUnitId: sql`owner_unit_id`,
    before: sql`jsonb_build_object('valueClass', old_class, 'valueScore', old_score::text)`,
    after: sql`jsonb_build_object('valueClass', value_class, 'valueScore', score::text, 'modelVersion', ${model.version}::int, 'cause', ${cause}::text)`,
  });
  // A customer's first scoring is history, not news: events are for changes of a class it had.
  await tx.execute(sql`WITH moved AS (SELECT * FROM ${table} WHERE had_value AND old_class IS DISTINCT FROM value_class), audit AS (${valueEvents.audit}), outbox AS (${valueEvents.events})
    SELECT 1`);
  const churnEvents = recordRowChanges(actor, {
    rows: 'moved',
    entityType: 'customer',
    action: 'churn_risk_changed',
    entityId: sql`customer_id`,
    ownerUserId: sql`owner_user_id`,
    ownerUnitId: sql`owner_unit_id`,
    before: sql`jsonb_build_object('churnRisk', old_churn)`,
    after: sql`jsonb_build_object('churnRisk', churn_level, 'signals', churn_signals)`,
  });
  await tx.execute(sql`WITH moved AS (SELECT * FROM ${table} WHERE old_churn IS DISTINCT FROM churn_level), audit AS (${churnEvents.audit}), outbox AS (${churnEvents.events})
    SELECT 1`);

  const rank = (col: SQL) => sql`(CASE ${col} WHEN 'HIGH' THEN 2 WHEN 'WATCH' THEN 1 ELSE 0 END)`;
  const actions = await createAlertActions(
    tx,
    actor,
    sql`SELECT customer_id, owner_user_id AS assignee_id, 'VALUE_ALERT' AS kind, 'Fell from class A: ' || name AS title, 5 AS urgency
        FROM ${table} WHERE old_class = 'A' AND value_class IS DISTINCT FROM 'A' AND owner_user_id IS NOT NULL
      UNION ALL
      SELECT customer_id, owner_user_id, 'CHURN_ALERT', 'Churn risk ' || churn_level || ': ' || name, CASE churn_level WHEN 'HIGH' THEN 5 ELSE 3 END
        FROM ${table} WHERE ${rank(sql`churn_level`)} > ${rank(sql`old_churn`)} AND owner_user_id IS NOT NULL`,
  );
  await writeComputedValues(
    tx,
    sql`SELECT customer_id, score AS value_score, value_class, CASE WHEN ranked THEN churn_level END AS churn_risk FROM ${table}`,
  );
  return {
    customers: Number(counts?.n ?? 0),
    scoreChanged: Number(counts?.score_changed ?? 0),
    classChanged: Number(counts?.class_changed ?? 0),
    churnChanged: Number(counts?.churn_changed ?? 0),
    actions,
  };
}
