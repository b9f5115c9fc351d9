import { and, inArray, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { customers } from '../../db/schema/index.js';
import { access, can, type Principal } from '../../lib/access.js';

export type CustomerViewerCan = {
  update: boolean;
  freeze: boolean;
  merge: boolean;
  transition: boolean;
  share: boolean;
  createOpportunity: boolean;
  recordInteraction: boolean;
  createContact: boolean;
};

const allows = access.customer.allows;
const live = sql`${customers.status} <> 'MERGED'`;
const active = sql`${customers.status} = 'ACTIVE'`;
// A permission the service checks before it looks at the record; false when the caller lacks it.
const holds = (p: Principal, permission: string) => (can(p, permission) ? sql`TRUE` : sql`FALSE`);

/**
 * What the caller may do with each visible customer, in one statement: each answer is the predicate
 * the corresponding write checks (access.customer.allows with that write's permission), with the
 * write's own refusals on the record's state (a merged customer is read-only, a frozen one neither
 * moves through the lifecycle nor takes new opportunities). Invisible ids are absent from the map.
 */
export async function customerViewerCan(ex: Executor, p: Principal, ids: readonly string[]): Promise<Map<string, CustomerViewerCan>> {
  if (ids.length === 0) return new Map();
  const rows = await ex
    .select({
      id: customers.id,
      update: sql<boolean>`(${allows(p, 'customers:update')} AND ${live})`,
      freeze: sql<boolean>`(${allows(p, 'customers:freeze')} AND ${live})`,
      merge: sql<boolean>`(${allows(p, 'customers:merge')} AND ${live})`,
      transition: sql<boolean>`(${holds(p, 'customers:update')} AND ${allows(p, 'customers:update')} AND ${active})`,
      share: sql<boolean>`(${holds(p, 'shares:create')} AND ${allows(p, 'customers:update')})`,
      createOpportunity: sql<boolean>`(${holds(p, 'opportunities:create')} AND ${allows(p, 'opportunities:create')} AND ${active})`,
      recordInteraction: sql<boolean>`(${allows(p, 'interactions:create')} AND ${live})`,
      createContact: sql<boolean>`(${holds(p, 'contacts:create')} AND ${allows(p, 'contacts:create')} AND ${live})`,
    })
    .from(customers)
    .where(and(inArray(customers.id, [...ids]), access.customer.visible(p)));
  return new Map(rows.map(({ id, ...can }) => [id, can]));
}
