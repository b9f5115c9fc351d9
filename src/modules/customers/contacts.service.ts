import type { Database, Executor } from '../../db/client.js';
import { can, hiddenFields, onBehalfOf, type Principal, requirePermission } from '../../lib/access.js';
import { applyExternalIds } from '../../lib/external-ids.js';
import { patchedField, sameJson } from '../../lib/merge-patch.js';
import { externalIdsDiff } from './customer-rules.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, fieldError, notFound, staleWrite } from '../../lib/errors.js';
import { type Page, timeOrder, timePage, withCount } from '../../lib/pagination.js';
import { type ContactRow, contactsRepository as repo } from './contacts.repository.js';
import { customersRepository } from './customers.repository.js';
import { type ContactDto, type CreateContactInput, externalIdsSchema, type ListContactsQuery, type PatchContactInput } from './customers.schemas.js';

const iso = (d: Date) => d.toISOString();

export function toContactDto(p: Principal, r: ContactRow): ContactDto {
  const dto: ContactDto = {
    id: r.id,
    customerId: r.customerId,
    name: r.name,
    title: r.title,
    decisionRole: r.decisionRole as ContactDto['decisionRole'],
    phones: r.phones,
    emails: r.emails,
    externalIds: r.externalIds,
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
  // Field-level security: hidden external ids are absent from the answer.
  if (hiddenFields(p).has('contact.externalIds')) delete dto.externalIds;
  return dto;
}

// External ids are the integrated systems' to write (api.md §1): others may only repeat what is stored.
function refuseExternalIdWrites(p: Principal, next: Record<string, string>, before: Record<string, string>): void {
  if (can(p, 'integration:write') || sameJson(next, before)) return;
  throw fieldError('FORBIDDEN', 'externalIds', 'owned by the integrated systems: written only with integration:write');
}

type CustomerForWrite = (tx: Executor, p: Principal, id: string, permission: string) => Promise<{ id: string; status: string; ownerUserId: string | null; ownerUnitId: string }>;

export function createContactService(database: Database, loadForWrite: CustomerForWrite) {
  const { db } = database;
  return {
    async contactsByCustomer(p: Principal, customerIds: readonly string[]): Promise<Map<string, ContactDto[]>> {
      const rows = await repo.contactsOf(db, p, customerIds);
      const out = new Map<string, ContactDto[]>();
      for (const r of rows) {
        const list = out.get(r.customerId) ?? [];
        list.push(toContactDto(p, r));
        out.set(r.customerId, list);
      }
      return out;
    },

    /** The contacts of these ids the caller sees; the others are left out (GraphQL relation fields). */
    async contactsByIds(p: Principal, ids: readonly string[]): Promise<Map<string, ContactDto>> {
      const rows = await repo.contactsByIds(db, p, [...new Set(ids)]);
      return new Map(rows.map((r) => [r.id, toContactDto(p, r)]));
    },

    async listContacts(p: Principal, customerId: string, q: ListContactsQuery): Promise<Page<ContactDto>> {
      requirePermission(p, 'contacts:read');
      const order = timeOrder(q, 'createdAt');
      if (!(await customersRepository.findVisible(db, p, customerId))) throw notFound('customer');
      const pg = timePage(await repo.listContacts(db, customerId, q.updatedAfter, order, q.limit), q.limit, order);
      return withCount({ ...pg, data: pg.data.map((r) => toContactDto(p, r)) }, () => repo.countContacts(db, customerId, q.updatedAfter));
    },

    async getContact(p: Principal, id: string): Promise<ContactDto> {
      requirePermission(p, 'contacts:read');
      const hit = await repo.findContactForAction(db, p, id, 'contacts:read');
      if (!hit) throw notFound('contact');
      return toContactDto(p, hit.contact);
    },

    async createContact(p: Principal, customerId: string, input: CreateContactInput, opts: { tx?: Executor } = {}): Promise<ContactDto> {
      requirePermission(p, 'contacts:create');
      refuseExternalIdWrites(p, input.externalIds ?? {}, {});
      return (opts.tx ?? db).transaction(async (tx) => {
        const customer = await loadForWrite(tx, p, customerId, 'contacts:create');
        if (customer.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', 'a merged customer is read-only; add contacts to the surviving record');
        const externalIds = input.externalIds ?? {};
        const row = await repo.insert(tx, { customerId, name: input.name, title: input.title ?? null, decisionRole: input.decisionRole ?? 'OTHER', phones: input.phones ?? [], emails: input.emails ?? [], externalIds });
        if (Object.keys(externalIds).length > 0) await applyExternalIds(tx, 'contact', row.id, externalIds);
        await recordChange(tx, p, { entityType: 'contact', entityId: row.id, action: 'created', before: null, after: row, onBehalfOfId: onBehalfOf(p, customer.ownerUserId), owner: customer });
        return toContactDto(p, row);
      });
    },

    async updateContact(p: Principal, id: string, input: PatchContactInput, expectedVersion?: number, opts: { tx?: Executor } = {}): Promise<ContactDto> {
      return (opts.tx ?? db).transaction(async (tx) => {
        const hit = await repo.findContactForAction(tx, p, id, 'contacts:update', true);
        if (!hit) throw notFound('contact');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'missing permission contacts:update on this customer');
        checkVersion(expectedVersion, hit.contact.version);
        const set: Partial<ContactRow> = {};
        for (const k of ['name', 'title', 'decisionRole', 'phones', 'emails'] as const) {
          if (input[k] !== undefined) (set as Record<string, unknown>)[k] = input[k];
        }
        if (input.externalIds !== undefined) {
          const next = patchedField('externalIds', externalIdsSchema, hit.contact.externalIds, input.externalIds) ?? {};
          refuseExternalIdWrites(p, next, hit.contact.externalIds);
          if (!sameJson(next, hit.contact.externalIds)) set.externalIds = await applyExternalIds(tx, 'contact', id, externalIdsDiff(hit.contact.externalIds, next));
        }
        // A PATCH that changes nothing writes nothing: no new version, no audit row, no event.
        const changed = (Object.keys(set) as (keyof ContactRow)[]).filter((k) => !sameJson(set[k], hit.contact[k]));
        if (changed.length === 0) return toContactDto(p, hit.contact);
        const row = await repo.update(tx, id, hit.contact.version, set);
        if (!row) throw staleWrite();
        await recordChange(tx, p, { entityType: 'contact', entityId: id, action: 'updated', before: hit.contact, after: row, onBehalfOfId: onBehalfOf(p, hit.customer.ownerUserId), owner: hit.customer });
        return toContactDto(p, row);
      });
    },

    async deleteContact(p: Principal, id: string, expectedVersion?: number): Promise<void> {
      await db.transaction(async (tx) => {
        const hit = await repo.findContactForAction(tx, p, id, 'contacts:delete', true);
        if (!hit) throw notFound('contact');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'missing permission contacts:delete on this customer');
        checkVersion(expectedVersion, hit.contact.version);
        // The contact's external ids go with it: the ERP may give them to another contact afterwards.
        if (Object.keys(hit.contact.externalIds).length > 0) await applyExternalIds(tx, 'contact', id, Object.fromEntries(Object.keys(hit.contact.externalIds).map((k) => [k, null])));
        await repo.delete(tx, id);
        await recordChange(tx, p, { entityType: 'contact', entityId: id, action: 'deleted', before: hit.contact, after: null, onBehalfOfId: onBehalfOf(p, hit.customer.ownerUserId), owner: hit.customer });
      });
    },
  };
}
