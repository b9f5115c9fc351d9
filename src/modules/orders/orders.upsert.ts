import type { z } from 'zod';
import type { Database } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { AppError, fieldError } from '../../lib/errors.js';
import { findRecordByExternalId } from '../../lib/external-ids.js';
import { fieldErrors } from '../../lib/validation.js';
import { RESOURCE } from './orders.repository.js';
import { type CreateOrderInput, createOrderBody, type OrderDto, type PatchOrderInput, patchOrderBody, type UpsertOrderInput } from './orders.schemas.js';

// What an upsert needs of the order service (the service builds the upsert with itself).
type Orders = {
  get(p: Principal, id: string): Promise<OrderDto>;
  create(p: Principal, input: CreateOrderInput): Promise<OrderDto>;
  update(p: Principal, id: string, input: PatchOrderInput): Promise<OrderDto>;
};

// PUT /v1/orders/external/{system}/{externalId} (api.md §2 Integration): absent → created with the
// create rules (201); present → the body applied as a merge patch (200); a body that changes nothing
// writes nothing. An id held by an order the caller cannot see is refused as taken, revealing nothing.

function parseAs<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const errors = fieldErrors(r.error.issues);
  throw new AppError('VALIDATION_FAILED', errors[0] ? `${errors[0].path}: ${errors[0].message}` : 'invalid body', { errors });
}

const taken = (system: string, externalId: string) =>
  new AppError('EXTERNAL_ID_TAKEN', 'the external id is already held by another record', {
    errors: [{ path: `externalIds.${system}`, message: `${system} id ${externalId} is already in use` }],
  });

export function createOrderUpsert(database: Database, orders: Orders) {
  const { db } = database;

  async function patchExisting(p: Principal, id: string, system: string, externalId: string, body: UpsertOrderInput): Promise<OrderDto> {
    let current: OrderDto;
    try {
      current = await orders.get(p, id);
    } catch (e) {
      if (e instanceof AppError && e.code === 'NOT_FOUND') throw taken(system, externalId);
      throw e;
    }
    const { customerId, customer, ...rest } = body;
    const sameCustomer =
      (customerId === undefined || customerId === current.customerId) &&
      (customer === undefined || (await findRecordByExternalId(db, 'customer', customer.system, customer.externalId)) === current.customerId);
    if (!sameCustomer) throw fieldError('VALIDATION_FAILED', customerId !== undefined ? 'customerId' : 'customer', 'an order stays with its customer');
    const patch = parseAs(patchOrderBody, rest);
    return orders.update(p, id, patch);
  }

  return async function upsertByExternalId(p: Principal, system: string, externalId: string, body: UpsertOrderInput): Promise<{ created: boolean; order: OrderDto }> {
    const own = body.externalIds?.[system];
    if (own !== undefined && own !== externalId) throw fieldError('VALIDATION_FAILED', `externalIds.${system}`, 'the path names the order by this system; its id cannot change here');
    const withId = { ...body, externalIds: { ...body.externalIds, [system]: externalId } };
    const existing = await findRecordByExternalId(db, RESOURCE, system, externalId);
    if (existing) return { created: false, order: await patchExisting(p, existing, system, externalId, withId) };
    const input = parseAs(createOrderBody, withId);
    try {
      return { created: true, order: await orders.create(p, input) };
    } catch (e) {
      // Two upserts of the same new id at once: the second finds the first's order once it commits.
      if (!(e instanceof AppError && e.code === 'EXTERNAL_ID_TAKEN')) throw e;
      const now = await findRecordByExternalId(db, RESOURCE, system, externalId);
      if (!now) throw e;
      return { created: false, order: await patchExisting(p, now, system, externalId, withId) };
    }
  };
}
