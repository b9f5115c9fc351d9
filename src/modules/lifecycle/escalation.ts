import type { Database } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { createEscalationAction } from '../actions/index.js';
import { grantEscalationShare, systemPrincipal, nearestHead } from '../org/index.js';
import { lifecycleRepository as repo } from './lifecycle.repository.js';

/**
 * A missed handoff deadline escalates to the nearest head of the receiving unit (else the
 * longest-standing admin), exactly once: safe to run any number of times from any number of
 * processes, since the conditional update flips the status once and only the transaction that
 * flipped it writes the action (unique per handoff) and the share.
 */
export function createEscalation(database: Database) {
  const { db } = database;

  async function escalate(handoffId: string, system?: Principal): Promise<boolean> {
    const actor = system ?? (await systemPrincipal(db));
    return db.transaction(async (tx) => {
      const due = await repo.dueForEscalation(tx, handoffId);
      if (!due) return false;
      const assignee = await nearestHead(tx, due.toUnitId, due.toUserId);
      if (!(await repo.markEscalated(tx, handoffId, assignee?.id ?? null))) return false;
      await recordChange(tx, actor, {
        entityType: 'handoff',
        entityId: handoffId,
        action: 'escalated',
        before: { status: 'PENDING' },
        after: { status: 'ESCALATED', escalatedToId: assignee?.id ?? null, customerId: due.customerId },
        owner: due.owner,
      });
      // Without any manager or admin there is no one to give the action to; the status still records it.
      if (!assignee) return true;
      await createEscalationAction(tx, actor, { customerId: due.customerId, customerName: due.customerName, handoffId, assignee });
      // The manager must be able to open the lead the action is about: an explicit read share, the
      // visibility rule's own grant.
      await grantEscalationShare(tx, actor, due.customerId, assignee.id, due.owner);
      return true;
    });
  }

  return {
    escalate: (handoffId: string): Promise<boolean> => escalate(handoffId),

    /** Escalates every overdue pending handoff (the safety net behind the per-handoff jobs). */
    async escalateOverdue(limit = 500): Promise<number> {
      const due = await repo.overdueIds(db, limit);
      if (due.length === 0) return 0;
      const system = await systemPrincipal(db);
      let n = 0;
      for (const id of due) if (await escalate(id, system)) n++;
      return n;
    },
  };
}
