import type { Database, Executor } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { AppError, notFound } from '../../lib/errors.js';
import { findRecordByExternalId, lockExternalId } from '../../lib/external-ids.js';
import { customersRepository as repo, RESOURCE } from './customers.repository.js';
import { type CreateCustomerInput, createCustomerBody, type CustomerDto, type PatchCustomerInput, patchCustomerBody, type UpsertCustomerInput } from './customers.schemas.js';
import { fromUpsertBody, type OnDuplicate, parseBody, type Upserted } from './upsert-rules.js';

type CustomerWrites = {
  get(p: Principal, id: string): Promise<CustomerDto>;
  create(p: Principal, input: CreateCustomerInput, opts: { allowDuplicate?: boolean; tx?: Executor }): Promise<CustomerDto>;
  update(p: Principal, id: string, input: PatchCustomerInput, expectedVersion: number | undefined, opts: { tx?: Executor }): Promise<CustomerDto>;
  recordDuplicateProbe(p: Principal, err: unknown): Promise<void>;
};

export type UpsertOptions = { expectedVersion?: number | undefined; onDuplicate?: OnDuplicate | undefined };

/**
 * Read and upsert by external id (api.md §2 Integration). The upsert serialises on the (system, id) pair for
 * the length of its transaction, so two concurrent upserts of the same new id make one customer: the second
 * finds the first one's record and applies its body as a merge patch. Absent → created with the create rules
 * (the duplicate rule decided by `onDuplicate`); present and visible → merge patch (a body that changes nothing
 * writes nothing); present but outside the caller's sight → refused as taken, the record never named.
 */
export function createCustomerExternal(database: Database, svc: CustomerWrites) {
  const { db } = database;

  async function upsertIn(tx: Executor, p: Principal, system: string, externalId: string, body: UpsertCustomerInput, opts: UpsertOptions): Promise<Upserted<CustomerDto>> {
    await lockExternalId(tx, RESOURCE, system, externalId);
    const id = await findRecordByExternalId(tx, RESOURCE, system, externalId);
    const { create, patch, link } = fromUpsertBody(body, system, externalId);
    if (id) {
      const stored = await repo.findVisible(tx, p, id);
      if (!stored) throw takenByHidden(system, externalId);
      const record = await svc.update(p, id, parsePatch(patch, stored), opts.expectedVersion, { tx });
      return { status: record.version === stored.version ? 'UNCHANGED' : 'UPDATED', record };
    }
    requirePermission(p, 'customers:create');
    const input = parseBody(createCustomerBody, create);
    try {
      return { status: 'CREATED', record: await svc.create(p, input, { allowDuplicate: opts.onDuplicate === 'create', tx }) };
    } catch (err) {
      if (opts.onDuplicate !== 'link' || !(err instanceof AppError) || err.code !== 'DUPLICATE_CUSTOMER') throw err;
      // Link: the one visible customer the row matches takes the external id (and the row's fields as a
      // merge patch). Several matches, or a match outside the caller's sight, is not linked: the refusal stands.
      const extra = err.extra as { candidates: { id: string }[]; protectedMatches: unknown[] };
      const [only, ...more] = extra.candidates;
      if (!only || more.length > 0 || extra.protectedMatches.length > 0) throw err;
      const target = await repo.findVisible(tx, p, only.id);
      if (!target || target.externalIds[system] !== undefined) throw err;
      return { status: 'UPDATED', record: await svc.update(p, only.id, parsePatch(link, target), undefined, { tx }) };
    }
  }

  return {
    async getByExternalId(p: Principal, system: string, externalId: string): Promise<CustomerDto> {
      requirePermission(p, 'customers:read');
      const id = await findRecordByExternalId(db, RESOURCE, system, externalId);
      if (!id) throw notFound('customer');
      return svc.get(p, id);
    },

    /** The upsert in its own transaction, or inside `tx` (a bulk load's row). */
    async upsertByExternalId(p: Principal, system: string, externalId: string, body: UpsertCustomerInput, opts: UpsertOptions & { tx?: Executor } = {}): Promise<Upserted<CustomerDto>> {
      if (opts.tx) return opts.tx.transaction((tx) => upsertIn(tx, p, system, externalId, body, opts));
      try {
        return await db.transaction((tx) => upsertIn(tx, p, system, externalId, body, opts));
      } catch (err) {
        await svc.recordDuplicateProbe(p, err);
        throw err;
      }
    },
  };
}

const takenByHidden = (system: string, externalId: string) =>
  new AppError('EXTERNAL_ID_TAKEN', 'the external id is already held by another record', {
    errors: [{ path: `externalIds.${system}`, message: `${system} id ${externalId} is already in use` }],
  });

// The body as a merge patch onto the stored record: the lifecycle stage may repeat the stored one (an ERP
// sends the whole record each time) but changes only through lifecycle transitions.
export function parsePatch(body: Record<string, unknown>, stored: { lifecycleStage: string } | null): PatchCustomerInput {
  const { lifecycleStage, ...rest } = body;
  if (lifecycleStage !== undefined && stored && String(lifecycleStage).toUpperCase() !== stored.lifecycleStage) {
    throw new AppError('VALIDATION_FAILED', 'lifecycleStage: changes only through POST /v1/customers/{id}/lifecycle-transitions', {
      errors: [{ path: 'lifecycleStage', message: 'changes only through POST /v1/customers/{id}/lifecycle-transitions' }],
    });
  }
  return parseBody(patchCustomerBody, rest);
}
