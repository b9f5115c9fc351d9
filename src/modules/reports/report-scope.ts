import { type SQL, sql } from 'drizzle-orm';
import { access, type Principal } from '../../lib/access.js';

// The SQL every pipeline report shares: which opportunities it counts (the caller's visibility and the
// report's filters) and how it groups them. Statements name the tables `opportunities` and `customers`
// unaliased, because the visibility predicate qualifies its columns with the table names.

export const GROUP_BYS = ['unit', 'partner', 'user', 'source'] as const;
export type GroupBy = (typeof GROUP_BYS)[number];

export type OpportunityScope = {
  pipelineId: string;
  // The unit and everything below it.
  ownerUnitId?: string | undefined;
  ownerUserId?: string | undefined;
  source?: string | undefined;
};

const subtreeOf = (unitId: string): SQL =>
  sql`ARRAY(SELECT su.id FROM org_units su WHERE su.path LIKE (SELECT u.path FROM org_units u WHERE u.id = ${unitId}::uuid) || '%')`;

/**
 * Visible opportunities of the pipeline that match the filters. Needs the FROM list `opportunitySource`
 * gives for the same scope and grouping (`customers` is joined only when the source filter needs it).
 */
export function opportunityFilter(p: Principal, s: OpportunityScope): SQL {
  const parts: SQL[] = [sql`opportunities.pipeline_id = ${s.pipelineId}::uuid`, access.opportunity.visible(p)];
  if (s.ownerUnitId) parts.push(sql`opportunities.owner_unit_id = ANY(${subtreeOf(s.ownerUnitId)})`);
  if (s.ownerUserId) parts.push(sql`opportunities.owner_user_id = ${s.ownerUserId}::uuid`);
  if (s.source) parts.push(sql`customers.source_channel = ${s.source}`);
  return sql.join(parts, sql` AND `);
}

/**
 * The deal's customer is ACTIVE (frozen and merged customers' deals leave the open pipeline,
 * docs/reports.md). An anti-join against the few customers that are not active (a partial index
 * holds exactly them), so the reports do not join the whole customers table to read one column.
 */
export const customerActive: SQL = sql`NOT EXISTS (SELECT 1 FROM customers ic WHERE ic.id = opportunities.customer_id AND ic.status <> 'ACTIVE')`;

// Every unit with the outermost PARTNER unit at or above it (null for the company's own units): a
// partner's numbers include its sub-units'. Joined once per report rather than looked up per row.
const unitPartners: SQL = sql`(SELECT ou.id AS unit_id, (SELECT pu.id::text FROM org_units pu WHERE pu.kind = 'PARTNER' AND ou.path LIKE pu.path || '%'
    ORDER BY length(pu.path) LIMIT 1) AS partner_id FROM org_units ou)`;

/** A LEFT JOIN giving `alias.partner_id`, the partner of the unit in `unitCol`. */
export const partnerJoin = (alias: string, unitCol: SQL): SQL =>
  sql`LEFT JOIN ${unitPartners} ${sql.identifier(alias)} ON ${sql.identifier(alias)}.unit_id = ${unitCol}`;

/**
 * The FROM list of a report over opportunities: the table itself, its customer when the source filter or
 * grouping reads the customer, and the unit → partner map when grouping by partner.
 */
export function opportunitySource(s: OpportunityScope, g: GroupBy | undefined): SQL {
  const parts: SQL[] = [sql`opportunities`];
  if (s.source || g === 'source') parts.push(sql`JOIN customers ON customers.id = opportunities.customer_id`);
  if (g === 'partner') parts.push(partnerJoin('optn', sql`opportunities.owner_unit_id`));
  return sql.join(parts, sql` `);
}

/** The group key of an opportunity as text (null: no group, or the company's own staff for `partner`). Needs `opportunitySource(…, g)`. */
export function opportunityGroup(g: GroupBy | undefined): SQL {
  switch (g) {
    case 'unit':
      return sql`opportunities.owner_unit_id::text`;
    case 'user':
      return sql`opportunities.owner_user_id::text`;
    case 'partner':
      return sql`optn.partner_id`;
    case 'source':
      return sql`customers.source_channel`;
    default:
      return sql`NULL::text`;
  }
}

/**
 * The group key of a user's own work (interactions logged, actions done): the user, its unit or its
 * partner; `join` goes into the FROM list (the unit → partner map, for `partner`).
 */
export function userGroup(g: Exclude<GroupBy, 'source'>, userId: SQL, unitId: SQL): { key: SQL; join: SQL } {
  switch (g) {
    case 'user':
      return { key: sql`${userId}::text`, join: sql`` };
    case 'unit':
      return { key: sql`${unitId}::text`, join: sql`` };
    case 'partner':
      return { key: sql`uptn.partner_id`, join: partnerJoin('uptn', unitId) };
  }
}

/**
 * Opportunity rows as a CTE `opp (id, created_at, created_stage_id, status, closed_at, amount, currency, stage_id, g)`:
 * visible, in the pipeline, matching the filters, created before `until`.
 * - `activeSince`: only those created or moved within [activeSince, until); no other can have reached a
 *   stage in that period (left out before the history is walked: an index range on each side).
 * - `decidedOnly`: only those that may stand WON or LOST at `until`: WON or LOST now, or moved since
 *   `until` (a deal open now that has not moved since stood open then). For measurements that count
 *   decided deals only, over periods that end now or lately.
 */
export function opportunityCte(p: Principal, s: OpportunityScope, g: GroupBy | undefined, until: Date, o: { activeSince?: Date | undefined; decidedOnly?: boolean } = {}): SQL {
  const active = o.activeSince
    ? sql` AND (opportunities.created_at >= ${o.activeSince.toISOString()}::timestamptz OR opportunities.id IN (SELECT sa.opportunity_id FROM stage_transitions sa
        WHERE sa.at >= ${o.activeSince.toISOString()}::timestamptz AND sa.at < ${until.toISOString()}::timestamptz))`
    : sql``;
  const decided = o.decidedOnly
    ? sql` AND (opportunities.status IN ('WON', 'LOST') OR opportunities.id IN (SELECT sl.opportunity_id FROM stage_transitions sl WHERE sl.at >= ${until.toISOString()}::timestamptz))`
    : sql``;
  return sql`opp AS (
    SELECT opportunities.id, opportunities.created_at, opportunities.created_stage_id, opportunities.status, opportunities.closed_at, opportunities.amount,
      opportunities.currency, opportunities.stage_id, ${opportunityGroup(g)} AS g
    FROM ${opportunitySource(s, g)}
    WHERE ${opportunityFilter(p, s)} AND opportunities.created_at < ${until.toISOString()}::timestamptz${active}${decided}
  )`;
}

/**
 * The stage transitions made within [from, to) of the opportunities `opportunityCte` would give for
 * `to`, as a CTE `mv (opportunity_id, g, from_stage_id, to_stage_id, seconds_in_from_stage)`: driven
 * from the period's transitions (an index range on `at`), each joined to its opportunity by primary key.
 */
export function periodMovesCte(p: Principal, s: OpportunityScope, g: GroupBy | undefined, from: Date, to: Date): SQL {
  return sql`mv AS (
    SELECT st.opportunity_id, vis.g, st.from_stage_id, st.to_stage_id, st.seconds_in_from_stage
    FROM stage_transitions st CROSS JOIN LATERAL (SELECT ${opportunityGroup(g)} AS g FROM ${opportunitySource(s, g)}
      WHERE opportunities.id = st.opportunity_id AND ${opportunityFilter(p, s)} AND opportunities.created_at < ${to.toISOString()}::timestamptz) vis
    WHERE st.at >= ${from.toISOString()}::timestamptz AND st.at < ${to.toISOString()}::timestamptz
  )`;
}

/**
 * The pipeline's stages as a CTE `stg (id, key, position, probability, outcome, rank)`: `rank` orders
 * progress (an open stage's position; WON beyond every open stage; LOST none).
 */
export function stageCte(pipelineId: string): SQL {
  return sql`stg AS (
    SELECT id, key, position, probability, outcome,
      CASE WHEN outcome = 'WON' THEN 2147483647 WHEN outcome = 'LOST' THEN NULL ELSE position END AS rank
    FROM pipeline_stages WHERE pipeline_id = ${pipelineId}::uuid
  )`;
}
