import type { Database, Executor } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, fieldError, notFound, staleWrite } from '../../lib/errors.js';
import { decodeCursor, encodeCursor, type Page, timeOrder, timePage, withCount } from '../../lib/pagination.js';
import { createAllocationAction } from '../actions/index.js';
import { changeCustomerOwner, type CustomerRow, customersRepository, type Owner } from '../customers/index.js';
import { type RuleRow, allocationRepository as repo } from './allocation.repository.js';
import type { AllocationResultDto, CreateRuleInput, ListRulesQuery, PatchRuleInput, RuleDto } from './allocation.schemas.js';
import { firstMatch, type Lead, pickUser, type RuleMatch, type Strategy } from './matching.js';

const iso = (d: Date) => d.toISOString();
const HOUR_MS = 3_600_000;

export const toRuleDto = (r: RuleRow): RuleDto => ({
  id: r.id,
  name: r.name,
  order: r.order,
  active: r.active,
  match: r.match as RuleDto['match'],
  target: r.targetUserId ? { userId: r.targetUserId } : { unitId: r.targetUnitId ?? '' },
  strategy: r.strategy as Strategy,
  capacityPerUser: r.capacityPerUser,
  version: r.version,
  createdBy: r.createdBy,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
});

const leadOf = (c: CustomerRow): Lead => ({ region: c.region, industry: c.industry, source: c.sourceChannel, kind: c.kind, lifecycleStage: c.lifecycleStage });
const withoutNulls = (m: Record<string, unknown>): RuleMatch => Object.fromEntries(Object.entries(m).filter(([, v]) => v !== null && v !== undefined)) as RuleMatch;

export function createAllocationService(database: Database, opts: { slaHours: number }) {
  const { db } = database;

  // Where the rule sends its next lead: its user; or, for a unit, the salesperson the strategy picks
  // (the rule's cursor row locked meanwhile), or the unit's pool when all are at capacity or FIXED.
  async function destination(tx: Executor, rule: RuleRow): Promise<Owner> {
    const unitId = rule.targetUnitId ?? '';
    if (rule.targetUserId) {
      const user = (await repo.candidates(tx, unitId)).find((c) => c.id === rule.targetUserId);
      return user ? { ownerUserId: user.id, ownerUnitId: user.unitId } : { ownerUserId: null, ownerUnitId: unitId };
    }
    if (rule.strategy === 'FIXED') return { ownerUserId: null, ownerUnitId: unitId };
    const locked = await repo.lockRule(tx, rule.id);
    const candidates = await repo.candidates(tx, unitId);
    const picked = pickUser(rule.strategy as Strategy, candidates, locked?.lastUserId ?? null, rule.capacityPerUser);
    if (!picked) return { ownerUserId: null, ownerUnitId: unitId };
    await repo.setCursor(tx, rule.id, picked);
    const user = candidates.find((c) => c.id === picked);
    return { ownerUserId: picked, ownerUnitId: user?.unitId ?? unitId };
  }

  /** Applies the first matching rule to a customer (row locked by the caller): an ownership change with cause ALLOCATION. */
  async function apply(tx: Executor, p: Principal, customer: CustomerRow): Promise<{ row: CustomerRow; rule: RuleRow | null }> {
    const rules = await repo.activeRulesFor(tx, p);
    const rule = firstMatch(
      rules.map((r) => ({ ...r, match: r.match as RuleMatch })),
      leadOf(customer),
    );
    if (!rule) return { row: customer, rule: null };
    const to = await destination(tx, rule);
    const row = await changeCustomerOwner(tx, p, customer, to, 'ALLOCATION', { ruleId: rule.id });
    if (row !== customer) {
      const dueAt = new Date(Date.now() + opts.slaHours * HOUR_MS);
      if (to.ownerUserId) {
        await createAllocationAction(tx, p, { customerId: row.id, customerName: row.name, assignee: { id: to.ownerUserId, unitId: to.ownerUnitId }, dueAt });
      } else {
        // A pool lead: whoever answers for the unit (its managers, else the nearest above) has to hand it on.
        for (const manager of await repo.poolManagers(tx, to.ownerUnitId)) {
          await createAllocationAction(tx, p, { customerId: row.id, customerName: row.name, assignee: manager, dueAt, pool: true });
        }
      }
    }
    return { row, rule };
  }

  async function resolveTarget(tx: Executor, p: Principal, permission: string, target: { unitId?: string | undefined; userId?: string | undefined }) {
    if (target.userId) {
      const u = await repo.userInReach(tx, p, permission, target.userId);
      if (!u || !u.active) throw fieldError('VALIDATION_FAILED', 'target.userId', 'no such active user');
      return { targetUserId: u.id, targetUnitId: u.unitId };
    }
    const unit = await repo.unitInReach(tx, p, permission, target.unitId ?? '');
    if (!unit) throw fieldError('VALIDATION_FAILED', 'target.unitId', 'no such unit');
    return { targetUserId: null, targetUnitId: unit.id };
  }

  const checkStrategy = (strategy: string, targetUserId: string | null) => {
    if (targetUserId && strategy !== 'FIXED') throw fieldError('VALIDATION_FAILED', 'strategy', 'a rule targeting a user is FIXED; ROUND_ROBIN and LEAST_LOADED share among a unit');
  };

  return {
    async listRules(p: Principal, q: ListRulesQuery): Promise<Page<RuleDto>> {
      requirePermission(p, 'allocation-rules:read');
      const filter = { active: q.active, updatedAfter: q.updatedAfter };
      const count = () => repo.count(db, p, 'allocation-rules:read', filter);
      // A sync's read asks for a time order; without `sort`, the order the rules are tried in.
      if (q.sort !== undefined) {
        const order = timeOrder(q);
        const pg = timePage(await repo.list(db, p, 'allocation-rules:read', filter, order, q.limit), q.limit, order);
        return withCount({ ...pg, data: pg.data.map(toRuleDto) }, count);
      }
      let after: { order: number; id: string } | null = null;
      if (q.cursor) {
        const [order, id] = decodeCursor(q.cursor, 2);
        if (typeof order !== 'number' || typeof id !== 'string' || !/^[0-9a-f-]{36}$/.test(id)) throw fieldError('VALIDATION_FAILED', 'cursor', 'invalid cursor');
        after = { order, id };
      }
      const rows = await repo.list(db, p, 'allocation-rules:read', filter, { after }, q.limit);
      const page = rows.slice(0, q.limit);
      const last = page[page.length - 1];
      const cursors = page.map((r) => encodeCursor([r.order, r.id]));
      const pg: Page<RuleDto> = { data: page.map(toRuleDto), nextCursor: rows.length > q.limit && last ? encodeCursor([last.order, last.id]) : null, cursors };
      return withCount(pg, count);
    },

    async getRule(p: Principal, id: string): Promise<RuleDto> {
      requirePermission(p, 'allocation-rules:read');
      const row = await repo.findInReach(db, p, 'allocation-rules:read', id);
      if (!row) throw notFound('allocation rule');
      return toRuleDto(row);
    },

    /** Admins anywhere; managers for targets within their scope. */
    async createRule(p: Principal, input: CreateRuleInput): Promise<RuleDto> {
      requirePermission(p, 'allocation-rules:create');
      return db.transaction(async (tx) => {
        const target = await resolveTarget(tx, p, 'allocation-rules:create', input.target);
        checkStrategy(input.strategy, target.targetUserId);
        const row = await repo.insert(tx, {
          name: input.name,
          order: input.order,
          active: input.active ?? true,
          match: withoutNulls(input.match) as Record<string, string>,
          ...target,
          strategy: input.strategy,
          capacityPerUser: input.capacityPerUser ?? null,
          createdBy: p.userId,
        });
        await recordChange(tx, p, { entityType: 'allocation_rule', entityId: row.id, action: 'created', before: null, after: toRuleDto(row), owner: { ownerUserId: null, ownerUnitId: row.targetUnitId } });
        return toRuleDto(row);
      });
    },

    async updateRule(p: Principal, id: string, patch: PatchRuleInput, expectedVersion?: number): Promise<RuleDto> {
      requirePermission(p, 'allocation-rules:update');
      return db.transaction(async (tx) => {
        if (!(await repo.findInReach(tx, p, 'allocation-rules:read', id))) throw notFound('allocation rule');
        const row = await repo.findInReach(tx, p, 'allocation-rules:update', id, true);
        if (!row) throw new AppError('FORBIDDEN', 'the rule targets a unit outside your scope');
        checkVersion(expectedVersion, row.version);
        const target = patch.target ? await resolveTarget(tx, p, 'allocation-rules:update', patch.target) : { targetUserId: row.targetUserId, targetUnitId: row.targetUnitId };
        const strategy = patch.strategy ?? row.strategy;
        checkStrategy(strategy, target.targetUserId);
        const match = patch.match ? withoutNulls({ ...(row.match as Record<string, unknown>), ...patch.match }) : (row.match as RuleMatch);
        const next = await repo.update(tx, id, row.version, {
          ...(patch.name !== undefined ? { name: patch.name } : {}),
          ...(patch.order !== undefined ? { order: patch.order } : {}),
          ...(patch.active !== undefined ? { active: patch.active } : {}),
          ...(patch.capacityPerUser !== undefined ? { capacityPerUser: patch.capacityPerUser } : {}),
          match: match as Record<string, string>,
          ...target,
          strategy,
        });
        if (!next) throw staleWrite();
        await recordChange(tx, p, { entityType: 'allocation_rule', entityId: id, action: 'updated', before: toRuleDto(row), after: toRuleDto(next), owner: { ownerUserId: null, ownerUnitId: next.targetUnitId } });
        return toRuleDto(next);
      });
    },

    async deleteRule(p: Principal, id: string): Promise<void> {
      requirePermission(p, 'allocation-rules:delete');
      await db.transaction(async (tx) => {
        if (!(await repo.findInReach(tx, p, 'allocation-rules:read', id))) throw notFound('allocation rule');
        const row = await repo.findInReach(tx, p, 'allocation-rules:delete', id, true);
        if (!row) throw new AppError('FORBIDDEN', 'the rule targets a unit outside your scope');
        await repo.delete(tx, id);
        await recordChange(tx, p, { entityType: 'allocation_rule', entityId: id, action: 'deleted', before: toRuleDto(row), after: null, owner: { ownerUserId: null, ownerUnitId: row.targetUnitId } });
      });
    },

    /** POST /v1/customers/{id}/allocate: the rules applied again to a customer the caller may update. */
    async allocateCustomer(p: Principal, id: string): Promise<AllocationResultDto> {
      requirePermission(p, 'customers:update');
      return db.transaction(async (tx) => {
        const hit = await customersRepository.findForAction(tx, p, id, 'customers:update', true);
        if (!hit) throw notFound('customer');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'allocating a customer needs write access to it');
        if (hit.row.status !== 'ACTIVE') throw new AppError(hit.row.status === 'MERGED' ? 'CUSTOMER_MERGED' : 'CUSTOMER_FROZEN', `the customer is ${hit.row.status.toLowerCase()}`);
        const { row, rule } = await apply(tx, p, hit.row);
        return { customerId: row.id, allocated: rule !== null, ruleId: rule?.id ?? null, ownerUserId: row.ownerUserId, ownerUnitId: row.ownerUnitId };
      });
    },

    /** The hook on customer create (no explicit owner given), inside the create's transaction. */
    allocateOnCreate: async (tx: Executor, p: Principal, customer: CustomerRow): Promise<CustomerRow> => (await apply(tx, p, customer)).row,

    /**
     * The same hook for the new customers of a bulk load's batch: the rules are read once; each customer a rule
     * matches is then allocated as one created alone would be (in order: a rotation takes its turns row by row).
     */
    allocateManyOnCreate: async (tx: Executor, p: Principal, customers: CustomerRow[]): Promise<void> => {
      const rules = (await repo.activeRulesFor(tx, p)).map((r) => ({ ...r, match: r.match as RuleMatch }));
      if (rules.length === 0) return;
      for (const c of customers) if (firstMatch(rules, leadOf(c))) await apply(tx, p, c);
    },
  };
}

export type AllocationService = ReturnType<typeof createAllocationService>;
