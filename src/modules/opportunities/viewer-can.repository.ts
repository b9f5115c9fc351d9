import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { opportunities, pipelineStages } from '../../db/schema/index.js';
import { access, hasManagerScope, type Principal } from '../../lib/access.js';

export type OpportunityViewerCan = { update: boolean; transition: boolean; reopen: boolean };

/**
 * What the caller may do with each visible opportunity, in one statement: the predicate the writes
 * check (access.opportunity.allows with opportunities:update), split by the transition's own rule
 * on the current stage: from an open stage the deal moves on; from a closed one only a manager
 * (a SUBTREE or ALL scope for opportunities:update) reopens it. Invisible ids are absent.
 */
export async function opportunityViewerCan(ex: Executor, p: Principal, ids: readonly string[]): Promise<Map<string, OpportunityViewerCan>> {
  if (ids.length === 0) return new Map();
  const update = access.opportunity.allows(p, 'opportunities:update');
  const manager = hasManagerScope(p, 'opportunities:update') ? sql`TRUE` : sql`FALSE`;
  const rows = await ex
    .select({
      id: opportunities.id,
      update: sql<boolean>`(${update})`,
      transition: sql<boolean>`(${update} AND NOT ${pipelineStages.terminal})`,
      reopen: sql<boolean>`(${update} AND ${pipelineStages.terminal} AND ${manager})`,
    })
    .from(opportunities)
    .innerJoin(pipelineStages, eq(pipelineStages.id, opportunities.stageId))
    .where(and(inArray(opportunities.id, [...ids]), access.opportunity.visible(p)));
  return new Map(rows.map(({ id, ...can }) => [id, can]));
}
