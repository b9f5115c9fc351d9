import { type SQL, sql } from 'drizzle-orm';
import { CREDIT_POINTS, CREDIT_UNKNOWN_POINTS, type ValueModelConfig } from './scoring.js';

// The value formulas of scoring.ts as one set-based SQL statement: the indicators of every target
// customer are read with one grouped scan per source table (the last contact from
// customer_last_contact, kept by the interactions' triggers; complaints from their partial index),
// then scored, classed and flagged for churn. No row passes through Node; a test holds the SQL and the pure function equal.

/** Customers ranked into classes and watched for churn: active buyers (domain.md §7: the pyramid of customers). */
export const RANKED_STAGES = ['CUSTOMER', 'USER'] as const;

const num = (x: number) => sql.raw(String(Number(x)));
const saturating = (amount: SQL, half: number) => sql`(CASE WHEN ${amount} <= 0 THEN 0::numeric ELSE 100 * ${amount} / (${amount} + ${num(half)}) END)`;
const costPoints = (cost: SQL, half: number) => sql`(CASE WHEN ${cost} <= 0 THEN 100::numeric ELSE 100 * ${num(half)}::numeric / (${cost} + ${num(half)}) END)`;
const creditPoints = (status: SQL) =>
  sql`(CASE ${status} ${sql.join(
    Object.entries(CREDIT_POINTS).map(([k, v]) => sql`WHEN ${k} THEN ${num(v)}::numeric`),
    sql` `,
  )} ELSE ${num(CREDIT_UNKNOWN_POINTS)}::numeric END)`;

/** The score expression over the columns revenue, expected_sales, reference_level, credit_status, cost of `from`. */
export function scoreSql(m: ValueModelConfig, from: string): SQL {
  const w = m.weights;
  const col = (name: string) => sql.raw(`${from}.${name}`);
  return sql`round(LEAST(100, GREATEST(0,
    ${num(w.revenue)} * ${saturating(col('revenue'), m.revenueHalf)} / 100
    + ${num(w.expectedSales)} * ${saturating(col('expected_sales'), m.expectedSalesHalf)} / 100
    + ${num(w.referenceEffect)} * (LEAST(5, GREATEST(0, ${col('reference_level')})) * 20)::numeric / 100
    + ${num(w.credit)} * ${creditPoints(col('credit_status'))} / 100
    + ${num(w.cost)} * ${costPoints(col('cost'), m.costHalf)} / 100)), 2)`;
}

// An interaction that is a complaint: the predicate of the partial index interactions_complaint_idx, written the same way so the planner can use it.
const COMPLAINT = sql.raw(`upper(btrim(i.outcome)) = 'COMPLAINT'`);

const days = (n: number) => sql`make_interval(days => ${num(n)})`;
const iso = (col: SQL) => sql`to_char((${col}) AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
const amount = (col: SQL) => sql`to_char(round(${col}), 'FM999G999G999G999G990')`;

/**
 * The target customers' inputs, score, class (see cutsSql), churn level and signals, and what they were before. `target`
 * selects (id) rows of customers, or is 'all': then every source table is aggregated whole, without
 * a join to the target list (a full run reads each table once, and the planner estimates plain
 * GROUP BYs well, where joins to a million-row list made it expect billions of rows). `previous since`
 * keeps the start date of a signal that was already raised (order drops and credit blocks have no
 * date of their own).
 */
export function computeSql(m: ValueModelConfig, target: SQL | 'all', mode: ClassMode): SQL {
  const all = target === 'all';
  // Restricts a source table's rows to the target customers (nothing to restrict in a full run).
  const only = (alias: string) => (all ? sql`` : sql.raw(` JOIN t ON t.id = ${alias}.customer_id`));
  const c = m.churn;
  const months = sql`make_interval(months => ${num(m.trailingMonths)})`;
  const win = days(c.orderWindowDays);
  const ranked = sql`(t.status = 'ACTIVE' AND t.lifecycle_stage IN (${sql.join(
    RANKED_STAGES.map((s) => sql`${s}`),
    sql`, `,
  )}))`;
  // A churn signal raised: only for a ranked customer, and never unknown (a missing credit status raises nothing).
  const flag = (raised: SQL) => sql`coalesce(inputs.ranked AND (${raised}), false)`;
  const prevSince = (kind: string) =>
    sql`(SELECT (s->>'since')::timestamptz FROM jsonb_array_elements(old.churn_signals) s WHERE s->>'kind' = ${kind} LIMIT 1)`;
  return sql`WITH t AS (
      SELECT c.id, c.name, c.status, c.lifecycle_stage, c.credit_status, c.owner_user_id, c.owner_unit_id, c.created_at FROM customers c${all ? sql`` : sql` WHERE c.id IN (${target})`}
    ), rev AS (
      SELECT o.customer_id, sum(o.amount) FILTER (WHERE o.ordered_at > now() - ${months}) AS revenue,
        sum(o.amount) FILTER (WHERE o.ordered_at > now() - ${win}) AS recent,
        sum(o.amount) FILTER (WHERE o.ordered_at <= now() - ${win} AND o.ordered_at > now() - 3 * ${win}) AS past
      FROM orders o${only('o')}
      WHERE o.status <> 'CANCELLED' AND o.ordered_at > now() - GREATEST(${months}, 3 * ${win}) GROUP BY 1
    ), pipe AS (
      SELECT op.customer_id, sum(op.amount * ps.probability / 100.0) AS expected_sales
      FROM opportunities op${only('op')} JOIN pipeline_stages ps ON ps.id = op.stage_id
      WHERE op.status = 'OPEN' AND op.amount IS NOT NULL GROUP BY 1
    ), lost AS (
      SELECT op.customer_id, count(*) AS n, min(op.closed_at) AS first_at
      FROM opportunities op${only('op')}
      WHERE op.status = 'LOST' AND op.closed_at > now() - ${days(c.lostDealWindowDays)} GROUP BY 1
    ), cst AS (
      SELECT cc.customer_id, sum(cc.amount) AS cost FROM customer_costs cc${only('cc')}
      WHERE cc.incurred_at > now() - ${months} GROUP BY 1
    ), ref AS (
      SELECT DISTINCT ON (r.customer_id) r.customer_id, r.level FROM reference_effects r${only('r')}
      ORDER BY r.customer_id, r.at DESC, r.id DESC
    ), touch AS (
      SELECT l.customer_id, l.last_at FROM customer_last_contact l${only('l')}
    ), compl AS (
      SELECT i.customer_id, count(*) AS complaints, min(i.occurred_at) AS first_complaint FROM interactions i${only('i')}
      WHERE ${COMPLAINT} AND i.occurred_at > now() - ${days(c.complaintWindowDays)} GROUP BY 1
    ), inputs AS (
      SELECT t.id AS customer_id, t.name, t.owner_user_id, t.owner_unit_id, ${ranked} AS ranked,
        coalesce(rev.revenue, 0)::numeric(18,2) AS revenue, coalesce(pipe.expected_sales, 0)::numeric(18,2) AS expected_sales,
        coalesce(cst.cost, 0)::numeric(18,2) AS cost, coalesce(ref.level, 0)::smallint AS reference_level, t.credit_status,
        coalesce(touch.last_at, t.created_at) AS last_contact, coalesce(compl.complaints, 0) AS complaints, compl.first_complaint,
        coalesce(rev.recent, 0) AS recent, coalesce(rev.past, 0) AS past, coalesce(lost.n, 0) AS lost_deals, lost.first_at AS first_lost
      FROM t LEFT JOIN rev ON rev.customer_id = t.id LEFT JOIN pipe ON pipe.customer_id = t.id LEFT JOIN cst ON cst.customer_id = t.id
        LEFT JOIN ref ON ref.customer_id = t.id LEFT JOIN touch ON touch.customer_id = t.id
        LEFT JOIN compl ON compl.customer_id = t.id LEFT JOIN lost ON lost.customer_id = t.id
    ), flagged AS (
      -- OFFSET 0 keeps this a subquery of its own: the score and the five flags are computed once per
      -- customer. Inlined, each flag was evaluated again in signal_count, churn_level and churn_signals.
      SELECT inputs.*, ${scoreSql(m, 'inputs')} AS score,
        ${flag(sql`inputs.credit_status = 'BLOCKED'`)} AS f_credit,
        ${flag(sql`inputs.complaints >= ${num(c.complaints)}`)} AS f_complaints,
        ${flag(sql`inputs.lost_deals >= ${num(c.lostDeals)}`)} AS f_lost,
        ${flag(sql`inputs.last_contact < now() - ${days(c.noContactDays)}`)} AS f_contact,
        ${flag(sql`inputs.past > 0 AND inputs.recent < (inputs.past / 2) * (100 - ${num(c.orderDropPercent)}) / 100`)} AS f_drop
      FROM inputs OFFSET 0
    ), counted AS${mode.full ? sql` MATERIALIZED` : sql``} (
      SELECT flagged.*, f_credit::int + f_complaints::int + f_lost::int + f_contact::int + f_drop::int AS signal_count FROM flagged
    ), ${cutsSql(m, mode)}
    SELECT counted.*, CASE WHEN signal_count = 0 THEN 'NONE' WHEN signal_count >= ${num(c.highSignals)} THEN 'HIGH' ELSE 'WATCH' END AS churn_level,
      CASE WHEN NOT counted.ranked THEN NULL WHEN counted.score >= cuts.a_min THEN 'A' WHEN counted.score <= cuts.c_max THEN 'C' ELSE 'B' END AS value_class,
      old.customer_id IS NOT NULL AS had_value, old.score AS old_score, old.value_class AS old_class, coalesce(old.churn_level, 'NONE') AS old_churn,
      old.model_version AS old_model_version, old.revenue AS old_revenue, old.expected_sales AS old_expected_sales, old.cost AS old_cost,
      old.reference_level AS old_reference_level, old.credit_status AS old_credit_status, old.churn_signals AS old_signals,
      -- The signals in the order of their kinds, built only for a customer with one raised (the rest share an empty array).
      CASE WHEN signal_count = 0 THEN '[]'::jsonb ELSE to_jsonb(array_remove(ARRAY[
        CASE WHEN f_complaints THEN jsonb_build_object('kind', 'COMPLAINTS',
          'detail', complaints || ' complaints in the last ' || ${num(c.complaintWindowDays)} || ' days', 'since', ${iso(sql`first_complaint`)}) END,
        CASE WHEN f_credit THEN jsonb_build_object('kind', 'CREDIT', 'detail', 'Credit blocked by the ERP',
          'since', ${iso(sql`coalesce(${prevSince('CREDIT')}, now())`)}) END,
        CASE WHEN f_lost THEN jsonb_build_object('kind', 'LOST_DEAL',
          'detail', lost_deals || ' lost deal(s) in the last ' || ${num(c.lostDealWindowDays)} || ' days', 'since', ${iso(sql`first_lost`)}) END,
        CASE WHEN f_contact THEN jsonb_build_object('kind', 'NO_CONTACT',
          'detail', 'No contact since ' || to_char(last_contact AT TIME ZONE 'UTC', 'YYYY-MM-DD') || ' (' || ${num(c.noContactDays)} || ' days or more)',
          'since', ${iso(sql`last_contact + ${days(c.noContactDays)}`)}) END,
        CASE WHEN f_drop THEN jsonb_build_object('kind', 'ORDER_DROP',
          'detail', 'Ordered ' || ${amount(sql`recent`)} || ' in the last ' || ${num(c.orderWindowDays)} || ' days against ' || ${amount(sql`past / 2`)}
            || ' on average in each ' || ${num(c.orderWindowDays)} || '-day period of the year before',
          'since', ${iso(sql`coalesce(${prevSince('ORDER_DROP')}, now())`)}) END]::jsonb[], NULL)) END AS churn_signals
    FROM counted CROSS JOIN cuts LEFT JOIN customer_values old ON old.customer_id = counted.customer_id`;
}

/** How the computed rows are classed: by ranking them all (a full run), or by the cut-offs of the last full run. */
export type ClassMode = { full: true } | { full: false; aMin: string | null; cMax: string | null };

/**
 * The CTE `cuts` (a_min, c_max) the class of each computed row is read from. A full run ranks the
 * whole ranked population: A holds the customers with at most ceil(n × aPercent / 100) customers
 * scoring at or above them (gold is exclusive: a tie that would not fit stays out), C the customers
 * ranked within the bottom ceil(n × cPercent / 100) (a tie at the bottom shares C), A winning when
 * both apply. An incremental update compares the score with the cut-offs of the last full run.
 */
function cutsSql(m: ValueModelConfig, mode: ClassMode): SQL {
  if (mode.full) {
    // The cut-offs from the ranked customers' scores, counted per distinct score (at most 10 001 of
    // them): the same classes as ranking every customer by score, without sorting a million wide rows.
    // A customer has `at_or_above` customers scoring at or above it and rank 1 + (those scoring below).
    // `counted` is materialized (read here and by the final select): its rows hold the inputs, score
    // and flags only; the stored values are joined and the signals built after, in one pass.
    return sql`hist AS (SELECT score, count(*) AS k FROM counted WHERE ranked GROUP BY score),
      cum AS (SELECT score, sum(k) OVER () AS n, sum(k) OVER (ORDER BY score DESC) AS at_or_above, sum(k) OVER (ORDER BY score ASC) - k + 1 AS rank_asc FROM hist),
      cuts AS (SELECT min(score) FILTER (WHERE at_or_above <= ceil(n * ${num(m.aPercent)} / 100.0)) AS a_min,
        max(score) FILTER (WHERE rank_asc <= ceil(n * ${num(m.cPercent)} / 100.0)) AS c_max FROM cum)`;
  }
  const a = mode.aMin === null ? sql`NULL::numeric` : sql`${mode.aMin}::numeric`;
  const cm = mode.cMax === null ? sql`NULL::numeric` : sql`${mode.cMax}::numeric`;
  return sql`cuts AS (SELECT ${a} AS a_min, ${cm} AS c_max)`;
}
