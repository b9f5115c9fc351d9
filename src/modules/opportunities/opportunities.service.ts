import { sql } from 'drizzle-orm';
import type { Database, Executor } from '../../db/client.js';
import { can, hasManagerScope, hiddenFields, onBehalfOf, type Principal, requirePermission, scopeFor } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, fieldError, notFound, staleWrite } from '../../lib/errors.js';
import { patchedField, sameJson } from '../../lib/merge-patch.js';
import { countsOnce, cursorForSort, emptyPage, type Page, pageOf, parseSort, sortKey, withCount } from '../../lib/pagination.js';
import { applyExternalIds } from '../../lib/external-ids.js';
import { applyLifecycleTransition, type CustomerDto, customersRepository, externalIdsDiff, externalIdsSchema, isBefore, ownershipRepository, resolveOwner, toCustomerDto } from '../customers/index.js';
import { checkMove, type Qualification } from './gates.js';
import { type OpportunityRow, type OpportunitySort, opportunitiesRepository as repo, RESOURCE, sortValue, type TransitionRow } from './opportunities.repository.js';
import { type CreateOpportunityInput, type ListOpportunitiesQuery, OPPORTUNITY_SORTS, type OpportunityDto, type PatchOpportunityInput, type QualificationDto, type StageGatesDto, type TransitionDto, type TransitionInput, type TransitionResultDto, qualificationSchema } from './opportunities.schemas.js';

import { createPipelineService } from './pipelines.service.js';
import { createOpportunityExternal } from './opportunities.external.js';
import { canonicalMoney, checkMoney, cleanQualification, forGates } from './opportunity-rules.js';

export { canonicalMoney } from './opportunity-rules.js';
export { normaliseStages, toPipelineDto, toStageDto } from './pipelines.service.js';
import { type OpportunityViewerCan, opportunityViewerCan } from './viewer-can.repository.js';

const iso = (d: Date) => d.toISOString();

// External ids are the integrated systems' to write (api.md §1): others may only repeat what is stored.
function refuseExternalIdWrites(p: Principal, next: Record<string, string>, before: Record<string, string>): void {
  if (can(p, 'integration:write') || sameJson(next, before)) return;
  throw fieldError('FORBIDDEN', 'externalIds', 'owned by the integrated systems: written only with integration:write');
}

export function toOpportunityDto(r: OpportunityRow, stageKey: string, p?: Principal): OpportunityDto {
  const dto: OpportunityDto = {
    id: r.id,
    customerId: r.customerId,
    pipelineId: r.pipelineId,
    stageId: r.stageId,
    stageKey,
    name: r.name,
    amount: r.amount,
    currency: r.currency,
    expectedCloseDate: r.expectedCloseDate,
    status: r.status as OpportunityDto['status'],
    qualification: r.qualification as QualificationDto,
    lostReason: r.lostReason,
    competitor: r.competitor,
    ownerUserId: r.ownerUserId,
    ownerUnitId: r.ownerUnitId,
    stageEnteredAt: iso(r.stageEnteredAt),
    closedAt: r.closedAt ? iso(r.closedAt) : null,
    externalIds: r.externalIds,
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
  // Field-level security: hidden external ids are absent from the answer.
  if (p && hiddenFields(p).has('opportunity.externalIds')) delete dto.externalIds;
  return dto;
}

export function toTransitionDto(r: TransitionRow): TransitionDto {
  return {
    id: r.id,
    opportunityId: r.opportunityId,
    customerId: r.customerId,
    fromStageId: r.fromStageId,
    toStageId: r.toStageId,
    reason: r.reason,
    lostReason: r.lostReason,
    competitor: r.competitor,
    actorId: r.actorId,
    onBehalfOfId: r.onBehalfOfId,
    at: iso(r.at),
    secondsInFromStage: r.secondsInFromStage,
  };
}

/** A rule of another module over a new opportunity's customer (an approved claim): throws to refuse. Wired in app.ts. */
export type OpportunityCreateGuard = (tx: Executor, p: Principal, customerId: string) => Promise<void>;
/** Called in the transaction of a write that changed an input of customer value (wired to the value module in app.ts). */
export type ValueInputHook = (tx: Executor, p: Principal, customerIds: string[], cause: 'OPPORTUNITY') => Promise<unknown>;

export function createOpportunityService(database: Database, opts: { createGuard?: OpportunityCreateGuard; onValueInput?: ValueInputHook } = {}) {
  const { db } = database;
  // Pipelines and their stages are the opportunities module's configuration (pipelines.service.ts).
  const pipelines = createPipelineService(database);

  async function stageKeyOf(ex: Executor, stageId: string): Promise<string> {
    const [s] = await repo.stagesByIds(ex, [stageId]);
    return s?.key ?? '';
  }

  const service = {
    ...pipelines,

    // ---- opportunities ----
    async get(p: Principal, id: string): Promise<OpportunityDto> {
      requirePermission(p, 'opportunities:read');
      const hit = await repo.findVisible(db, p, id);
      if (!hit) throw notFound('opportunity');
      return toOpportunityDto(hit.row, hit.stageKey, p);
    },

    /** What the caller may do with an opportunity it sees (404 for one it does not). */
    async viewerCan(p: Principal, id: string): Promise<OpportunityViewerCan> {
      const can = (await opportunityViewerCan(db, p, [id])).get(id);
      if (!can) throw notFound('opportunity');
      return can;
    },

    viewerCanByIds: (p: Principal, ids: readonly string[]) => opportunityViewerCan(db, p, ids),

    /**
     * What a move to each other stage would lack: the same checkMove a refused transition runs, so
     * a stage listed with no unmet criteria is one a transition would pass the gates of. A closed
     * deal reaches no stage for a caller who may not reopen it.
     */
    async gates(p: Principal, id: string): Promise<StageGatesDto> {
      requirePermission(p, 'opportunities:read');
      const hit = await repo.findVisible(db, p, id);
      if (!hit) throw notFound('opportunity');
      const opp = hit.row;
      const stages = await repo.stagesOf(db, [opp.pipelineId]);
      const from = stages.find((s) => s.id === opp.stageId);
      if (!from) throw new Error('opportunity stage outside its pipeline');
      const reachable = from.terminal && !hasManagerScope(p, 'opportunities:update') ? [] : stages.filter((s) => s.id !== from.id);
      const subject = { qualification: opp.qualification as Qualification, amount: opp.amount, doneActionKeys: await repo.doneActionKeys(db, opp.id) };
      return {
        opportunityId: opp.id,
        stageId: from.id,
        stageKey: from.key,
        stages: reachable
          .sort((a, b) => a.position - b.position)
          .map((to) => ({ stageId: to.id, stageKey: to.key, name: to.name, unmet: checkMove(stages.map(forGates), forGates(from), forGates(to), subject) })),
      };
    },

    async list(p: Principal, q: ListOpportunitiesQuery): Promise<Page<OpportunityDto>> {
      requirePermission(p, 'opportunities:read');
      const { field, desc } = parseSort<OpportunitySort>(q.sort, OPPORTUNITY_SORTS, '-createdAt');
      const sort = sortKey({ field, desc });
      const rows = await repo.list(db, p, q, field, desc, cursorForSort(q.cursor, sort), q.limit);
      const pg = pageOf(rows, q.limit, (r) => [sortValue(r.row, field), r.row.id], sort);
      return withCount({ ...pg, data: pg.data.map((r) => toOpportunityDto(r.row, r.stageKey, p)) }, () => repo.count(db, p, q));
    },

    async create(p: Principal, input: CreateOpportunityInput, call: { tx?: Executor } = {}): Promise<OpportunityDto> {
      requirePermission(p, 'opportunities:create');
      refuseExternalIdWrites(p, input.externalIds ?? {}, {});
      const amount = input.amount ? canonicalMoney(input.amount) : null;
      const currency = input.currency ?? null;
      checkMoney(amount, currency);
      return (call.tx ?? db).transaction(async (tx) => {
        // A customer the caller cannot see answers like an unknown id (as owners do): no probing.
        // Creating anything on a customer needs write access to it: a share grants reading only.
        const hit = await customersRepository.findForAction(tx, p, input.customerId, 'opportunities:create', true);
        if (!hit) throw fieldError('VALIDATION_FAILED', 'customerId', 'no such customer');
        if (!hit.allowed) throw fieldError('FORBIDDEN', 'customerId', 'opportunities on this customer need write access to it; a share grants reading only');
        const customer = hit.row;
        if (customer.status !== 'ACTIVE') throw new AppError(customer.status === 'MERGED' ? 'CUSTOMER_MERGED' : 'CUSTOMER_FROZEN', `the customer is ${customer.status.toLowerCase()}; it takes no new opportunities`);
        await opts.createGuard?.(tx, p, customer.id);
        const pipeline = input.pipelineId ? await repo.findPipeline(tx, input.pipelineId) : await repo.defaultPipeline(tx);
        if (!pipeline) throw fieldError('VALIDATION_FAILED', 'pipelineId', input.pipelineId ? 'no such pipeline' : 'there is no default pipeline');
        const first = (await repo.stagesOf(tx, [pipeline.id])).find((s) => !s.terminal);
        if (!first) throw new AppError('PIPELINE_HAS_NO_OPEN_STAGE', 'the pipeline has no open stage');
        const owner = await resolveOwner(tx, p, 'opportunities:create', input.ownerUserId, input.ownerUnitId);
        const row = await repo.insert(tx, {
          customerId: customer.id,
          pipelineId: pipeline.id,
          stageId: first.id,
          createdStageId: first.id,
          name: input.name,
          amount,
          currency,
          expectedCloseDate: input.expectedCloseDate ?? null,
          qualification: cleanQualification(input.qualification ?? {}),
          externalIds: input.externalIds ?? {},
          ...owner,
          createdBy: p.userId,
        });
        if (input.externalIds && Object.keys(input.externalIds).length > 0) await applyExternalIds(tx, RESOURCE, row.id, input.externalIds);
        await recordChange(tx, p, { entityType: RESOURCE, entityId: row.id, action: 'created', before: null, after: row, onBehalfOfId: onBehalfOf(p, row.ownerUserId), owner });
        // An opportunity being pursued makes its customer an OPPORTUNITY — forward only.
        if (isBefore(customer.lifecycleStage, 'OPPORTUNITY')) {
          await applyLifecycleTransition(tx, p, customer, 'OPPORTUNITY', { cause: 'OPPORTUNITY', reason: `opportunity ${row.id} opened` });
        }
        // The open pipeline is an input of the customer's value (expected sales): rescored in this transaction.
        await opts.onValueInput?.(tx, p, [row.customerId], 'OPPORTUNITY');
        return toOpportunityDto(row, first.key, p);
      });
    },

    async update(p: Principal, id: string, input: PatchOpportunityInput, expectedVersion?: number, call: { tx?: Executor } = {}): Promise<OpportunityDto> {
      return (call.tx ?? db).transaction(async (tx) => {
        const hit = await repo.findForAction(tx, p, id, 'opportunities:update', true);
        if (!hit) throw notFound('opportunity');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'missing permission opportunities:update on this opportunity');
        const before = hit.row;
        checkVersion(expectedVersion, before.version);
        const set: Partial<OpportunityRow> = {};
        if (input.name !== undefined) set.name = input.name;
        if (input.amount !== undefined) set.amount = input.amount === null ? null : canonicalMoney(input.amount);
        if (input.currency !== undefined) set.currency = input.currency;
        if (input.expectedCloseDate !== undefined) set.expectedCloseDate = input.expectedCloseDate;
        if (input.qualification !== undefined) {
          // Merge-patched fact by fact; `qualification: null` clears them all.
          set.qualification = cleanQualification(patchedField('qualification', qualificationSchema, before.qualification, input.qualification) ?? {});
        }
        const amount = set.amount !== undefined ? set.amount : before.amount;
        const currency = set.currency !== undefined ? set.currency : before.currency;
        if (before.status === 'WON' && amount === null) throw fieldError('VALIDATION_FAILED', 'amount', 'a won opportunity keeps its amount');
        checkMoney(amount, currency);
        if (input.externalIds !== undefined) {
          const next = patchedField('externalIds', externalIdsSchema, before.externalIds, input.externalIds) ?? {};
          refuseExternalIdWrites(p, next, before.externalIds);
          if (!sameJson(next, before.externalIds)) set.externalIds = await applyExternalIds(tx, RESOURCE, id, externalIdsDiff(before.externalIds, next));
        }
        if (input.ownerUserId !== undefined || input.ownerUnitId !== undefined) {
          Object.assign(set, await resolveOwner(tx, p, 'opportunities:update', input.ownerUserId, input.ownerUnitId, { poolUnitId: before.ownerUnitId }));
        }
        // A PATCH that changes nothing writes nothing: no new version, no audit row, no event.
        const changed = (Object.keys(set) as (keyof OpportunityRow)[]).filter((k) => !sameJson(set[k], before[k]));
        if (changed.length === 0) return toOpportunityDto(before, await stageKeyOf(tx, before.stageId), p);
        const row = await repo.update(tx, id, before.version, set);
        if (!row) throw staleWrite();
        await recordChange(tx, p, {
          entityType: RESOURCE,
          entityId: id,
          action: before.ownerUserId !== row.ownerUserId || before.ownerUnitId !== row.ownerUnitId ? 'owner_changed' : 'updated',
          before,
          after: row,
          onBehalfOfId: onBehalfOf(p, before.ownerUserId),
          owner: row,
        });
        await opts.onValueInput?.(tx, p, [row.customerId], 'OPPORTUNITY');
        return toOpportunityDto(row, await stageKeyOf(tx, row.stageId), p);
      });
    },

    async transition(p: Principal, id: string, input: TransitionInput, expectedVersion?: number): Promise<TransitionResultDto> {
      return db.transaction(async (tx) => {
        // The row lock serialises moves of one opportunity: a concurrent identical request waits here,
        // then sees the stage already changed and answers 409.
        const hit = await repo.findForAction(tx, p, id, 'opportunities:update', true);
        if (!hit) throw notFound('opportunity');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'missing permission opportunities:update on this opportunity');
        const opp = hit.row;
        checkVersion(expectedVersion, opp.version);
        const stages = await repo.stagesOf(tx, [opp.pipelineId]);
        const from = stages.find((s) => s.id === opp.stageId);
        const to = input.toStageId ? stages.find((s) => s.id === input.toStageId) : stages.find((s) => s.key === input.toStageKey);
        if (!from) throw new Error('opportunity stage outside its pipeline');
        if (!to) {
          throw input.toStageId
            ? fieldError('VALIDATION_FAILED', 'toStageId', "not a stage of the opportunity's pipeline")
            : fieldError('VALIDATION_FAILED', 'toStageKey', "not a stage of the opportunity's pipeline");
        }
        if (to.id === from.id) throw new AppError('ALREADY_IN_STAGE', `the opportunity is already in stage ${from.key}`, { extra: { stageId: from.id, stageKey: from.key } });
        // Reopening a closed deal is a manager's decision.
        if (from.terminal && !hasManagerScope(p, 'opportunities:update')) {
          throw new AppError('REOPEN_NEEDS_MANAGER', `reopening a ${from.outcome} opportunity needs a manager (opportunities:update with scope SUBTREE or ALL)`);
        }
        const backward = to.position < from.position || from.terminal;
        const reason = input.reason ?? null;
        if (backward && !reason) throw fieldError('VALIDATION_FAILED', 'reason', `moving back from ${from.key} to ${to.key} needs a reason`);
        const lost = to.outcome === 'LOST';
        if (lost && !input.lostReason) throw fieldError('VALIDATION_FAILED', 'lostReason', `moving to ${to.key} needs a lostReason`);
        if (!lost && input.lostReason) throw fieldError('VALIDATION_FAILED', 'lostReason', 'only for a move to a LOST stage');
        if (!lost && input.competitor) throw fieldError('VALIDATION_FAILED', 'competitor', 'only for a move to a LOST stage');
        const unmet = checkMove(stages.map(forGates), forGates(from), forGates(to), {
          qualification: opp.qualification as Qualification,
          amount: opp.amount,
          doneActionKeys: await repo.doneActionKeys(tx, opp.id),
        });
        if (unmet.length) {
          throw new AppError('GATE_NOT_MET', `the gate to ${to.key} is not met: ${unmet.map((u) => u.criterion).join(', ')}`, { extra: { unmet, toStageId: to.id, toStageKey: to.key } });
        }
        const status = to.outcome === 'WON' ? 'WON' : lost ? 'LOST' : 'OPEN';
        const row = await repo.update(tx, id, opp.version, {
          stageId: to.id,
          stageEnteredAt: sql`now()`,
          status,
          closedAt: to.terminal ? sql`now()` : null,
          lostReason: lost ? (input.lostReason ?? null) : null,
          competitor: lost ? (input.competitor ?? null) : null,
        });
        if (!row) throw staleWrite();
        const behalf = onBehalfOf(p, opp.ownerUserId);
        const tr = await repo.insertTransition(tx, {
          opportunityId: id,
          customerId: opp.customerId,
          fromStageId: from.id,
          toStageId: to.id,
          reason,
          lostReason: lost ? (input.lostReason ?? null) : null,
          competitor: lost ? (input.competitor ?? null) : null,
          actorId: p.userId,
          onBehalfOfId: behalf,
          enteredAt: opp.stageEnteredAt,
        });
        const after = { ...toOpportunityDto(row, to.key), transitionId: tr.id, fromStageKey: from.key, secondsInFromStage: tr.secondsInFromStage, reason };
        await recordChange(tx, p, { entityType: RESOURCE, entityId: id, action: 'transitioned', before: toOpportunityDto(opp, from.key), after, onBehalfOfId: behalf, owner: row });
        if (status !== 'OPEN') {
          // opportunity.won is what an ERP turns into a sales order; opportunity.lost feeds churn signals.
          await recordChange(tx, p, { entityType: RESOURCE, entityId: id, action: status === 'WON' ? 'won' : 'lost', before: null, after, onBehalfOfId: behalf, owner: row });
        } else if (from.terminal) {
          await recordChange(tx, p, { entityType: RESOURCE, entityId: id, action: 'reopened', before: null, after, onBehalfOfId: behalf, owner: row });
        }
        if (status === 'WON') {
          // A won deal makes its customer a CUSTOMER — forward only.
          const customer = await ownershipRepository.lockById(tx, opp.customerId);
          if (customer && customer.status !== 'MERGED' && isBefore(customer.lifecycleStage, 'CUSTOMER')) {
            await applyLifecycleTransition(tx, p, customer, 'CUSTOMER', { cause: 'OPPORTUNITY', reason: `opportunity ${row.id} won` });
          }
        }
        // A stage move changes expected sales; a lost deal is a churn signal.
        await opts.onValueInput?.(tx, p, [opp.customerId], 'OPPORTUNITY');
        return { ...toTransitionDto(tr), opportunityVersion: row.version };
      });
    },

    async listTransitions(p: Principal, id: string, cursor: string | undefined, limit: number): Promise<Page<TransitionDto>> {
      requirePermission(p, 'opportunities:read');
      if (!(await repo.findVisible(db, p, id))) throw notFound('opportunity');
      const rows = await repo.listTransitions(db, id, cursor, limit);
      const pg = pageOf(rows, limit, (r) => [iso(r.at), r.id]);
      return withCount({ ...pg, data: pg.data.map(toTransitionDto) }, () => repo.countTransitions(db, id));
    },

    // ---- batches for GraphQL nested fields (one statement each, whatever the page size) ----
    // Stages are the pipeline's configuration, not customer data: every reader of an opportunity may see its stage.
    /** The visible ones of `ids`, for relation fields (one statement for a whole page). */
    async byIds(p: Principal, ids: readonly string[]): Promise<Map<string, OpportunityDto>> {
      const rows = await repo.visibleByIds(db, p, [...new Set(ids)]);
      return new Map(rows.map((r) => [r.row.id, toOpportunityDto(r.row, r.stageKey, p)]));
    },

    async customersByIds(p: Principal, ids: readonly string[]): Promise<Map<string, CustomerDto>> {
      if (!scopeFor(p, 'customers:read')) return new Map();
      const rows = await customersRepository.visibleByIds(db, p, [...new Set(ids)]);
      return new Map(rows.map((r) => [r.id, toCustomerDto(p, r)]));
    },

    async transitionsByOpportunity(p: Principal, ids: readonly string[]): Promise<Map<string, TransitionDto[]>> {
      const rows = await repo.transitionsOf(db, p, [...new Set(ids)]);
      const out = new Map<string, TransitionDto[]>();
      for (const r of rows) out.set(r.opportunityId, [...(out.get(r.opportunityId) ?? []), toTransitionDto(r)]);
      return out;
    },

    async pagesByCustomer(p: Principal, customerIds: readonly string[], after: string | undefined, first: number): Promise<Map<string, Page<OpportunityDto>>> {
      const out = new Map<string, Page<OpportunityDto>>();
      if (!scopeFor(p, 'opportunities:read')) {
        for (const id of customerIds) out.set(id, emptyPage());
        return out;
      }
      const rows = await repo.pagesByCustomer(db, p, [...new Set(customerIds)], after, first);
      const countOf = countsOnce(customerIds, (ids) => repo.countByCustomer(db, p, ids));
      for (const id of customerIds) {
        const mine = rows.filter((r) => r.row.customerId === id);
        const pg = pageOf(mine, first, (r) => [iso(r.row.createdAt), r.row.id]);
        out.set(id, withCount({ ...pg, data: pg.data.map((r) => toOpportunityDto(r.row, r.stageKey, p)) }, countOf(id)));
      }
      return out;
    },
  };
  // Read and upsert by external id (opportunities.external.ts), through the same create and update.
  return { ...service, externalOpportunities: createOpportunityExternal(database, service) };
}

export type OpportunityService = ReturnType<typeof createOpportunityService>;
