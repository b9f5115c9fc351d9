import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { access, type Principal, unitReachPredicate } from '../../lib/access.js';
import { LIFECYCLE_STAGES } from '../customers/index.js';
import { type GroupBy, type OpportunityScope, opportunityFilter, opportunityGroup, opportunitySource, userGroup } from './report-scope.js';

// Sales performance (deals created and converted, activity) and the lifecycle cohorts a plan reads.

export type CreatedRow = { g: string | null; created: number; created_won: number };
export type ActivityRow = { g: string | null; n: number };
export type LifecycleCohort = { suspects: number; suspectsAdvanced: number; prospects: number; prospectsAdvanced: number };

const num = (v: unknown): number => Number(v ?? 0);
const iso = (d: Date) => sql`${d.toISOString()}::timestamptz`;
type PeopleGroup = Exclude<GroupBy, 'source'>;

// A lifecycle stage's rank in SQL (SUSPECT 0 … USER 4).
const rankOf = (col: ReturnType<typeof sql>) => sql`array_position(${sql.param([...LIFECYCLE_STAGES])}::text[], ${col}) - 1`;

export const activityRepository = {
  /** Deals created within the period, and how many of them stand WON now. */
  async created(ex: Executor, p: Principal, s: OpportunityScope, g: GroupBy, from: Date, to: Date): Promise<CreatedRow[]> {
    const rows = await queryRows<Record<string, unknown>>(
      ex,
      sql`SELECT ${opportunityGroup(g)} AS g, count(*) AS created, count(*) FILTER (WHERE opportunities.status = 'WON') AS created_won
        FROM ${opportunitySource(s, g)}
        WHERE ${opportunityFilter(p, s)} AND opportunities.created_at >= ${iso(from)} AND opportunities.created_at < ${iso(to)}
        GROUP BY 1`,
    );
    return rows.map((r) => ({ g: (r.g as string | null) ?? null, created: num(r.created), created_won: num(r.created_won) }));
  },

  /**
   * Interactions on customers the caller sees, occurred within the period, by who logged them — people
   * within the caller's reach only: a customer shared with a partner does not put the company's
   * salespeople (or their units' names) into the partner's report.
   */
  async interactions(ex: Executor, p: Principal, g: PeopleGroup, from: Date, to: Date, ownerUnitId?: string, ownerUserId?: string): Promise<ActivityRow[]> {
    const group = userGroup(g, sql`interactions.actor_id`, sql`au.unit_id`);
    const rows = await queryRows<Record<string, unknown>>(
      ex,
      sql`SELECT ${group.key} AS g, count(*) AS n
        FROM interactions JOIN customers ON customers.id = interactions.customer_id JOIN users au ON au.id = interactions.actor_id ${group.join}
        WHERE ${access.interaction.visible(p)} AND ${unitReachPredicate(p, 'users:read', sql`au.unit_id`)} AND interactions.occurred_at >= ${iso(from)} AND interactions.occurred_at < ${iso(to)}
          ${ownerUnitId ? sql`AND au.unit_id IN (SELECT su.id FROM org_units su WHERE su.path LIKE (SELECT u.path FROM org_units u WHERE u.id = ${ownerUnitId}::uuid) || '%')` : sql``}
          ${ownerUserId ? sql`AND interactions.actor_id = ${ownerUserId}::uuid` : sql``}
        GROUP BY 1`,
    );
    return rows.map((r) => ({ g: (r.g as string | null) ?? null, n: num(r.n) }));
  },

  /** Key actions completed within the period that the caller sees, by assignee (within the caller's reach, as above). */
  async actionsDone(ex: Executor, p: Principal, g: PeopleGroup, from: Date, to: Date, ownerUnitId?: string, ownerUserId?: string): Promise<ActivityRow[]> {
    const group = userGroup(g, sql`actions.assignee_id`, sql`actions.owner_unit_id`);
    const rows = await queryRows<Record<string, unknown>>(
      ex,
      sql`SELECT ${group.key} AS g, count(*) AS n
        FROM actions JOIN customers ON customers.id = actions.customer_id LEFT JOIN opportunities ON opportunities.id = actions.opportunity_id ${group.join}
        WHERE ${access.action.visible(p)} AND ${unitReachPredicate(p, 'users:read', sql`actions.owner_unit_id`)} AND actions.status = 'DONE' AND actions.completed_at >= ${iso(from)} AND actions.completed_at < ${iso(to)}
          ${ownerUnitId ? sql`AND actions.owner_unit_id IN (SELECT su.id FROM org_units su WHERE su.path LIKE (SELECT u.path FROM org_units u WHERE u.id = ${ownerUnitId}::uuid) || '%')` : sql``}
          ${ownerUserId ? sql`AND actions.assignee_id = ${ownerUserId}::uuid` : sql``}
        GROUP BY 1`,
    );
    return rows.map((r) => ({ g: (r.g as string | null) ?? null, n: num(r.n) }));
  },

  /**
   * Customers created within [from, to) that the caller sees (merged duplicates left out), owned in
   * the unit's subtree (anywhere when null): those created as SUSPECT and how many reached PROSPECT or
   * beyond by `to`; those created at or before PROSPECT that reached it, and how many went on to
   * OPPORTUNITY or beyond. The creation stage is the first transition's origin (the current stage
   * when the customer never moved).
   */
  async lifecycleCohort(ex: Executor, p: Principal, unitId: string | null, from: Date, to: Date): Promise<LifecycleCohort> {
    const inUnit = unitId
      ? sql`AND customers.owner_unit_id IN (SELECT su.id FROM org_units su WHERE su.path LIKE (SELECT u.path FROM org_units u WHERE u.id = ${unitId}::uuid) || '%')`
      : sql``;
    const [r] = await queryRows<Record<string, unknown>>(
      ex,
      sql`WITH c AS (
          SELECT customers.id,
            ${rankOf(sql`COALESCE((SELECT lt.from_stage FROM lifecycle_transitions lt WHERE lt.customer_id = customers.id ORDER BY lt.at, lt.id LIMIT 1), customers.lifecycle_stage)`)} AS first_rank,
            GREATEST(${rankOf(sql`COALESCE((SELECT lt.from_stage FROM lifecycle_transitions lt WHERE lt.customer_id = customers.id ORDER BY lt.at, lt.id LIMIT 1), customers.lifecycle_stage)`)},
              COALESCE((SELECT max(${rankOf(sql`lt.to_stage`)}) FROM lifecycle_transitions lt WHERE lt.customer_id = customers.id AND lt.at < ${iso(to)}), -1)) AS top_rank
          FROM customers
          WHERE customers.status <> 'MERGED' AND ${access.customer.visible(p)} ${inUnit}
            AND customers.created_at >= ${iso(from)} AND customers.created_at < ${iso(to)}
        )
        SELECT count(*) FILTER (WHERE first_rank = 0) AS suspects,
          count(*) FILTER (WHERE first_rank = 0 AND top_rank >= 1) AS suspects_advanced,
          count(*) FILTER (WHERE first_rank <= 1 AND top_rank >= 1) AS prospects,
          count(*) FILTER (WHERE first_rank <= 1 AND top_rank >= 2) AS prospects_advanced
        FROM c`,
    );
    return { suspects: num(r?.suspects), suspectsAdvanced: num(r?.suspects_advanced), prospects: num(r?.prospects), prospectsAdvanced: num(r?.prospects_advanced) };
  },
};
