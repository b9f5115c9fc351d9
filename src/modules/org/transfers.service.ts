import { randomUUID } from 'node:crypto';
import type { Database } from '../../db/client.js';
import { type Principal, requirePermission, scopeFor } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, fieldError } from '../../lib/errors.js';
import { delegationsRepository } from './delegations.repository.js';
import { orgRepository } from './org.repository.js';
import type { TransferDto, TransferInput } from './org.schemas.js';
import { type TransferRow, transfersRepository as repo } from './transfers.repository.js';
import { staffRepository } from './staff.repository.js';
import { openActionCount, transferOpenActions } from '../actions/index.js';
import { ownershipRepository } from '../customers/index.js';
import { transferOpenOpportunities } from '../opportunities/index.js';

const PERMISSION = 'transfers:create';

export const toTransferDto = (r: TransferRow): TransferDto => ({
  id: r.id,
  fromUserId: r.fromUserId,
  toUserId: r.toUserId,
  toUnitId: r.toUnitId,
  counts: { customers: r.counts.customers ?? 0, opportunities: r.counts.opportunities ?? 0, actions: r.counts.actions ?? 0 },
  actorId: r.actorId,
  at: r.at.toISOString(),
});

export function createTransferService(database: Database) {
  const { db } = database;

  return {
    /**
     * Hands a user's book to another user or to a unit's pool, in one transaction: customers it
     * owns, its open opportunities and its open actions, each with an ownership_changes row and an
     * event, plus the transfer itself and its audit row. Nothing moves unless everything does.
     */
    async transferWork(p: Principal, input: TransferInput): Promise<TransferDto> {
      requirePermission(p, PERMISSION);
      // Handing someone else's records over is a head's act: an OWN scope reaches no one else's.
      if (scopeFor(p, PERMISSION)?.scope === 'OWN') throw new AppError('FORBIDDEN', 'transfers need a scope over the users concerned');
      return db.transaction(async (tx) => {
        // The from-user row is locked: a deactivation of the same user waits for the transfer.
        const from = await delegationsRepository.userFacts(tx, p, PERMISSION, input.fromUserId, 'update');
        if (!from || !from.visible) throw fieldError('VALIDATION_FAILED', 'fromUserId', 'no such user');
        if (!from.inReach) throw fieldError('FORBIDDEN', 'fromUserId', 'outside your reach');
        let toUserId: string | null = null;
        let toUnitId: string;
        if (input.toUserId) {
          // Shared lock: the target cannot be deactivated while records move to it.
          const to = await delegationsRepository.userFacts(tx, p, PERMISSION, input.toUserId, 'share');
          if (!to || !to.visible || !to.active) throw fieldError('VALIDATION_FAILED', 'toUserId', 'no such active user');
          if (!to.inReach) throw fieldError('FORBIDDEN', 'toUserId', 'outside your reach');
          toUserId = to.id;
          toUnitId = to.unitId;
        } else {
          const unitId = input.toUnitId ?? '';
          const unit = await orgRepository.unitById(tx, unitId);
          if (!unit || (await orgRepository.unitsByIds(tx, p, [unitId])).length === 0) throw fieldError('VALIDATION_FAILED', 'toUnitId', 'no such unit');
          if (!(await orgRepository.unitInReach(tx, p, PERMISSION, unitId))) throw fieldError('FORBIDDEN', 'toUnitId', 'outside your reach');
          toUnitId = unit.id;
        }
        const m = { transferId: randomUUID(), fromUserId: from.id, toUserId, toUnitId, actor: p };
        const customers = await ownershipRepository.transferCustomers(tx, m);
        const opportunities = await transferOpenOpportunities(tx, m);
        // An action always has an assignee: into a pool, it goes to the unit's head.
        let actions = 0;
        if ((await openActionCount(tx, from.id)) > 0) {
          const assignee = toUserId ? { id: toUserId, unitId: toUnitId } : await staffRepository.headOf(tx, toUnitId);
          if (!assignee) {
            throw fieldError('UNIT_HAS_NO_MANAGER', 'toUnitId', 'the unit has no active manager to take over the open actions; transfer to a user, or give the unit a head first');
          }
          actions = await transferOpenActions(tx, m, assignee);
        }
        const row = await repo.insert(tx, m, { customers, opportunities, actions });
        const dto = toTransferDto(row);
        await recordChange(tx, p, { entityType: 'transfer', entityId: row.id, action: 'created', before: null, after: dto, owner: { ownerUserId: toUserId, ownerUnitId: toUnitId } });
        return dto;
      });
    },
  };
}
