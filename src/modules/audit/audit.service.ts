import type { Database } from '../../db/client.js';
import { hiddenFields, type Principal, requirePermission } from '../../lib/access.js';
import { decodeCursor, type Page, pageOf, withCount } from '../../lib/pagination.js';
import { fieldError } from '../../lib/errors.js';
import { type AuditRow, auditRepository as repo } from './audit.repository.js';
import type { AuditEntryDto, ListAuditQuery } from './audit.schemas.js';

// The fields a role hides (`customer.creditStatus`, …) are removed from before/after of that entity's rows.
function mask(entityType: string, value: unknown, hidden: Set<string>): unknown {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return value ?? null;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (!hidden.has(`${entityType}.${k}`)) out[k] = v;
  return out;
}

export function createAuditService(database: Database) {
  const { db } = database;
  return {
    async list(p: Principal, q: ListAuditQuery): Promise<Page<AuditEntryDto>> {
      requirePermission(p, 'audit:read');
      let afterId: number | undefined;
      if (q.cursor) {
        const [id] = decodeCursor(q.cursor, 1);
        if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw fieldError('VALIDATION_FAILED', 'cursor', 'invalid cursor');
        afterId = id;
      }
      const rows = await repo.list(db, p, q, afterId);
      const pg = pageOf(rows, q.limit, (r: AuditRow) => [r.id]);
      const hidden = hiddenFields(p);
      return withCount({
        ...pg,
        data: pg.data.map((r) => ({
          id: String(r.id),
          at: r.at.toISOString(),
          actorId: r.actorId,
          onBehalfOfId: r.onBehalfOfId,
          requestId: r.requestId,
          client: r.client,
          entityType: r.entityType,
          entityId: r.entityId,
          action: r.action,
          before: mask(r.entityType, r.before, hidden),
          after: mask(r.entityType, r.after, hidden),
        })),
      }, () => repo.count(db, p, q));
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
