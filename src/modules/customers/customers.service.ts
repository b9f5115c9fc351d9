import type { Database, Executor } from '../../db/client.js';
import { can, hiddenFields, onBehalfOf, type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, fieldError, notFound, staleWrite } from '../../lib/errors.js';
import { applyExternalIds, externalIdsOf, moveExternalIds } from '../../lib/external-ids.js';
import { externalIdsDiff } from './customer-rules.js';
import { cursorForSort, type Page, pageOf, parseSort, sortKey, withCount } from '../../lib/pagination.js';
import {
  type CustomerRow,
  type CustomerSort,
  customersRepository as repo,
  type ListFilter,
  RESOURCE,
  sortSpec,
  sortValue,
} from './customers.repository.js';
import {
  CUSTOMER_SORTS,
  type CreateCustomerInput,
  type CustomerDto,
  type DuplicateCheckDto,
  type ListCustomersQuery,
  type PatchCustomerInput,
} from './customers.schemas.js';
import { sameJson } from '../../lib/merge-patch.js';
import { changedKeys, patchSet, refuseHiddenWrites, refuseSystemFieldWrites } from './patch-set.js';
import { createContactService } from './contacts.service.js';
import { toCustomerDto } from './customer-dto.js';
import { createCustomerExternal } from './customers.external.js';
import { createContactExternal } from './contacts.external.js';
import { createCustomerBulk, type ManyAllocator } from './bulk-write.js';
import { writeContactBatch } from './contacts-bulk.js';
import { createDuplicateCheck, type DuplicateGuard } from './duplicate-check.js';
import { lowestCommonUnit } from './duplicates.js';
import { contactsRepository } from './contacts.repository.js';
import { resolveOwner } from './owner-resolution.js';
import { ownershipRepository } from './ownership.repository.js';
import { type CustomerViewerCan, customerViewerCan } from './viewer-can.repository.js';
import { searchForms } from './normalize.js';
import { createValues, derived, snapshot } from './customer-values.js';


export { toCustomerDto };

export type { DuplicateCandidate, DuplicateGuard, ProtectedMatch } from './duplicate-check.js';

/**
 * A merge asks each module that keeps records of a customer to move them from the duplicate to the
 * survivor, in the merge's transaction; the answer counts what moved (it lands in the audit row).
 */
export type MergeRepoint = (tx: Executor, p: Principal, fromId: string, toId: string) => Promise<Record<string, number | string[]>>;

// A hidden field is not a filter or an order either: it would tell what it holds.
function refuseHiddenQuery(p: Principal, q: ListCustomersQuery, sortField?: string): void {
  const hidden = hiddenFields(p);
  for (const f of ['valueClass', 'churnRisk'] as const) if (q[f] !== undefined && hidden.has(`customer.${f}`)) throw fieldError('FORBIDDEN', f, 'hidden from your roles');
  if (sortField && hidden.has(`customer.${sortField}`)) throw fieldError('FORBIDDEN', 'sort', `${sortField} is hidden from your roles`);
}

function listFilter(q: ListCustomersQuery): ListFilter {
  const search = q.q === undefined ? undefined : searchForms(q.q);
  // A query of punctuation alone folds to nothing; answering with everything would mislead.
  if (search?.length === 0) throw fieldError('VALIDATION_FAILED', 'q', 'needs a letter or a digit');
  return { ...q, q: search };
}

/** Gives a customer created without an explicit owner to whom the allocation rules name (wired in app.ts); returns the row as it is then. */
export type CreateAllocator = (tx: Executor, p: Principal, row: CustomerRow) => Promise<CustomerRow>;
/** Called in the transaction of a write that changed an input of customer value (wired to the value module in app.ts). */
export type ValueInputHook = (tx: Executor, p: Principal, customerIds: string[], cause: 'CREDIT') => Promise<unknown>;

export function createCustomerService(
  database: Database,
  opts: {
    mergeRepoints?: readonly MergeRepoint[];
    duplicateProbeLimitPerHour?: number;
    duplicateGuard?: DuplicateGuard;
    allocateOnCreate?: CreateAllocator;
    allocateManyOnCreate?: ManyAllocator;
    onValueInput?: ValueInputHook;
  } = {},
) {
  const { db } = database;
  const duplicates = createDuplicateCheck(database, { probeLimitPerHour: opts.duplicateProbeLimitPerHour ?? 20, ...(opts.duplicateGuard ? { guard: opts.duplicateGuard } : {}) });
  const mergeRepoints = opts.mergeRepoints ?? [];
  const allocateOnCreate = opts.allocateOnCreate;
  const onValueInput = opts.onValueInput;
  // The customers service answers for customers and their contact persons (contacts.service.ts).
  const contacts = createContactService(database, loadForWrite);

  async function loadForWrite(tx: Executor, p: Principal, id: string, permission: string) {
    const hit = await repo.findForAction(tx, p, id, permission, true);
    if (!hit) throw notFound('customer');
    if (!hit.allowed) throw new AppError('FORBIDDEN', `missing permission ${permission} on this customer`);
    return hit.row;
  }

  const service = {
    async get(p: Principal, id: string): Promise<CustomerDto> {
      requirePermission(p, 'customers:read');
      const row = await repo.findVisible(db, p, id);
      if (!row) throw notFound('customer');
      return toCustomerDto(p, row);
    },

    /** What the caller may do with a customer it sees (404 for one it does not). */
    async viewerCan(p: Principal, id: string): Promise<CustomerViewerCan> {
      const can = (await customerViewerCan(db, p, [id])).get(id);
      if (!can) throw notFound('customer');
      return can;
    },

    viewerCanByIds: (p: Principal, ids: readonly string[]) => customerViewerCan(db, p, ids),

    /** What a create with this body would find, creating nothing (the duplicate rule only). */
    async duplicateCheck(p: Principal, input: CreateCustomerInput): Promise<DuplicateCheckDto> {
      requirePermission(p, 'customers:create');
      const d = derived({ name: input.name, registrationId: input.registrationId, phones: input.phones ?? [], emails: input.emails ?? [] });
      return duplicates.preview(p, { ...d, name: input.name });
    },

    async list(p: Principal, q: ListCustomersQuery): Promise<Page<CustomerDto>> {
      requirePermission(p, 'customers:read');
      const { field, desc } = parseSort<CustomerSort>(q.sort, CUSTOMER_SORTS, '-createdAt');
      refuseHiddenQuery(p, q, field);
      const filter = listFilter(q);
      const sort = sortKey({ field, desc });
      const rows = await repo.list(db, p, filter, sortSpec(field, desc), cursorForSort(q.cursor, sort), q.limit);
      const pg = pageOf(rows, q.limit, (r) => [sortValue(r, field), r.id], sort);
      return withCount({ ...pg, data: pg.data.map((r) => toCustomerDto(p, r)) }, () => repo.count(db, p, filter));
    },

    /** The customers of these ids the caller sees; the others are left out (GraphQL relation fields). */
    async byIds(p: Principal, ids: readonly string[]): Promise<Map<string, CustomerDto>> {
      if (!can(p, 'customers:read')) return new Map();
      const rows = await repo.visibleByIds(db, p, [...new Set(ids)]);
      return new Map(rows.map((r) => [r.id, toCustomerDto(p, r)]));
    },

    // `tx`: inside the caller's transaction (an upsert); the caller then audits a refusal's probe itself.
    async create(p: Principal, input: CreateCustomerInput, opts: { allowDuplicate?: boolean | undefined; tx?: Executor } = {}): Promise<CustomerDto> {
      requirePermission(p, 'customers:create');
      refuseHiddenWrites(p, input);
      refuseSystemFieldWrites(p, input, null);
      if (opts.tx) return createIn(opts.tx);
      try {
        return await createIn(db);
      } catch (err) {
        await duplicates.recordProbe(p, err);
        throw err;
      }

      // The create itself; a refusal that named protected customers is audited after it rolled back.
      function createIn(ex: Executor) {
        return ex.transaction(async (tx) => {
          const owner = await resolveOwner(tx, p, 'customers:create', input.ownerUserId, input.ownerUnitId);
          const d = derived({ name: input.name, registrationId: input.registrationId, phones: input.phones ?? [], emails: input.emails ?? [] });
          // Also when duplicates are allowed: a concurrent create without the override must see this one.
          await repo.lockIdentities(tx, d);
          const overridden = await duplicates.check(tx, p, { ...d, name: input.name }, opts.allowDuplicate === true);
          if (input.source?.referrerCustomerId && !(await repo.findVisible(tx, p, input.source.referrerCustomerId))) {
            throw fieldError('VALIDATION_FAILED', 'source.referrerCustomerId', 'no such customer');
          }
          const row = await repo.insert(tx, createValues(p, input, owner));
          // The external_ids table holds the uniqueness: an id another record holds refuses the create.
          if (input.externalIds && Object.keys(input.externalIds).length > 0) await applyExternalIds(tx, RESOURCE, row.id, input.externalIds);
          await recordChange(tx, p, {
            entityType: RESOURCE,
            entityId: row.id,
            action: overridden.length ? 'created_despite_duplicates' : 'created',
            before: null,
            after: overridden.length ? { ...snapshot(row), overriddenDuplicateIds: overridden } : snapshot(row),
            onBehalfOfId: onBehalfOf(p, row.ownerUserId),
            owner,
          });
          // A lead created with an explicit owner is not allocated.
          const explicit = input.ownerUserId !== undefined || input.ownerUnitId !== undefined;
          const placed = allocateOnCreate && !explicit ? await allocateOnCreate(tx, p, row) : row;
          return toCustomerDto(p, { ...row, ...placed });
        });
      }
    },

    async update(p: Principal, id: string, input: PatchCustomerInput, expectedVersion?: number, opts: { tx?: Executor } = {}): Promise<CustomerDto> {
      refuseHiddenWrites(p, input);
      return (opts.tx ?? db).transaction(async (tx) => {
        const before = await loadForWrite(tx, p, id, 'customers:update');
        checkVersion(expectedVersion, before.version);
        if (before.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', 'a merged customer is read-only; edit the surviving record');
        // Every id given anywhere is checked the same way: one the caller cannot see is no customer.
        const referrer = input.source?.referrerCustomerId;
        if (referrer && referrer !== before.sourceReferrerCustomerId && !(await repo.findVisible(tx, p, referrer))) {
          throw fieldError('VALIDATION_FAILED', 'source.referrerCustomerId', 'no such customer');
        }
        const set = patchSet(before, input);
        if (input.ownerUserId !== undefined || input.ownerUnitId !== undefined) {
          Object.assign(set, await resolveOwner(tx, p, 'customers:update', input.ownerUserId, input.ownerUnitId, { poolUnitId: before.ownerUnitId }));
        }
        refuseSystemFieldWrites(p, set, before);
        if (set.externalIds !== undefined && !sameJson(set.externalIds, before.externalIds)) {
          set.externalIds = await applyExternalIds(tx, RESOURCE, id, externalIdsDiff(before.externalIds, set.externalIds));
        }
        // A PATCH that changes nothing writes nothing: no new version, no audit row, no event.
        if (changedKeys(set, before).length === 0) return toCustomerDto(p, before);
        const merged = { ...before, ...set };
        const d = derived(merged);
        if (set.name !== undefined || set.registrationId !== undefined || set.phones !== undefined || set.emails !== undefined) {
          Object.assign(set, d);
        }
        const row = await repo.update(tx, id, before.version, set);
        if (!row) throw staleWrite();
        const ownerChanged = before.ownerUserId !== row.ownerUserId || before.ownerUnitId !== row.ownerUnitId;
        // The customer's timeline shows who owned it when: a reassignment is ownership history.
        if (ownerChanged) await ownershipRepository.insertChange(tx, p, { entityType: RESOURCE, entityId: id, customerId: id, from: before, to: row, cause: 'REASSIGNMENT', onBehalfOfId: onBehalfOf(p, before.ownerUserId) });
        await recordChange(tx, p, {
          entityType: RESOURCE,
          entityId: id,
          action: ownerChanged ? 'owner_changed' : 'updated',
          before: snapshot(before),
          after: snapshot(row),
          onBehalfOfId: onBehalfOf(p, before.ownerUserId),
          owner: row,
        });
        // Credit is an input of the customer's value and churn risk: rescored in this transaction.
        if (before.creditStatus !== row.creditStatus && onValueInput) {
          await onValueInput(tx, p, [id], 'CREDIT');
          // The answer shows the value as rescored, not as it stood before the credit change.
          const fresh = await repo.computedValues(tx, id);
          if (fresh) Object.assign(row, fresh);
        }
        return toCustomerDto(p, row);
      });
    },

    async setFrozen(p: Principal, id: string, frozen: boolean, reason: string | undefined, expectedVersion?: number): Promise<CustomerDto> {
      return db.transaction(async (tx) => {
        const before = await loadForWrite(tx, p, id, 'customers:freeze');
        checkVersion(expectedVersion, before.version);
        if (before.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', 'a merged customer cannot be frozen or unfrozen');
        const target = frozen ? 'FROZEN' : 'ACTIVE';
        if (before.status === target) return toCustomerDto(p, before);
        const row = await repo.update(tx, id, before.version, { status: target });
        if (!row) throw staleWrite();
        await recordChange(tx, p, {
          entityType: RESOURCE,
          entityId: id,
          action: frozen ? 'frozen' : 'unfrozen',
          before: { status: before.status },
          after: { status: row.status, reason: reason ?? null },
          onBehalfOfId: onBehalfOf(p, before.ownerUserId),
          owner: row,
        });
        return toCustomerDto(p, row);
      });
    },

    /** Folds duplicates into the survivor: contacts move, phones/emails/roles/external ids are united. */
    async merge(p: Principal, id: string, duplicateIds: string[], expectedVersion?: number): Promise<CustomerDto> {
      const ids = [...new Set(duplicateIds)];
      if (ids.includes(id)) throw fieldError('VALIDATION_FAILED', 'duplicateIds', 'cannot contain the surviving customer');
      return db.transaction(async (tx) => {
        // Rows are locked in id order, whatever their role: two crossed merges (A into B, B into A)
        // would otherwise lock in opposite orders and deadlock instead of one answering 409.
        // Every named record must exist for the caller before any is refused, so the answer
        // (404 before 403) never depends on how the ids happen to sort.
        const locked = new Map<string, CustomerRow>();
        let refused = false;
        for (const x of [id, ...ids].sort()) {
          const hit = await repo.findForAction(tx, p, x, 'customers:merge', true);
          if (!hit) throw notFound('customer');
          refused ||= !hit.allowed;
          locked.set(x, hit.row);
        }
        if (refused) throw new AppError('FORBIDDEN', 'missing permission customers:merge on this customer');
        const survivor = locked.get(id);
        if (!survivor) throw notFound('customer');
        checkVersion(expectedVersion, survivor.version);
        if (survivor.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', 'the surviving customer is itself merged');
        const dups: CustomerRow[] = [];
        for (const dupId of ids) {
          const d = locked.get(dupId);
          if (!d) throw notFound('customer');
          if (d.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', `customer ${dupId} is already merged`);
          dups.push(d);
        }
        const union = (a: string[], more: string[][]) => [...new Set([...a, ...more.flat()])];
        const phones = union(survivor.phones, dups.map((d) => d.phones));
        const emails = union(survivor.emails, dups.map((d) => d.emails));
        // The duplicates' external ids move to the survivor (for systems it has no id of); the read copies follow.
        await moveExternalIds(tx, RESOURCE, ids, id);
        const idsAfter = await externalIdsOf(tx, RESOURCE, [id, ...ids]);
        const set: Partial<CustomerRow> = {
          phones,
          emails,
          roles: union(survivor.roles, dups.map((d) => d.roles)),
          externalIds: idsAfter.get(id) ?? {},
          registrationId: survivor.registrationId ?? dups.find((d) => d.registrationId)?.registrationId ?? null,
          website: survivor.website ?? dups.find((d) => d.website)?.website ?? null,
          industry: survivor.industry ?? dups.find((d) => d.industry)?.industry ?? null,
        };
        Object.assign(set, derived({ name: survivor.name, registrationId: set.registrationId, phones, emails }));
        const row = await repo.update(tx, id, survivor.version, set);
        if (!row) throw staleWrite();
        const movedHistory: Record<string, unknown>[] = [];
        for (const d of dups) {
          const moved = await contactsRepository.moveToCustomer(tx, d.id, id);
          for (const c of moved) {
            await recordChange(tx, p, { entityType: 'contact', entityId: c.id, action: 'moved_by_merge', before: { customerId: d.id }, after: { customerId: id }, onBehalfOfId: onBehalfOf(p, d.ownerUserId), owner: row });
          }
          // The duplicate's history follows it into the survivor, whose timeline then tells the whole story.
          // Each module repoints its own records; the ownership history is this module's.
          const repointed: Record<string, unknown> = {};
          for (const repoint of mergeRepoints) Object.assign(repointed, await repoint(tx, p, d.id, id));
          repointed.ownershipChanges = await ownershipRepository.repointHistory(tx, d.id, id);
          movedHistory.push({ customerId: d.id, ...repointed });
          await ownershipRepository.insertChange(tx, p, { entityType: RESOURCE, entityId: d.id, customerId: id, from: d, to: row, cause: 'MERGE', onBehalfOfId: onBehalfOf(p, d.ownerUserId) });
          const folded = await repo.update(tx, d.id, d.version, { status: 'MERGED', mergedIntoId: id, externalIds: idsAfter.get(d.id) ?? {} });
          if (!folded) throw new AppError('PRECONDITION_FAILED', 'a duplicate changed while this request ran; reload and retry');
          await recordChange(tx, p, { entityType: RESOURCE, entityId: d.id, action: 'merged', before: snapshot(d), after: snapshot(folded), onBehalfOfId: onBehalfOf(p, d.ownerUserId), owner: folded });
        }
        await recordChange(tx, p, {
          entityType: RESOURCE,
          entityId: id,
          action: 'merge_survived',
          before: snapshot(survivor),
          after: { ...snapshot(row), mergedIds: ids, movedHistory },
          onBehalfOfId: onBehalfOf(p, survivor.ownerUserId),
          owner: row,
        });
        return toCustomerDto(p, row);
      });
    },
    /** Audits a refused create's answer that named protected customers (after its transaction ended). */
    recordDuplicateProbe: (p: Principal, err: unknown) => duplicates.recordProbe(p, err),
    /** The set-based pass of a bulk load's batch of customer rows (bulk-write.ts). */
    writeCustomerBatch: createCustomerBulk({ allocateMany: opts.allocateManyOnCreate, onValueInput }),
    /** The set-based pass of a bulk load's batch of contact rows (contacts-bulk.ts). */
    writeContactBatch,
    ...contacts,
  };
  // Read and upsert by external id (customers.external.ts), through the same create and update.
  return { ...service, ...createCustomerExternal(database, service), ...createContactExternal(database, contacts) };
}

export type CustomerService = ReturnType<typeof createCustomerService>;

export { lowestCommonUnit };
