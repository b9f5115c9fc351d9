import type { Database, Executor } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { AppError, fieldError, notFound } from '../../lib/errors.js';
import { findRecordByExternalId, lockExternalId } from '../../lib/external-ids.js';
import { cursorForSort, type Page, pageOf, parseSort, sortKey, withCount } from '../../lib/pagination.js';
import { CONTACT_SORT_COLUMNS, contactsRepository as repo } from './contacts.repository.js';
import { customersRepository } from './customers.repository.js';
import { CONTACT_SORTS, type ContactDto, type CreateContactInput, createContactBody, type ListAllContactsQuery, type PatchContactInput, patchContactBody, type UpsertContactInput } from './customers.schemas.js';
import { toContactDto } from './contacts.service.js';
import { fromUpsertBody, parseBody as parse, type Upserted } from './upsert-rules.js';

type ContactWrites = {
  getContact(p: Principal, id: string): Promise<ContactDto>;
  createContact(p: Principal, customerId: string, input: CreateContactInput, opts: { tx?: Executor }): Promise<ContactDto>;
  updateContact(p: Principal, id: string, input: PatchContactInput, expectedVersion: number | undefined, opts: { tx?: Executor }): Promise<ContactDto>;
};

const iso = (d: Date) => d.toISOString();

/**
 * Contact persons by external id and for a sync: read, upsert (absent → created on the customer the body
 * names, by id or by the customer's own external id; present → merge patch), and the list of every visible
 * contact with `updatedAfter` and `sort=updatedAt`. Serialised per (system, id) as customers are.
 */
export function createContactExternal(database: Database, svc: ContactWrites) {
  const { db } = database;

  /** The customer a contact or an order row names: by id or by `{ system, externalId }`; one the caller cannot see is no customer. */
  async function customerOf(tx: Executor, p: Principal, body: { customerId?: string | undefined; customer?: { system: string; externalId: string } | undefined }): Promise<string> {
    if (body.customerId && body.customer) throw fieldError('VALIDATION_FAILED', 'customer', 'give customerId or customer, not both');
    const path = body.customer ? 'customer' : 'customerId';
    const id = body.customer ? await findRecordByExternalId(tx, 'customer', body.customer.system, body.customer.externalId) : body.customerId;
    if (!body.customer && !body.customerId) throw fieldError('VALIDATION_FAILED', 'customerId', 'required to create a contact (or customer: { system, externalId })');
    if (!id || !(await customersRepository.findVisible(tx, p, id))) throw fieldError('VALIDATION_FAILED', path, 'no such customer');
    return id;
  }

  async function upsertIn(tx: Executor, p: Principal, system: string, externalId: string, body: UpsertContactInput, expectedVersion: number | undefined): Promise<Upserted<ContactDto>> {
    await lockExternalId(tx, 'contact', system, externalId);
    const id = await findRecordByExternalId(tx, 'contact', system, externalId);
    const { customerId, customer, ...fields } = body;
    const { create, patch } = fromUpsertBody(fields, system, externalId);
    if (id) {
      const hit = await repo.findContactForAction(tx, p, id, 'contacts:read');
      if (!hit) throw new AppError('EXTERNAL_ID_TAKEN', 'the external id is already held by another record', { errors: [{ path: `externalIds.${system}`, message: `${system} id ${externalId} is already in use` }] });
      if (customerId !== undefined || customer !== undefined) {
        const named = await customerOf(tx, p, { customerId, customer }).catch(() => null);
        if (named !== hit.contact.customerId) throw fieldError('VALIDATION_FAILED', customer ? 'customer' : 'customerId', 'a contact stays with its customer');
      }
      const record = await svc.updateContact(p, id, parse(patchContactBody, patch), expectedVersion, { tx });
      return { status: record.version === hit.contact.version ? 'UNCHANGED' : 'UPDATED', record };
    }
    requirePermission(p, 'contacts:create');
    const input = parse(createContactBody, create);
    return { status: 'CREATED', record: await svc.createContact(p, await customerOf(tx, p, { customerId, customer }), input, { tx }) };
  }

  return {
    customerOf,

    async getContactByExternalId(p: Principal, system: string, externalId: string): Promise<ContactDto> {
      requirePermission(p, 'contacts:read');
      const id = await findRecordByExternalId(db, 'contact', system, externalId);
      if (!id) throw notFound('contact');
      return svc.getContact(p, id);
    },

    async upsertContactByExternalId(p: Principal, system: string, externalId: string, body: UpsertContactInput, opts: { expectedVersion?: number | undefined; tx?: Executor } = {}): Promise<Upserted<ContactDto>> {
      return (opts.tx ?? db).transaction((tx) => upsertIn(tx, p, system, externalId, body, opts.expectedVersion));
    },

    async listAllContacts(p: Principal, q: ListAllContactsQuery): Promise<Page<ContactDto>> {
      requirePermission(p, 'contacts:read');
      const { field, desc } = parseSort(q.sort, CONTACT_SORTS, 'createdAt');
      const sort = sortKey({ field, desc });
      const rows = await repo.listAll(db, p, q, { column: CONTACT_SORT_COLUMNS[field], desc, kind: 'timestamp' }, cursorForSort(q.cursor, sort), q.limit);
      const pg = pageOf(rows, q.limit, (r) => [iso(r[field]), r.id], sort);
      return withCount({ ...pg, data: pg.data.map((r) => toContactDto(p, r)) }, () => repo.countAll(db, p, q));
    },
  };
}
