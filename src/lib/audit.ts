import type { Executor } from '../db/client.js';
import { auditLog, events } from '../db/schema/index.js';
import type { Principal } from './access.js';

export type Change = {
  entityType: string;
  entityId: string;
  action: string;
  before: unknown;
  after: unknown;
  onBehalfOfId?: string | null;
  owner?: { ownerUserId: string | null; ownerUnitId: string | null };
};

/**
 * Writes the audit row and the outbox event of one change. Always called with the transaction
 * that makes the change, so the three land together or not at all.
 */
export async function recordChange(tx: Executor, p: Principal, c: Change): Promise<void> {
  await tx.insert(auditLog).values({
    actorId: p.userId,
    onBehalfOfId: c.onBehalfOfId ?? null,
    client: p.client ?? null,
    requestId: p.requestId ?? null,
    entityType: c.entityType,
    entityId: c.entityId,
    action: c.action,
    before: c.before ?? null,
    after: c.after ?? null,
  });
  await tx.insert(events).values({
    type: `${c.entityType}.${c.action}`,
    entityType: c.entityType,
    entityId: c.entityId,
    ownerUserId: c.owner?.ownerUserId ?? null,
    ownerUnitId: c.owner?.ownerUnitId ?? null,
    actorId: p.userId,
    onBehalfOfId: c.onBehalfOfId ?? null,
    payload: { before: c.before ?? null, after: c.after ?? null },
  });
}
