import { sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { type Principal, requirePermission, scopeFor } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, fieldError, notFound } from '../../lib/errors.js';
import { type Page, timeOrder, timePage, withCount } from '../../lib/pagination.js';
import { type DelegationRow, delegationsRepository as repo, type UserFacts } from './delegations.repository.js';
import type { CreateDelegationInput, DelegationDto, DelegationFilter } from './org.schemas.js';

const iso = (d: Date) => d.toISOString();

export const toDelegationDto = (r: DelegationRow): DelegationDto => ({
  id: r.id,
  fromUserId: r.fromUserId,
  toUserId: r.toUserId,
  startsAt: iso(r.startsAt),
  endsAt: iso(r.endsAt),
  revokedAt: r.revokedAt ? iso(r.revokedAt) : null,
  createdBy: r.createdBy,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
  active: r.active,
});

const ownerOf = (r: { fromUserId: string }, unitId: string) => ({ ownerUserId: r.fromUserId, ownerUnitId: unitId });

// A user named in a write: one the caller cannot see does not exist for it (400, like a wrong id).
function requireUser(u: UserFacts | null, path: string, opts: { active?: boolean } = {}): UserFacts {
  if (!u || !u.visible || (opts.active && !u.active)) throw fieldError('VALIDATION_FAILED', path, opts.active ? 'no such active user' : 'no such user');
  return u;
}

/** Ends every running or future delegation a user gave or received (used when the user is deactivated). */
export async function endDelegationsOf(tx: Executor, p: Principal, userId: string, unitId: string): Promise<number> {
  const ended = await repo.endAllOf(tx, userId);
  for (const d of ended) {
    await recordChange(tx, p, { entityType: 'delegation', entityId: d.id, action: 'revoked', before: null, after: { ...toDelegationDto(d), reason: 'user deactivated' }, owner: ownerOf(d, unitId) });
  }
  return ended.length;
}

export function createDelegationService(database: Database) {
  const { db } = database;

  return {
    async listDelegations(p: Principal, q: DelegationFilter & { cursor?: string | undefined; limit: number }): Promise<Page<DelegationDto>> {
      const order = timeOrder(q);
      const pg = timePage(await repo.list(db, p, q, order, q.limit), q.limit, order);
      return withCount({ ...pg, data: pg.data.map(toDelegationDto) }, () => repo.count(db, p, q));
    },

    async getDelegation(p: Principal, id: string): Promise<DelegationDto> {
      const row = await repo.findVisible(db, p, id);
      if (!row) throw notFound('delegation');
      return toDelegationDto(row);
    },

    async createDelegation(p: Principal, input: CreateDelegationInput): Promise<DelegationDto> {
      requirePermission(p, 'delegations:create');
      return db.transaction(async (tx) => {
        const fromId = input.fromUserId ?? p.userId;
        const byOther = fromId !== p.userId;
        // Made by the delegator itself, or by a manager whose scope covers both users.
        const manages = byOther && scopeFor(p, 'delegations:create')?.scope !== 'OWN';
        const from = requireUser(await repo.userFacts(tx, p, 'delegations:create', fromId), 'fromUserId', { active: true });
        if (byOther && !(manages && from.inReach)) throw fieldError('FORBIDDEN', 'fromUserId', 'only the delegator or a manager over both users may delegate this work');
        const to = requireUser(await repo.userFacts(tx, p, 'delegations:create', input.toUserId, 'share'), 'toUserId', { active: true });
        if (to.id === from.id) throw fieldError('VALIDATION_FAILED', 'toUserId', 'cannot delegate to oneself');
        if (byOther && !to.inReach) throw fieldError('FORBIDDEN', 'toUserId', 'outside your reach');
        // Delegated work is seen by the delegate: it must not carry one partner's customers to another.
        if (from.partnerPath !== to.partnerPath) {
          throw fieldError('DELEGATION_CROSSES_PARTNER', 'toUserId', 'a delegation never crosses a partner boundary: both users must belong to the same partner, or both to the company’s own staff');
        }
        const row = await repo.insert(tx, {
          fromUserId: from.id,
          toUserId: to.id,
          // The database's clock, as the access check reads it, truncated (not rounded up) to the column's
          // millisecond precision: a delegation made "now" is active at once.
          startsAt: input.startsAt ? new Date(input.startsAt) : sql`date_trunc('milliseconds', now())`,
          endsAt: new Date(input.endsAt),
          createdBy: p.userId,
        });
        const dto = toDelegationDto(row);
        await recordChange(tx, p, { entityType: 'delegation', entityId: row.id, action: 'created', before: null, after: dto, owner: ownerOf(row, from.unitId) });
        return dto;
      });
    },

    /**
     * The delegator and the delegate may always end their own delegation (it only takes rights
     * away); others need delegations:delete at a scope covering both users. Revoking a revoked
     * delegation changes nothing and writes nothing.
     */
    async revokeDelegation(p: Principal, id: string): Promise<DelegationDto> {
      return db.transaction(async (tx) => {
        const hit = await repo.findForRevoke(tx, p, id);
        if (!hit) throw notFound('delegation');
        const d = hit.row;
        const party = d.fromUserId === p.userId || d.toUserId === p.userId;
        if (!party && !hit.manages) throw new AppError('FORBIDDEN', 'missing permission delegations:delete on this delegation');
        if (d.revokedAt) return toDelegationDto(d);
        const after = await repo.revoke(tx, id);
        if (!after) throw notFound('delegation');
        const from = await repo.userFacts(tx, p, 'delegations:read', d.fromUserId);
        await recordChange(tx, p, { entityType: 'delegation', entityId: id, action: 'revoked', before: toDelegationDto(d), after: toDelegationDto(after), owner: ownerOf(d, from?.unitId ?? p.unitId) });
        return toDelegationDto(after);
      });
    },
  };
}
