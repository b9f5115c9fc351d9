import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { access, type Principal } from '../../lib/access.js';

// The value reports (api.md §2 Reports), each one statement within the caller's visibility: the
// customers module's predicate over `customers`, and nothing read of a customer the caller cannot see.

export type PyramidGroupBy = 'unit' | 'partner';
export type PyramidRow = { group_id: string | null; group_name: string | null; value_class: string; customers: string; revenue: string; cost: string };
export type MoveRow = { from_class: string | null; to_class: string | null; customers: string };

const months = (n: number) => sql`make_interval(months => ${sql.raw(String(Math.trunc(n)))})`;

// The outermost partner unit at or above the owner unit (null: the company's own).
// A customer's computed value (customer_values), for queries grouped by customer.
const valueOf = (col: string) => sql.raw(`(SELECT cv.${col} FROM customer_values cv WHERE cv.customer_id = customers.id)`);

const partnerOf = sql`(SELECT pu.id FROM org_units pu WHERE pu.kind = 'PARTNER' AND ou.path LIKE pu.path || '%' ORDER BY length(pu.path) LIMIT 1)`;

export const valueReportsRepository = {
  async pyramid(ex: Executor, p: Principal, groupBy: PyramidGroupBy | undefined): Promise<PyramidRow[]> {
    const group: SQL = groupBy === 'unit' ? sql`customers.owner_unit_id` : groupBy === 'partner' ? partnerOf : sql`NULL::uuid`;
    return queryRows<PyramidRow>(
      ex,
      sql`WITH base AS (
          SELECT ${group} AS group_id, cv.value_class, coalesce(cv.revenue, 0) AS revenue, coalesce(cv.cost, 0) AS cost
          FROM customers JOIN org_units ou ON ou.id = customers.owner_unit_id
            JOIN customer_values cv ON cv.customer_id = customers.id
          WHERE customers.status = 'ACTIVE' AND cv.value_class IS NOT NULL AND ${access.customer.visible(p)}
        )
        SELECT base.group_id, g.name AS group_name, base.value_class, count(*) AS customers, sum(base.revenue)::numeric(18,2)::text AS revenue,
          sum(base.cost)::numeric(18,2)::text AS cost
        FROM base LEFT JOIN org_units g ON g.id = base.group_id
        GROUP BY base.group_id, g.name, base.value_class
        ORDER BY g.name NULLS FIRST, base.group_id, base.value_class`,
    );
  },

  /** Net class moves of visible customers over [from, to): the class before the first change and after the last. */
  async moves(ex: Executor, p: Principal, from: Date, to: Date): Promise<MoveRow[]> {
    return queryRows<MoveRow>(
      ex,
      sql`WITH changes AS (
          SELECT h.customer_id, h.previous_class, h.value_class,
            row_number() OVER (PARTITION BY h.customer_id ORDER BY h.at, h.id) AS first_n,
            row_number() OVER (PARTITION BY h.customer_id ORDER BY h.at DESC, h.id DESC) AS last_n
          FROM customer_value_history h JOIN customers ON customers.id = h.customer_id
          WHERE h.at >= ${from.toISOString()}::timestamptz AND h.at < ${to.toISOString()}::timestamptz
            AND h.previous_class IS DISTINCT FROM h.value_class AND ${access.customer.visible(p)}
        ), net AS (
          SELECT customer_id, max(previous_class) FILTER (WHERE first_n = 1) AS from_class, max(value_class) FILTER (WHERE last_n = 1) AS to_class,
            bool_or(first_n = 1 AND previous_class IS NULL) AS from_none, bool_or(last_n = 1 AND value_class IS NULL) AS to_none
          FROM changes GROUP BY customer_id
        )
        SELECT CASE WHEN from_none THEN NULL ELSE from_class END AS from_class, CASE WHEN to_none THEN NULL ELSE to_class END AS to_class, count(*) AS customers
        FROM net WHERE (CASE WHEN from_none THEN NULL ELSE from_class END) IS DISTINCT FROM (CASE WHEN to_none THEN NULL ELSE to_class END)
        GROUP BY 1, 2 ORDER BY 1 NULLS FIRST, 2 NULLS FIRST`,
    );
  },

  async churnRisk(ex: Executor, p: Principal, levels: readonly string[], limit: number) {
    return queryRows<{
      id: string;
      name: string;
      owner_user_id: string | null;
      owner_unit_id: string;
      churn_risk: string;
      value_class: string | null;
      value_score: string | null;
      signals: { kind: string; detail: string; since: string }[];
      total_high: string;
      total_watch: string;
    }>(
      ex,
      sql`SELECT customers.id, customers.name, customers.owner_user_id, customers.owner_unit_id, cv.churn_level AS churn_risk, cv.value_class,
          cv.score::text AS value_score, cv.churn_signals AS signals,
          count(*) FILTER (WHERE cv.churn_level = 'HIGH') OVER () AS total_high, count(*) FILTER (WHERE cv.churn_level = 'WATCH') OVER () AS total_watch
        FROM customers JOIN customer_values cv ON cv.customer_id = customers.id
        WHERE customers.status = 'ACTIVE' AND cv.value_class IS NOT NULL AND cv.churn_level = ANY(${sql.param([...levels])}::text[]) AND ${access.customer.visible(p)}
        ORDER BY CASE cv.churn_level WHEN 'HIGH' THEN 0 ELSE 1 END, cv.score DESC NULLS LAST, customers.name, customers.id
        LIMIT ${limit}`,
    );
  },

  async winBack(ex: Executor, p: Principal, q: { months: number; silentMonths: number; minRevenue: string; limit: number }) {
    return queryRows<{
      id: string;
      name: string;
      owner_user_id: string | null;
      owner_unit_id: string;
      value_class: string | null;
      value_score: string | null;
      previous_revenue: string;
      last_order_at: string;
      last_contact_at: string | null;
      lost_deals: string;
    }>(
      ex,
      sql`SELECT customers.id, customers.name, customers.owner_user_id, customers.owner_unit_id, ${valueOf('value_class')} AS value_class, ${valueOf('score')}::text AS value_score,
          sum(o.amount)::numeric(18,2)::text AS previous_revenue,
          to_char(max(o.ordered_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS last_order_at,
          (SELECT to_char(max(i.occurred_at) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') FROM interactions i WHERE i.customer_id = customers.id) AS last_contact_at,
          (SELECT count(*) FROM opportunities op WHERE op.customer_id = customers.id AND op.status = 'LOST' AND op.closed_at > now() - ${months(q.months)}) AS lost_deals
        FROM customers JOIN orders o ON o.customer_id = customers.id AND o.status <> 'CANCELLED' AND o.ordered_at > now() - ${months(q.months)}
        WHERE customers.status = 'ACTIVE' AND ${access.customer.visible(p)}
        GROUP BY customers.id
        HAVING max(o.ordered_at) <= now() - ${months(q.silentMonths)} AND sum(o.amount) > 0 AND sum(o.amount) >= ${q.minRevenue}::numeric
        ORDER BY sum(o.amount) DESC, customers.id
        LIMIT ${q.limit}`,
    );
  },

  async crossSell(ex: Executor, p: Principal, q: { months: number; maxLines: number; limit: number }) {
    return queryRows<{
      id: string;
      name: string;
      owner_user_id: string | null;
      owner_unit_id: string;
      value_class: string | null;
      value_score: string | null;
      revenue: string;
      lines_bought: string[];
      lines_not_bought: string[];
    }>(
      ex,
      sql`WITH recent AS (
          SELECT o.customer_id, ol.product_line, ol.amount FROM orders o JOIN order_lines ol ON ol.order_id = o.id
          WHERE o.status <> 'CANCELLED' AND o.ordered_at > now() - ${months(q.months)}
        ), catalogue AS (
          SELECT DISTINCT product_line FROM recent WHERE product_line IS NOT NULL
        ), bought AS (
          SELECT r.customer_id, array_agg(DISTINCT r.product_line ORDER BY r.product_line) FILTER (WHERE r.product_line IS NOT NULL) AS lines,
            sum(r.amount) AS revenue
          FROM recent r JOIN customers ON customers.id = r.customer_id
          WHERE customers.status = 'ACTIVE' AND ${access.customer.visible(p)}
          GROUP BY r.customer_id
        )
        SELECT customers.id, customers.name, customers.owner_user_id, customers.owner_unit_id, ${valueOf('value_class')} AS value_class, ${valueOf('score')}::text AS value_score,
          b.revenue::numeric(18,2)::text AS revenue, b.lines AS lines_bought,
          ARRAY(SELECT c.product_line FROM catalogue c WHERE c.product_line <> ALL(b.lines) ORDER BY c.product_line) AS lines_not_bought
        FROM bought b JOIN customers ON customers.id = b.customer_id
        WHERE cardinality(b.lines) BETWEEN 1 AND ${q.maxLines} AND EXISTS (SELECT 1 FROM catalogue c WHERE c.product_line <> ALL(b.lines))
        ORDER BY b.revenue DESC, customers.id
        LIMIT ${q.limit}`,
    );
  },
};
