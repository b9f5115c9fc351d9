import type { Database } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, fieldError, notFound } from '../../lib/errors.js';
import { cursorForSort, type Page, pageOf, parseSort, sortKey, withCount } from '../../lib/pagination.js';
import { customersRepository } from '../customers/index.js';
import { orgRepository as repo } from './org.repository.js';
import { type CreateShareInput, type CustomerSharesQuery, type ListSharesQuery, SHARE_SORTS, type ShareDto, type ShareResourceType } from './org.schemas.js';
import { type ShareFilterRow, type ShareRow, sharesRepository as shares } from './shares.repository.js';

const iso = (d: Date) => d.toISOString();

// The API speaks the upper-case resource type; the table keeps the lower-case one that the
// visibility predicate (lib/access.ts) matches shares on.
const STORED: Record<ShareResourceType, string> = { CUSTOMER: 'customer' };
const answered = (stored: string): ShareResourceType => {
  const hit = (Object.keys(STORED) as ShareResourceType[]).find((k) => STORED[k] === stored);
  if (!hit) throw new Error(`unknown stored share resource type ${stored}`);
  return hit;
};

export const toShareDto = (r: ShareRow): ShareDto => ({
  id: r.id,
  resourceType: answered(r.resourceType),
  resourceId: r.resourceId,
  toUnitId: r.toUnitId,
  toUserId: r.toUserId,
  expiresAt: r.expiresAt ? iso(r.expiresAt) : null,
  createdBy: r.createdBy,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.createdAt),
});

export function createShareService(database: Database) {
  const { db } = database;

  // A page of a shares list with this filter and sort, and the count of all its pages.
  const page = async (p: Principal, filter: ShareFilterRow, q: { sort?: string | undefined; cursor?: string | undefined; limit: number }): Promise<Page<ShareDto>> => {
    const sort = sortKey(parseSort(q.sort, SHARE_SORTS, '-createdAt'));
    const rows = await shares.list(db, p, filter, sort.startsWith('-'), cursorForSort(q.cursor, sort), q.limit);
    const pg = pageOf(rows, q.limit, (r) => [iso(r.createdAt), r.id], sort);
    return withCount({ ...pg, data: pg.data.map(toShareDto) }, () => shares.count(db, p, filter));
  };

  return {
    async listShares(p: Principal, q: ListSharesQuery): Promise<Page<ShareDto>> {
      const { limit: _l, cursor: _c, count: _n, sort: _s, ...rest } = q;
      return page(p, { ...rest, resourceType: q.resourceType ? STORED[q.resourceType] : undefined }, q);
    },

    async getShare(p: Principal, id: string): Promise<ShareDto> {
      const row = await shares.findVisible(db, p, id);
      if (!row) throw notFound('share');
      return toShareDto(row);
    },

    /** The shares of one customer the caller sees; a customer it cannot see answers 404. */
    async listCustomerShares(p: Principal, customerId: string, q: CustomerSharesQuery): Promise<Page<ShareDto>> {
      if (!(await customersRepository.findVisible(db, p, customerId))) throw notFound('customer');
      return page(p, { resourceType: STORED.CUSTOMER, resourceId: customerId, updatedAfter: q.updatedAfter }, q);
    },

    /** Per customer, the shares the caller sees (GraphQL Customer.shares): one statement for all. */
    async sharesByCustomers(p: Principal, customerIds: string[]): Promise<Map<string, ShareDto[]>> {
      const out = new Map<string, ShareDto[]>();
      for (const r of await shares.onResources(db, p, STORED.CUSTOMER, customerIds)) {
        const list = out.get(r.resourceId) ?? [];
        list.push(toShareDto(r));
        out.set(r.resourceId, list);
      }
      return out;
    },

    // An explicit read grant on one record, made by someone who may edit the record.
    async createShare(p: Principal, input: CreateShareInput): Promise<ShareDto> {
      requirePermission(p, 'shares:create');
      return db.transaction(async (tx) => {
        const hit = await customersRepository.findForAction(tx, p, input.resourceId, 'customers:update');
        if (!hit) throw notFound('customer');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'only those who may edit the customer may share it');
        // The company's staff may share with any unit or user; a partner's users only with those they
        // can see, so that other partners' ids cannot be probed.
        const staff = p.partnerPath === null;
        if (input.toUnitId && !(staff ? await repo.unitById(tx, input.toUnitId) : (await repo.unitsByIds(tx, p, [input.toUnitId]))[0])) {
          throw fieldError('VALIDATION_FAILED', 'toUnitId', 'no such unit');
        }
        if (input.toUserId && !(staff ? await repo.userById(tx, input.toUserId) : await repo.userVisibleById(tx, p, input.toUserId))) {
          throw fieldError('VALIDATION_FAILED', 'toUserId', 'no such user');
        }
        const row = await shares.insert(tx, {
          resourceType: STORED[input.resourceType],
          resourceId: input.resourceId,
          toUnitId: input.toUnitId ?? null,
          toUserId: input.toUserId ?? null,
          expiresAt: input.expiresAt ? new Date(input.expiresAt) : null,
          createdBy: p.userId,
        });
        await recordChange(tx, p, { entityType: 'share', entityId: row.id, action: 'created', before: null, after: toShareDto(row), owner: hit.row });
        return toShareDto(row);
      });
    },

    async deleteShare(p: Principal, id: string): Promise<void> {
      requirePermission(p, 'shares:delete');
      await db.transaction(async (tx) => {
        const share = await shares.byId(tx, id);
        if (!share) throw notFound('share');
        const hit = await customersRepository.findForAction(tx, p, share.resourceId, 'customers:update');
        if (!hit) throw notFound('share');
        if (!hit.allowed && share.createdBy !== p.userId) throw new AppError('FORBIDDEN', 'only those who may edit the customer may revoke its shares');
        await shares.delete(tx, id);
        await recordChange(tx, p, { entityType: 'share', entityId: id, action: 'deleted', before: toShareDto(share), after: null, owner: hit.row });
      });
    },
  };
}
