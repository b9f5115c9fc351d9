import { sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../../db/client.js';
import { access, type Principal } from '../../lib/access.js';
import { stagesFrom } from '../customers/index.js';

export type SourceRow = { channel: string | null; campaign: string | null; customers: number; to_opportunity: number; to_customer: number };

// Stages at or beyond OPPORTUNITY, and at or beyond CUSTOMER (the lifecycle order of domain.md §2).
const FROM_OPPORTUNITY = stagesFrom('OPPORTUNITY');
const FROM_CUSTOMER = stagesFrom('CUSTOMER');

// A customer "reached" a stage when it stands there now or a lifecycle transition ever took it there
// (a customer moved back to PROSPECT still counts as having reached OPPORTUNITY).
const reached = (stages: string[]) =>
  sql`(customers.lifecycle_stage = ANY(${sql.param(stages)}::text[])
    OR EXISTS (SELECT 1 FROM lifecycle_transitions lt WHERE lt.customer_id = customers.id AND lt.to_stage = ANY(${sql.param(stages)}::text[])))`;

export const reportsRepository = {
  /** Customers created in [from, to) and visible to the caller, per source channel and campaign. */
  async sources(ex: Executor, p: Principal, from: Date, to: Date): Promise<SourceRow[]> {
    const rows = await queryRows<{ channel: string | null; campaign: string | null; customers: string; to_opportunity: string; to_customer: string }>(
      ex,
      sql`SELECT customers.source_channel AS channel, customers.source_campaign AS campaign, count(*) AS customers,
          count(*) FILTER (WHERE ${reached(FROM_OPPORTUNITY)}) AS to_opportunity,
          count(*) FILTER (WHERE ${reached(FROM_CUSTOMER)}) AS to_customer
        FROM customers
        WHERE customers.created_at >= ${from.toISOString()}::timestamptz AND customers.created_at < ${to.toISOString()}::timestamptz
          AND customers.status = 'ACTIVE' AND ${access.customer.visible(p)}
        GROUP BY 1, 2
        ORDER BY count(*) DESC, 1 NULLS LAST, 2 NULLS FIRST`,
    );
    return rows.map((r) => ({ ...r, customers: Number(r.customers), to_opportunity: Number(r.to_opportunity), to_customer: Number(r.to_customer) }));
  },
};
