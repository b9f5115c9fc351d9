import type { Database, Executor } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, fieldError, staleWrite } from '../../lib/errors.js';
import { fieldErrors } from '../../lib/validation.js';
import { type Page, timeOrder, timePage, withCount } from '../../lib/pagination.js';
import { findPipeline, measureLifecycle, measureSteps, measureWon } from '../reports/index.js';
import { cents } from './decompose.js';
import { canonical, chainFor, decomposeNow } from './plans.measure.js';
import { type PlanRow, plansRepository as repo } from './plans.repository.js';
import { type CreatePlanInput, type DecomposeInput, type DecompositionDto, type ListPlansQuery, type PatchPlanInput, type PlanDto, planPeriod, type ProgressDto } from './plans.schemas.js';

const ENTITY = 'plan';
const iso = (d: Date | string) => (d instanceof Date ? d.toISOString() : new Date(d).toISOString());
const day = 86_400_000;

type Measurement = Pick<DecompositionDto, 'averageWonAmountSampleSize' | 'averageWonAmountSource' | 'wonNeeded' | 'minSample' | 'historyMonths' | 'measuredFrom' | 'measuredTo'>;

export function toPlanDto(r: PlanRow): PlanDto {
  const m = r.measurement as Measurement;
  return {
    id: r.id,
    name: r.name,
    unitId: r.unitId,
    pipelineId: r.pipelineId,
    periodStart: r.periodStart,
    periodEnd: r.periodEnd,
    target: { amount: r.targetAmount, currency: r.currency },
    averageWonAmount: r.averageWonAmount,
    averageWonAmountSampleSize: m.averageWonAmountSampleSize,
    averageWonAmountSource: m.averageWonAmountSource,
    wonNeeded: m.wonNeeded,
    required: r.required as PlanDto['required'],
    rates: r.rates as PlanDto['rates'],
    minSample: m.minSample,
    historyMonths: m.historyMonths,
    measuredFrom: m.measuredFrom,
    measuredTo: m.measuredTo,
    version: r.version,
    createdBy: r.createdBy,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
}

/** The stored columns of a decomposition. */
function columnsOf(d: DecompositionDto) {
  return {
    unitId: d.unitId,
    pipelineId: d.pipelineId,
    periodStart: d.periodStart,
    periodEnd: d.periodEnd,
    targetAmount: d.target.amount,
    currency: d.target.currency,
    averageWonAmount: d.averageWonAmount,
    required: d.required,
    rates: d.rates,
    measurement: {
      averageWonAmountSampleSize: d.averageWonAmountSampleSize,
      averageWonAmountSource: d.averageWonAmountSource,
      wonNeeded: d.wonNeeded,
      minSample: d.minSample,
      historyMonths: d.historyMonths,
      measuredFrom: d.measuredFrom,
      measuredTo: d.measuredTo,
    } satisfies Measurement,
  };
}

const notFound = () => new AppError('NOT_FOUND', 'plan not found');

// A share of ten-thousandths as "0.2500".
const share = (units: bigint) => `${units / 10_000n}.${String(units % 10_000n).padStart(4, '0')}`;

/** Changing or deleting a plan takes what storing one for its unit takes: plans:create reaching the unit. */
async function writableUnit(ex: Executor, p: Principal, unitId: string): Promise<void> {
  if ((await repo.unitChain(ex, p, unitId, 'plans:create')).length === 0) throw new AppError('FORBIDDEN', 'changing a plan needs plans:create over its unit');
}

export function createPlanService(database: Database) {
  const { db } = database;
  return {
    async decompose(p: Principal, input: DecomposeInput): Promise<DecompositionDto> {
      requirePermission(p, 'reports:read');
      return decomposeNow(db, p, input, new Date());
    },

    async create(p: Principal, input: CreatePlanInput): Promise<PlanDto> {
      requirePermission(p, 'plans:create');
      requirePermission(p, 'reports:read');
      // Plans are made for units within the caller's reach for plans:create (a head of unit: its subtree).
      if ((await repo.unitChain(db, p, input.unitId, 'plans:create')).length === 0) throw fieldError('VALIDATION_FAILED', 'unitId', 'no such unit');
      const d = await decomposeNow(db, p, input, new Date());
      return db.transaction(async (tx) => {
        const row = await repo.insert(tx, { ...columnsOf(d), name: input.name ?? null, createdBy: p.userId });
        const dto = toPlanDto(row);
        await recordChange(tx, p, { entityType: ENTITY, entityId: row.id, action: 'created', before: null, after: dto, owner: { ownerUserId: p.userId, ownerUnitId: row.unitId } });
        return dto;
      });
    },

    /**
     * PATCH /v1/plans/{id} (docs/reports.md, "Editing and deleting plans"): a new name only renames; a
     * new target, period, minSample or historyMonths decomposes the plan again with the rates measured
     * now, as storing it anew would. A patch that changes nothing writes nothing (same version).
     */
    async update(p: Principal, id: string, patch: PatchPlanInput, expectedVersion?: number): Promise<PlanDto> {
      requirePermission(p, 'plans:read');
      return db.transaction(async (tx) => {
        const row = await repo.findVisible(tx, p, id, true);
        if (!row) throw notFound();
        await writableUnit(tx, p, row.unitId);
        checkVersion(expectedVersion, row.version);
        const before = toPlanDto(row);
        const period = planPeriod.safeParse({ periodStart: patch.periodStart ?? before.periodStart, periodEnd: patch.periodEnd ?? before.periodEnd });
        if (!period.success) {
          const errors = fieldErrors(period.error.issues, []);
          throw new AppError('VALIDATION_FAILED', errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors });
        }
        const input = {
          unitId: before.unitId,
          pipelineId: before.pipelineId,
          ...period.data,
          target: { amount: patch.target?.amount ?? before.target.amount, currency: patch.target?.currency ?? before.target.currency },
          minSample: patch.minSample ?? before.minSample,
          historyMonths: patch.historyMonths ?? before.historyMonths,
        };
        const name = patch.name === undefined ? before.name : patch.name;
        const remeasure =
          input.periodStart !== before.periodStart ||
          input.periodEnd !== before.periodEnd ||
          cents(input.target.amount) !== cents(before.target.amount) ||
          input.target.currency !== before.target.currency ||
          input.minSample !== before.minSample ||
          input.historyMonths !== before.historyMonths;
        if (!remeasure && name === before.name) return before;
        const values = remeasure ? { ...columnsOf(await decomposeNow(tx, p, input, new Date())), name } : { name };
        const next = await repo.update(tx, id, row.version, values);
        if (!next) throw staleWrite();
        const dto = toPlanDto(next);
        await recordChange(tx, p, { entityType: ENTITY, entityId: id, action: 'updated', before, after: dto, owner: { ownerUserId: row.createdBy, ownerUnitId: row.unitId } });
        return dto;
      });
    },

    /** DELETE /v1/plans/{id}: gone for good, the audit trail keeps what it was. If-Match honoured. */
    async remove(p: Principal, id: string, expectedVersion?: number): Promise<void> {
      requirePermission(p, 'plans:read');
      await db.transaction(async (tx) => {
        const row = await repo.findVisible(tx, p, id, true);
        if (!row) throw notFound();
        await writableUnit(tx, p, row.unitId);
        checkVersion(expectedVersion, row.version);
        await repo.delete(tx, id);
        await recordChange(tx, p, { entityType: ENTITY, entityId: id, action: 'deleted', before: toPlanDto(row), after: null, owner: { ownerUserId: row.createdBy, ownerUnitId: row.unitId } });
      });
    },

    async get(p: Principal, id: string): Promise<PlanDto> {
      requirePermission(p, 'plans:read');
      const row = await repo.findVisible(db, p, id);
      if (!row) throw notFound();
      return toPlanDto(row);
    },

    async list(p: Principal, q: ListPlansQuery): Promise<Page<PlanDto>> {
      requirePermission(p, 'plans:read');
      const filter = { unitId: q.unitId, updatedAfter: q.updatedAfter };
      const order = timeOrder(q);
      const pg = timePage(await repo.list(db, p, filter, order, q.limit), q.limit, order);
      return withCount({ ...pg, data: pg.data.map(toPlanDto) }, () => repo.count(db, p, filter));
    },

    /**
     * Required (as planned, and again with today's rates) against actual since the period began, per
     * stage: what the unit's records show within the caller's visibility (docs/reports.md, "Progress").
     */
    async progress(p: Principal, id: string): Promise<ProgressDto> {
      requirePermission(p, 'plans:read');
      const row = await repo.findVisible(db, p, id);
      if (!row) throw notFound();
      const plan = toPlanDto(row);
      const now = new Date();
      // The rates are the caller's: a caller who may read the plan but not the unit's numbers gets none.
      await chainFor(db, p, plan.unitId, 'id');
      const today = await decomposeNow(db, p, { unitId: plan.unitId, pipelineId: plan.pipelineId, periodStart: plan.periodStart, periodEnd: plan.periodEnd, target: plan.target, minSample: plan.minSample, historyMonths: plan.historyMonths }, now);
      const start = Date.parse(`${plan.periodStart}T00:00:00Z`);
      const end = Date.parse(`${plan.periodEnd}T00:00:00Z`) + day;
      const to = new Date(Math.max(start, Math.min(now.getTime(), end)));
      const from = new Date(start);
      const elapsed = BigInt(Math.floor(((to.getTime() - start) * 10_000) / (end - start)));
      const pl = await findPipeline(db, plan.pipelineId);
      const scope = { pipelineId: pl.id, ownerUnitId: plan.unitId };
      const steps = await measureSteps(db, p, scope, pl, from, to);
      const life = await measureLifecycle(db, p, plan.unitId, from, to);
      const won = await measureWon(db, p, scope, plan.target.currency, from, to);
      const actualOf = (key: string): number => {
        if (key === 'SUSPECT') return life.suspects;
        if (key === 'PROSPECT') return life.prospects;
        const s = steps.get(key);
        return s ? s.entered : won.n;
      };
      const planned = new Map(plan.required.map((r) => [r.stageKey, r.count]));
      const gapCents = cents(plan.target.amount) - cents(won.amount);
      return {
        planId: plan.id,
        asOf: now.toISOString(),
        periodStart: plan.periodStart,
        periodEnd: plan.periodEnd,
        elapsedShare: share(elapsed),
        stages: today.required.map((r) => {
          const actual = actualOf(r.stageKey);
          return {
            stageKey: r.stageKey,
            required: planned.get(r.stageKey) ?? null,
            requiredToday: r.count,
            expectedToDate: r.count === null ? null : Number((BigInt(r.count) * elapsed + 9_999n) / 10_000n),
            actual,
            gap: r.count === null ? null : r.count - actual,
          };
        }),
        won: { currency: plan.target.currency, target: plan.target.amount, actual: canonical(won.amount), gap: money(gapCents) },
        averageWonAmountToday: today.averageWonAmount,
        ratesToday: today.rates,
      };
    },
  };
}

const money = (c: bigint) => `${c < 0n ? '-' : ''}${(c < 0n ? -c : c) / 100n}.${String((c < 0n ? -c : c) % 100n).padStart(2, '0')}`;

export type PlanService = ReturnType<typeof createPlanService>;
