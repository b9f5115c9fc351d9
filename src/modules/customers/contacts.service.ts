import type { Database, Executor } from '../../db/client.js';
import { onBehalfOf, type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, notFound, staleWrite } from '../../lib/errors.js';
import { type Page, pageOf, withCount } from '../../lib/pagination.js';
import { type ContactRow, contactsRepository as repo } from './contacts.repository.js';
import { customersRepository } from './customers.repository.js';
import type { ContactDto, CreateContactInput, PatchContactInput } from './customers.schemas.js';

const iso = (d: Date) => d.toISOString();

export function toContactDto(r: ContactRow): ContactDto {
  return {
    id: r.id,
    customerId: r.customerId,
    name: r.name,
    title: r.title,
    decisionRole: r.decisionRole as ContactDto['decisionRole'],
    phones: r.phones,
    emails: r.emails,
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
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
        list.push(toContactDto(r));
        out.set(r.customerId, list);
      }
      return out;
    },

    /** The contacts of these ids the caller sees; the others are left out (GraphQL relation fields). */
    async contactsByIds(p: Principal, ids: readonly string[]): Promise<Map<string, ContactDto>> {
      const rows = await repo.contactsByIds(db, p, [...new Set(ids)]);
      return new Map(rows.map((r) => [r.id, toContactDto(r)]));
    },

    async listContacts(p: Principal, customerId: string, cursor: string | undefined, limit: number): Promise<Page<ContactDto>> {
      requirePermission(p, 'contacts:read');
      if (!(await customersRepository.findVisible(db, p, customerId))) throw notFound('customer');
      const rows = await repo.listContacts(db, customerId, cursor, limit);
      const pg = pageOf(rows, limit, (r) => [iso(r.createdAt), r.id]);
      return withCount({ ...pg, data: pg.data.map(toContactDto) }, () => repo.countContacts(db, customerId));
    },

    async getContact(p: Principal, id: string): Promise<ContactDto> {
      requirePermission(p, 'contacts:read');
      const hit = await repo.findContactForAction(db, p, id, 'contacts:read');
      if (!hit) throw notFound('contact');
      return toContactDto(hit.contact);
    },

    async createContact(p: Principal, customerId: string, input: CreateContactInput): Promise<ContactDto> {
      requirePermission(p, 'contacts:create');
      return db.transaction(async (tx) => {
        const customer = await loadForWrite(tx, p, customerId, 'contacts:create');
        if (customer.status === 'MERGED') throw new AppError('CUSTOMER_MERGED', 'a merged customer is read-only; add contacts to the surviving record');
        const row = await repo.insert(tx, { customerId, name: input.name, title: input.title ?? null, decisionRole: input.decisionRole ?? 'OTHER', phones: input.phones ?? [], emails: input.emails ?? [] });
        await recordChange(tx, p, { entityType: 'contact', entityId: row.id, action: 'created', before: null, after: row, onBehalfOfId: onBehalfOf(p, customer.ownerUserId), owner: customer });
        return toContactDto(row);
      });
    },

    async updateContact(p: Principal, id: string, input: PatchContactInput, expectedVersion?: number): Promise<ContactDto> {
      return db.transaction(async (tx) => {
        const hit = await repo.findContactForAction(tx, p, id, 'contacts:update', true);
        if (!hit) throw notFound('contact');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'missing permission contacts:update on this customer');
        checkVersion(expectedVersion, hit.contact.version);
        const set: Partial<ContactRow> = {};
        for (const k of ['name', 'title', 'decisionRole', 'phones', 'emails'] as const) {
          if (input[k] !== undefined) (set as Record<string, unknown>)[k] = input[k];
        }
        const row = await repo.update(tx, id, hit.contact.version, set);
        if (!row) throw staleWrite();
        await recordChange(tx, p, { entityType: 'contact', entityId: id, action: 'updated', before: hit.contact, after: row, onBehalfOfId: onBehalfOf(p, hit.customer.ownerUserId), owner: hit.customer });
        return toContactDto(row);
      });
    },

    async deleteContact(p: Principal, id: string, expectedVersion?: number): Promise<void> {
      await db.transaction(async (tx) => {
        const hit = await repo.findContactForAction(tx, p, id, 'contacts:delete', true);
        if (!hit) throw notFound('contact');
        if (!hit.allowed) throw new AppError('FORBIDDEN', 'missing permission contacts:delete on this customer');
        checkVersion(expectedVersion, hit.contact.version);
        await repo.delete(tx, id);
        await recordChange(tx, p, { entityType: 'contact', entityId: id, action: 'deleted', before: hit.contact, after: null, onBehalfOfId: onBehalfOf(p, hit.customer.ownerUserId), owner: hit.customer });
      });
    },
  };
}
