import type { Database, Executor } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { AppError, fieldError, notFound } from '../../lib/errors.js';
import { findRecordByExternalId, lockExternalId } from '../../lib/external-ids.js';
import { customersRepository, fromUpsertBody, parseBody, type Upserted } from '../customers/index.js';
import { opportunitiesRepository as repo, RESOURCE } from './opportunities.repository.js';
import {
  type CreateOpportunityInput,
  createOpportunityBody,
  type OpportunityDto,
  type PatchOpportunityInput,
  patchOpportunityBody,
  type UpsertOpportunityInput,
} from './opportunities.schemas.js';

type OpportunityWrites = {
  get(p: Principal, id: string): Promise<OpportunityDto>;
  create(p: Principal, input: CreateOpportunityInput, opts: { tx?: Executor }): Promise<OpportunityDto>;
  update(p: Principal, id: string, input: PatchOpportunityInput, expectedVersion: number | undefined, opts: { tx?: Executor }): Promise<OpportunityDto>;
};

/**
 * Opportunities by external id (api.md §2 Integration): read, and upsert — absent → created on the customer
 * the body names (by id or by the customer's own external id), with the create rules; present → merge patch
 * (a body that changes nothing writes nothing). Serialised per (system, id) for the transaction, so two
 * concurrent upserts of one new id make one opportunity.
 */
export function createOpportunityExternal(database: Database, svc: OpportunityWrites) {
  const { db } = database;

  async function upsertIn(tx: Executor, p: Principal, system: string, externalId: string, body: UpsertOpportunityInput, expectedVersion: number | undefined): Promise<Upserted<OpportunityDto>> {
    await lockExternalId(tx, RESOURCE, system, externalId);
    const id = await findRecordByExternalId(tx, RESOURCE, system, externalId);
    const { customerId, customer, pipelineId, ...fields } = body;
    if (customerId && customer) throw fieldError('VALIDATION_FAILED', 'customer', 'give customerId or customer, not both');
    const { create, patch } = fromUpsertBody(fields, system, externalId);
    const namedCustomer = customer ? await findRecordByExternalId(tx, 'customer', customer.system, customer.externalId) : customerId;
    if (id) {
      const hit = await repo.findVisible(tx, p, id);
      if (!hit) throw new AppError('EXTERNAL_ID_TAKEN', 'the external id is already held by another record', { errors: [{ path: `externalIds.${system}`, message: `${system} id ${externalId} is already in use` }] });
      if ((customerId || customer) && namedCustomer !== hit.row.customerId) throw fieldError('VALIDATION_FAILED', customer ? 'customer' : 'customerId', 'an opportunity stays with its customer');
      if (pipelineId && pipelineId !== hit.row.pipelineId) throw fieldError('VALIDATION_FAILED', 'pipelineId', 'an opportunity stays in its pipeline');
      const record = await svc.update(p, id, parseBody(patchOpportunityBody, patch), expectedVersion, { tx });
      return { status: record.version === hit.row.version ? 'UNCHANGED' : 'UPDATED', record };
    }
    requirePermission(p, 'opportunities:create');
    if (!customerId && !customer) throw fieldError('VALIDATION_FAILED', 'customerId', 'required to create an opportunity (or customer: { system, externalId })');
    // A customer the caller cannot see answers like an unknown one.
    if (!namedCustomer || !(await customersRepository.findVisible(tx, p, namedCustomer))) throw fieldError('VALIDATION_FAILED', customer ? 'customer' : 'customerId', 'no such customer');
    const input = parseBody(createOpportunityBody, { ...create, customerId: namedCustomer, ...(pipelineId ? { pipelineId } : {}) });
    return { status: 'CREATED', record: await svc.create(p, input, { tx }) };
  }

  return {
    async getByExternalId(p: Principal, system: string, externalId: string): Promise<OpportunityDto> {
      requirePermission(p, 'opportunities:read');
      const id = await findRecordByExternalId(db, RESOURCE, system, externalId);
      if (!id) throw notFound('opportunity');
      return svc.get(p, id);
    },

    async upsertByExternalId(p: Principal, system: string, externalId: string, body: UpsertOpportunityInput, opts: { expectedVersion?: number | undefined; tx?: Executor } = {}): Promise<Upserted<OpportunityDto>> {
      return (opts.tx ?? db).transaction((tx) => upsertIn(tx, p, system, externalId, body, opts.expectedVersion));
    },
  };
}
