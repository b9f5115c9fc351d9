import type { Database, Executor } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { recordChanges } from '../../lib/audit.js';
import { AppError, notFound } from '../../lib/errors.js';
import { type Page, timeOrder, timePage, withCount } from '../../lib/pagination.js';
import { customersRepository } from '../customers/index.js';
import { systemPrincipal } from '../org/index.js';
import { type ClaimRow, claimsRepository as repo, type ProtectingClaim } from './claims.repository.js';
import type { ClaimDto, CreateClaimInput, ListClaimsQuery } from './claims.schemas.js';
import { lowestCommonUnit, type ProtectionCase, refusedBy } from './protection.js';

const iso = (d: Date) => d.toISOString();
const isoOrNull = (d: Date | null) => (d ? iso(d) : null);
const DAY_MS = 86_400_000;
/** The reason a pending claim is closed with when another claim on its customer is approved. */
export const SUPERSEDED_PREFIX = 'closed: another claim on this customer was approved and protects it;';

export const toClaimDto = (r: ClaimRow): ClaimDto => ({
  id: r.id,
  customerId: r.customerId,
  opportunityId: r.opportunityId,
  claimantUserId: r.claimantUserId,
  claimantUnitId: r.claimantUnitId,
  status: r.status as ClaimDto['status'],
  protectedUntil: isoOrNull(r.protectedUntil),
  note: r.note,
  reason: r.reason,
  decidedBy: r.decidedBy,
  decidedAt: isoOrNull(r.decidedAt),
  expiredAt: isoOrNull(r.expiredAt),
  version: r.version,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
});

// A claim's events and audit rows are addressed to its claimant: the events feed shows them to whoever
// sees the claimant's records, never to the customer's other viewers.
const change = (r: ClaimRow, action: string, before: ClaimRow | null) => ({
  entityType: 'claim',
  entityId: r.id,
  action,
  before: before ? toClaimDto(before) : null,
  after: toClaimDto(r),
  owner: { ownerUserId: r.claimantUserId, ownerUnitId: r.claimantUnitId },
});

// An id in a body the caller cannot see answers as an unknown one: 404, naming the field.
const unknownId = (path: string, what: string) => new AppError('NOT_FOUND', `${path}: no such ${what}`, { errors: [{ path, message: `no such ${what}` }] });

export type ClaimExpiryScheduler = (tx: Executor, c: { id: string; at: Date }) => Promise<void>;

export function createClaimService(database: Database, opts: { protectionDays: number; scheduler?: ClaimExpiryScheduler }) {
  const { db } = database;

  /** The refusal that names only whom to ask: the unit both sides share, never the claimant. */
  async function claimed(ex: Executor, p: Principal, c: ProtectingClaim): Promise<AppError> {
    const contactUnitId = lowestCommonUnit(p.unitPath, c.claimantUnitPath);
    const contactUnitName = await repo.unitName(ex, contactUnitId);
    return new AppError('CLAIMED', `the customer is protected by an approved claim; ask ${contactUnitName || 'the contact unit'}`, { extra: { contactUnitId, contactUnitName } });
  }

  async function guard(tx: Executor, p: Principal, customerIds: string[], c: ProtectionCase): Promise<void> {
    const hit = (await repo.protecting(tx, customerIds)).find((x) => refusedBy(c, p, x.claimantUnitPath));
    if (hit) throw await claimed(tx, p, hit);
  }

  async function expireIn(tx: Executor, only: { id?: string; customerId?: string }): Promise<number> {
    const rows = await repo.expireDue(tx, only);
    if (rows.length === 0) return 0;
    const system = await systemPrincipal(tx);
    await recordChanges(tx, system, rows.map((r) => change(r, 'expired', { ...r, status: 'APPROVED', expiredAt: null })));
    return rows.length;
  }

  /**
   * Once a claim is approved, the other pending claims on the customer could never be approved while
   * the protection lasts: they are closed at once as REJECTED by the system, each with a reason that
   * names only the unit its claimant shares with the winner (whom to ask), never the winner.
   */
  async function closeOthers(tx: Executor, approved: ClaimRow, approvedUnitPath: string): Promise<void> {
    const others = await repo.otherPending(tx, approved.customerId, approved.id);
    if (others.length === 0) return;
    const system = await systemPrincipal(tx);
    const names = new Map<string, string>();
    const changes = [];
    for (const o of others) {
      const contactUnitId = lowestCommonUnit(o.claimantUnitPath, approvedUnitPath);
      if (!names.has(contactUnitId)) names.set(contactUnitId, await repo.unitName(tx, contactUnitId));
      const reason = `${SUPERSEDED_PREFIX} ask ${names.get(contactUnitId) || 'the contact unit'}`;
      const row = await repo.decide(tx, o.row.id, { status: 'REJECTED', reason, decidedBy: system.userId, decidedAt: new Date() });
      if (row) changes.push(change(row, 'rejected', o.row));
    }
    await recordChanges(tx, system, changes);
  }

  async function decide(p: Principal, id: string, reason: string, to: 'APPROVED' | 'REJECTED'): Promise<ClaimDto> {
    requirePermission(p, 'claims:approve');
    return db.transaction(async (tx) => {
      const first = await repo.findVisible(tx, p, id);
      if (!first) throw notFound('claim');
      await repo.lockCustomer(tx, first.row.customerId);
      const hit = await repo.findVisible(tx, p, id, true);
      if (!hit) throw notFound('claim');
      if (!hit.mayDecide) throw new AppError('FORBIDDEN', 'a claim is decided by a manager whose scope covers the claimant');
      if (hit.row.claimantUserId === p.userId) throw new AppError('FORBIDDEN', 'a claim is decided by someone other than its claimant');
      if (hit.row.status !== 'PENDING') throw new AppError('CLAIM_NOT_PENDING', `the claim is ${hit.row.status.toLowerCase()}`);
      let protectedUntil: Date | null = null;
      if (to === 'APPROVED') {
        // A protection that has run out but is not yet marked makes room first.
        await expireIn(tx, { customerId: hit.row.customerId });
        const holder = (await repo.protecting(tx, [hit.row.customerId]))[0];
        if (holder) {
          // Whom the claimant's side has to ask: the unit both claimants share.
          const contactUnitId = lowestCommonUnit(hit.claimantUnitPath, holder.claimantUnitPath);
          const contactUnitName = await repo.unitName(tx, contactUnitId);
          throw new AppError('CLAIMED', `another approved claim protects the customer; ask ${contactUnitName || 'the contact unit'}`, { extra: { contactUnitId, contactUnitName } });
        }
        protectedUntil = new Date(Date.now() + opts.protectionDays * DAY_MS);
      }
      const row = await repo.decide(tx, id, { status: to, reason, decidedBy: p.userId, decidedAt: new Date(), protectedUntil });
      if (!row) throw new AppError('CLAIM_NOT_PENDING', 'the claim was decided while this request ran');
      await recordChanges(tx, p, [change(row, to === 'APPROVED' ? 'approved' : 'rejected', hit.row)]);
      if (protectedUntil) {
        await closeOthers(tx, row, hit.claimantUnitPath);
        await opts.scheduler?.(tx, { id: row.id, at: protectedUntil });
      }
      return toClaimDto(row);
    });
  }

  return {
    async listClaims(p: Principal, q: ListClaimsQuery): Promise<Page<ClaimDto>> {
      requirePermission(p, 'claims:read');
      const order = timeOrder(q);
      const pg = timePage(await repo.list(db, p, q, order, q.limit), q.limit, order);
      return withCount({ ...pg, data: pg.data.map(toClaimDto) }, () => repo.count(db, p, q));
    },

    async getClaim(p: Principal, id: string): Promise<ClaimDto> {
      requirePermission(p, 'claims:read');
      const hit = await repo.findVisible(db, p, id);
      if (!hit) throw notFound('claim');
      return toClaimDto(hit.row);
    },

    /** Per customer, the claims the caller sees (GraphQL Customer.claims): one statement for all. */
    async claimsByCustomers(p: Principal, customerIds: string[]): Promise<Map<string, ClaimDto[]>> {
      const out = new Map<string, ClaimDto[]>();
      for (const r of await repo.byCustomers(db, p, customerIds)) out.set(r.customerId, [...(out.get(r.customerId) ?? []), toClaimDto(r)]);
      return out;
    },

    /**
     * Registers the caller's claim on a customer it works (write access: a share grants reading
     * only), or on a deal of it. Another unit's approved claim in force refuses it with CLAIMED.
     */
    async createClaim(p: Principal, input: CreateClaimInput): Promise<ClaimDto> {
      requirePermission(p, 'claims:create');
      return db.transaction(async (tx) => {
        await repo.lockCustomer(tx, input.customerId);
        const hit = await customersRepository.findForAction(tx, p, input.customerId, 'customers:update');
        if (!hit) throw unknownId('customerId', 'customer');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'claiming a customer needs write access to it; a share grants reading only', { errors: [{ path: 'customerId', message: 'no write access' }] });
        if (hit.row.status !== 'ACTIVE') throw new AppError(hit.row.status === 'MERGED' ? 'CUSTOMER_MERGED' : 'CUSTOMER_FROZEN', `the customer is ${hit.row.status.toLowerCase()}`);
        const opportunityId = input.opportunityId ?? null;
        if (opportunityId && !(await repo.opportunityVisibleOn(tx, p, opportunityId, input.customerId))) throw unknownId('opportunityId', 'opportunity on this customer');
        await expireIn(tx, { customerId: input.customerId });
        for (const c of await repo.protecting(tx, [input.customerId])) {
          if (refusedBy('claim', p, c.claimantUnitPath)) throw await claimed(tx, p, c);
          throw new AppError('CLAIM_EXISTS', "your unit's approved claim already protects this customer");
        }
        if (await repo.openClaimOf(tx, input.customerId, p.unitId, opportunityId)) throw new AppError('CLAIM_EXISTS', 'your unit has a pending claim on it already');
        const row = await repo.insert(tx, {
          customerId: input.customerId,
          opportunityId,
          claimantUserId: p.userId,
          claimantUnitId: p.unitId,
          note: input.note ?? null,
        });
        await recordChanges(tx, p, [change(row, 'created', null)]);
        return toClaimDto(row);
      });
    },

    approve: (p: Principal, id: string, reason: string) => decide(p, id, reason, 'APPROVED'),
    reject: (p: Principal, id: string, reason: string) => decide(p, id, reason, 'REJECTED'),

    /** The expiry job: one claim at its protection's end (idempotent: an expired claim stays expired). */
    expire: (id: string): Promise<number> => db.transaction((tx) => expireIn(tx, { id })),
    /** The sweep: every protection that has ended. */
    expireDue: (): Promise<number> => db.transaction((tx) => expireIn(tx, {})),

    // The hooks other modules call (wired in app.ts), inside their own transaction.
    duplicateGuard: (tx: Executor, p: Principal, customerIds: string[]) => guard(tx, p, customerIds, 'duplicate'),
    opportunityGuard: (tx: Executor, p: Principal, customerId: string) => guard(tx, p, [customerId], 'opportunity'),
  };
}

export type ClaimService = ReturnType<typeof createClaimService>;
