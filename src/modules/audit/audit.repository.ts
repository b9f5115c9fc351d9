import { and, desc, eq, gte, lt, type SQL, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client.js';
import { auditLog, customers, opportunities, users } from '../../db/schema/index.js';
import { access, type Principal, scopeFor } from '../../lib/access.js';
import { countRows } from '../../lib/pagination.js';
import type { ListAuditQuery } from './audit.schemas.js';

export type AuditRow = typeof auditLog.$inferSelect;

/**
 * Audit rows a principal may read. With `audit:read` over the whole company (admin, executive at
 * headquarters) every row; otherwise (a partner's, or a custom role of a narrower scope) rows about
 * customers and opportunities it sees, and rows of other records written by users it sees.
 */
function visible(p: Principal): SQL {
  const s = scopeFor(p, 'audit:read');
  if (s?.scope === 'ALL' && p.partnerPath === null) return sql`TRUE`;
  const customerSeen = sql`EXISTS (SELECT 1 FROM customers WHERE ${customers.id} = ${auditLog.entityId} AND ${access.customer.visible(p)})`;
  const opportunitySeen = sql`EXISTS (SELECT 1 FROM opportunities WHERE ${opportunities.id} = ${auditLog.entityId} AND ${access.opportunity.visible(p)})`;
  const actorSeen = sql`EXISTS (SELECT 1 FROM users WHERE ${users.id} = ${auditLog.actorId} AND ${access.user.visible(p)})`;
  return sql`CASE ${auditLog.entityType} WHEN 'customer' THEN ${customerSeen} WHEN 'opportunity' THEN ${opportunitySeen} ELSE ${actorSeen} END`;
}

function conditions(p: Principal, q: ListAuditQuery): (SQL | undefined)[] {
  const conds: (SQL | undefined)[] = [visible(p)];
  if (q.entityType) conds.push(eq(auditLog.entityType, q.entityType));
  if (q.entityId) conds.push(eq(auditLog.entityId, q.entityId));
  if (q.actorId) conds.push(eq(auditLog.actorId, q.actorId));
  if (q.after) conds.push(gte(auditLog.at, new Date(q.after)));
  if (q.before) conds.push(lt(auditLog.at, new Date(q.before)));
  return conds;
}

export const auditRepository = {
  count: (ex: Executor, p: Principal, q: ListAuditQuery): Promise<number> => countRows(ex, auditLog, and(...conditions(p, q))),

  async list(ex: Executor, p: Principal, q: ListAuditQuery, afterId: number | undefined): Promise<AuditRow[]> {
    const conds = conditions(p, q);
    if (afterId !== undefined) conds.push(lt(auditLog.id, afterId));
    // Newest first; the id (a sequence) is the keyset.
    return ex
      .select()
      .from(auditLog)
      .where(and(...conds))
      .orderBy(desc(auditLog.id))
      .limit(q.limit + 1);
  },
};
