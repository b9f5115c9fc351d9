import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';

/**
 * Writes the computed columns of the customer row (value score, value class, churn risk) from a
 * set-based source: `source` selects (customer_id, value_score, value_class, churn_risk). Computed
 * fields never change a record's version or updatedAt (api.md §1): background recomputation cannot
 * make a user's If-Match stale. Only rows whose values differ are written. Returns how many were.
 */
export async function writeComputedValues(tx: Executor, source: SQL): Promise<number> {
  const [r] = await queryRows<{ n: string | number }>(
    tx,
    sql`WITH src AS (${source}), written AS (
        UPDATE customers c SET value_score = src.value_score, value_class = src.value_class, churn_risk = src.churn_risk
        FROM src WHERE c.id = src.customer_id
          AND (c.value_score, c.value_class, c.churn_risk) IS DISTINCT FROM (src.value_score::numeric(5,2), src.value_class, src.churn_risk)
        RETURNING 1)
      SELECT count(*) AS n FROM written`,
  );
  return Number(r?.n ?? 0);
}
