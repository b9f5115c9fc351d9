import type { Database, Executor } from '../../db/client.js';
import { hasManagerScope, hiddenFields, onBehalfOf, type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, notFound } from '../../lib/errors.js';
import { cursorForSort, type Page, pageOf, parseSort, sortKey, withCount } from '../../lib/pagination.js';
import { systemPrincipal } from '../org/index.js';
import { createValueReportService } from './value-reports.service.js';
import { CHURN_SIGNALS, scoreOf, type ValueClass, type ValueModelConfig } from './scoring.js';
import { type Model, recompute, type RecomputeResult, type ValueCause } from './value.recompute.js';
import { type CostRow, costSortValue, valueRepository as repo } from './value.repository.js';
import {
  COST_SORTS,
  type CostDto,
  type CustomerValueDto,
  type ListCostsQuery,
  type RecomputeResultDto,
  type RecordCostInput,
  type ReferenceEffectDto,
  type ReferenceEffectInput,
  type ValueModelDto,
  type ValueModelInput,
} from './value.schemas.js';

const iso = (d: Date) => d.toISOString();

// Audit rows and events name a record by uuid; a model version is named by a fixed uuid per version number.
export const modelEntityId = (version: number): string => `00000000-0000-4000-8000-${version.toString(16).padStart(12, '0')}`;

const toCostDto = (r: CostRow): CostDto => ({
  id: r.id,
  customerId: r.customerId,
  kind: r.kind as CostDto['kind'],
  amount: r.amount,
  currency: r.currency,
  incurredAt: iso(r.incurredAt),
  note: r.note,
  actorId: r.actorId,
  onBehalfOfId: r.onBehalfOfId,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.createdAt),
});

/** The value of a customer and its breakdown are hidden wherever a role hides its value class or score. */
export function valueHidden(p: Principal): boolean {
  const h = hiddenFields(p);
  return h.has('customer.valueClass') || h.has('customer.valueScore');
}

/**
 * Recomputes the value of the given customers in the caller's transaction (an order written, a cost
 * recorded, an opportunity moved, credit changed): the incremental update of domain.md §7. Classes
 * come from the cut-offs of the last full recomputation. `actor` is the principal of the write, or
 * 'system' for background work. Other modules call it through index.ts.
 */
export async function recomputeCustomers(tx: Executor, actor: Principal | 'system', customerIds: readonly string[], cause: ValueCause): Promise<RecomputeResult | null> {
  const ids = [...new Set(customerIds)];
  if (ids.length === 0) return null;
  const who = actor === 'system' ? await systemPrincipal(tx) : actor;
  const { model, aMin, cMax, planMode } = await repo.modelAndCuts(tx);
  return recompute(tx, who, model, repo.targetOf(ids), cause, { full: false, aMin, cMax, planMode });
}

export type ValueServiceOptions = {
  // Queues a full recomputation on the job queue; false when the queue is off (the caller then runs it).
  scheduleFull?: (cause: ValueCause) => Promise<boolean>;
};

export function createValueService(database: Database, opts: ValueServiceOptions = {}) {
  const { db } = database;

  /** The customer for a write: visible (else 404), writable under `permission` (else 403), not merged (a frozen one still takes costs, as it takes interactions). */
  async function writableCustomer(tx: Executor, p: Principal, id: string, permission: string) {
    const c = await repo.customerFor(tx, p, id, permission, true);
    if (!c) throw notFound('customer');
    if (!c.allowed) throw new AppError('FORBIDDEN', 'you may read this customer but not change it');
    if (c.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', 'a merged customer is read-only; use the surviving record');
    return c;
  }

  async function visibleCustomer(p: Principal, id: string) {
    const c = await repo.customerFor(db, p, id, 'customers:read');
    if (!c) throw notFound('customer');
    return c;
  }

  /** The full recomputation: every customer scored, ranked into classes, flagged; null when another run holds the lock. */
  async function recomputeAll(actor: Principal | 'system', cause: ValueCause): Promise<RecomputeResultDto | null> {
    return db.transaction(async (tx) => {
      if (!(await repo.tryRunLock(tx))) return null;
      const who = actor === 'system' ? await systemPrincipal(tx) : actor;
      const startedAt = new Date();
      const model = await repo.currentModel(tx);
      const res = await recompute(tx, who, model, repo.targetOf('all'), cause, { full: true });
      const run = await repo.recordRun(tx, model.version, startedAt, res.scoreChanged + res.classChanged);
      return { modelVersion: model.version, ...res, ranked: Number(run.ranked), aMinScore: run.a_min_score, cMaxScore: run.c_max_score, finishedAt: run.finished_at };
    });
  }

  const modelDto = (m: Model & { createdAt: Date | string; createdBy: string | null }): ValueModelDto => ({
    version: m.version,
    createdAt: typeof m.createdAt === 'string' ? new Date(m.createdAt).toISOString() : iso(m.createdAt),
    createdBy: m.createdBy,
    ...m.config,
  });

  return {
    recomputeAll,
    reports: createValueReportService(database),

    /** One customer rescored now, in the caller's transaction (tests and tools; writes go through recomputeCustomers). */
    recomputeCustomer: (tx: Executor, p: Principal, customerId: string) => recomputeCustomers(tx, p, [customerId], 'RECOMPUTE'),

    async listCosts(p: Principal, customerId: string, q: ListCostsQuery): Promise<Page<CostDto>> {
      await visibleCustomer(p, customerId);
      const order = parseSort(q.sort, COST_SORTS, '-incurredAt');
      const key = sortKey(order);
      const rows = await repo.listCosts(db, customerId, q.updatedAfter, order, cursorForSort(q.cursor, key), q.limit);
      const pg = pageOf(rows, q.limit, (r) => [iso(costSortValue(r, order.field)), r.id], key);
      return withCount({ ...pg, data: pg.data.map(toCostDto) }, () => repo.countCosts(db, customerId, q.updatedAfter));
    },

    async recordCost(p: Principal, customerId: string, input: RecordCostInput): Promise<CostDto> {
      return db.transaction(async (tx) => {
        const c = await writableCustomer(tx, p, customerId, 'customers:update');
        const behalf = onBehalfOf(p, c.ownerUserId);
        const row = await repo.insertCost(tx, {
          customerId,
          kind: input.kind,
          amount: input.amount,
          currency: input.currency,
          incurredAt: input.incurredAt ? new Date(input.incurredAt) : new Date(),
          note: input.note || null,
          actorId: p.userId,
          onBehalfOfId: behalf,
        });
        const dto = toCostDto(row);
        await recordChange(tx, p, { entityType: 'customer', entityId: customerId, action: 'cost_recorded', before: null, after: dto, onBehalfOfId: behalf, owner: c });
        await recomputeCustomers(tx, p, [customerId], 'COST');
        return dto;
      });
    },

    async setReferenceEffect(p: Principal, customerId: string, input: ReferenceEffectInput): Promise<ReferenceEffectDto> {
      return db.transaction(async (tx) => {
        const c = await writableCustomer(tx, p, customerId, 'customers:update');
        // A judgement of a customer's influence on others is a manager's (api.md §2).
        if (!hasManagerScope(p, 'customers:update')) throw new AppError('FORBIDDEN', 'only a manager rates the reference effect of a customer');
        const before = await repo.currentReference(tx, customerId);
        const behalf = onBehalfOf(p, c.ownerUserId);
        const row = await repo.insertReference(tx, { customerId, level: input.level, reason: input.reason, actorId: p.userId, onBehalfOfId: behalf });
        const dto: ReferenceEffectDto = { id: row.id, customerId, level: row.level, reason: row.reason, actorId: row.actorId, onBehalfOfId: row.onBehalfOfId, at: iso(row.at) };
        await recordChange(tx, p, {
          entityType: 'customer',
          entityId: customerId,
          action: 'reference_effect_set',
          before: before ? { level: before.level, reason: before.reason } : null,
          after: dto,
          onBehalfOfId: behalf,
          owner: c,
        });
        await recomputeCustomers(tx, p, [customerId], 'REFERENCE_EFFECT');
        return dto;
      });
    },

    async getModel(p: Principal): Promise<ValueModelDto> {
      requirePermission(p, 'value-model:read');
      return modelDto(await repo.currentModel(db));
    },

    /** A new version of the model; every customer is then rescored with it (queued, or at once without a queue). */
    async putModel(p: Principal, input: ValueModelInput): Promise<ValueModelDto> {
      requirePermission(p, 'value-model:update');
      const config: ValueModelConfig = input;
      const dto = await db.transaction(async (tx) => {
        const before = await repo.currentModel(tx);
        const row = await repo.insertModel(tx, config, p.userId);
        const after = { version: row.version, createdAt: row.created_at, createdBy: p.userId, config };
        await recordChange(tx, p, { entityType: 'value_model', entityId: modelEntityId(row.version), action: 'updated', before: { version: before.version, ...before.config }, after: { version: row.version, ...config } });
        return modelDto(after);
      });
      if (!(await opts.scheduleFull?.('MODEL'))) await recomputeAll(p, 'MODEL');
      return dto;
    },

    async recompute(p: Principal): Promise<RecomputeResultDto> {
      requirePermission(p, 'value-model:update');
      const res = await recomputeAll(p, 'RECOMPUTE');
      if (!res) throw new AppError('CONFLICT', 'a full recomputation is running; try again when it ends');
      return res;
    },

    async getValue(p: Principal, customerId: string): Promise<CustomerValueDto> {
      await visibleCustomer(p, customerId);
      if (valueHidden(p)) throw new AppError('FORBIDDEN', "a customer's value is hidden from your roles");
      let row = await repo.valueOf(db, customerId);
      if (!row) {
        // Never scored yet (created since the last run): score it now, as any input change would.
        await db.transaction((tx) => recomputeCustomers(tx, 'system', [customerId], 'RECOMPUTE'));
        row = await repo.valueOf(db, customerId);
      }
      if (!row) throw notFound('customer');
      const config = (await repo.modelVersion(db, row.modelVersion)) ?? (await repo.currentModel(db)).config;
      const { parts } = scoreOf(config, {
        revenue: Number(row.revenue),
        expectedSales: Number(row.expectedSales),
        referenceLevel: row.referenceLevel,
        creditStatus: row.creditStatus,
        cost: Number(row.cost),
      });
      const history = await repo.history(db, customerId, 50);
      const signals = (row.churnSignals as { kind: string; detail: string; since: string }[]).filter((s) => (CHURN_SIGNALS as readonly string[]).includes(s.kind));
      return {
        customerId,
        score: Number(row.score),
        valueClass: row.valueClass as ValueClass | null,
        modelVersion: row.modelVersion,
        computedAt: iso(row.computedAt),
        parts,
        churn: { level: row.churnLevel as CustomerValueDto['churn']['level'], signals: signals as CustomerValueDto['churn']['signals'] },
        history: history.map((h) => ({
          at: iso(h.at),
          score: Number(h.score),
          valueClass: h.valueClass as ValueClass | null,
          previousClass: h.previousClass as ValueClass | null,
          modelVersion: h.modelVersion,
          cause: h.cause as CustomerValueDto['history'][number]['cause'],
        })),
      };
    },
  };
}

export type ValueService = ReturnType<typeof createValueService>;
