import { hiddenFields, type Principal } from '../../lib/access.js';
import type { ExternalIdMap } from '../../lib/external-ids.js';
import { sameJson } from '../../lib/merge-patch.js';
import type { LineRow, OrderHit, OrderRow } from './orders.repository.js';
import { type Line, type OrderStatus, orderAmount, planStatus, priceLines, STEP_FIELD_NAMES, type StepField, type StepTimes } from './orders.rules.js';
import type { OrderDto, PatchOrderInput } from './orders.schemas.js';

// An order's answer and the diff of a merge patch, without a database: shared by the service (create, PATCH,
// upsert) and the set-based pass of a bulk load (orders.bulk.ts), so both answer and decide with the same code.

const iso = (d: Date) => d.toISOString();

export function toOrderDto(p: Principal, hit: OrderHit, lines: readonly (LineRow | Line)[], ids: ExternalIdMap | undefined): OrderDto {
  const r = hit.row;
  const dto: OrderDto = {
    id: r.id,
    customerId: r.customerId,
    opportunityId: r.opportunityId,
    number: r.number,
    status: r.status as OrderStatus,
    orderedAt: iso(r.orderedAt),
    paidAt: r.paidAt ? iso(r.paidAt) : null,
    shippedAt: r.shippedAt ? iso(r.shippedAt) : null,
    confirmedAt: r.confirmedAt ? iso(r.confirmedAt) : null,
    cancelledAt: r.cancelledAt ? iso(r.cancelledAt) : null,
    amount: r.amount,
    currency: r.currency,
    lines: lines.map((l) => ({ product: l.product, productLine: l.productLine, quantity: l.quantity.replace(/\.?0+$/, '') || '0', unitPrice: l.unitPrice, amount: l.amount })),
    ownerUserId: hit.ownerUserId,
    ownerUnitId: hit.ownerUnitId,
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
  // The company's system ids are hidden from roles that hide them on customers (partner roles by default).
  if (!hiddenFields(p).has('customer.externalIds')) dto.externalIds = ids ?? {};
  return dto;
}

export const timesOf = (r: OrderRow): StepTimes => ({ orderedAt: r.orderedAt, paidAt: r.paidAt, shippedAt: r.shippedAt, confirmedAt: r.confirmedAt, cancelledAt: r.cancelledAt });

/**
 * What a merge patch of an order sets, without a database: the columns, the lines (null: kept) and which of them
 * change. Shared by the PATCH and the set-based pass of a bulk load (orders.bulk.ts), so "this row changes
 * nothing" is decided by the code that would write it. Throws as the PATCH refuses (a backward status, a step
 * time not reached, an amount that is not the lines' sum).
 */
export function orderPatch(before: OrderRow, beforeLines: readonly LineRow[], beforeIds: ExternalIdMap, input: PatchOrderInput, now: Date) {
  const set: Partial<OrderRow> = {};
  if (input.number !== undefined) set.number = input.number;
  if (input.currency !== undefined) set.currency = input.currency;
  if (input.opportunityId !== undefined) set.opportunityId = input.opportunityId;
  const planned = planStatus({ status: before.status as OrderStatus, times: timesOf(before) }, { status: input.status, times: wantedTimes(input) }, now);
  set.status = planned.status;
  Object.assign(set, planned.times);
  let lines: Line[] | null = null;
  if (input.lines !== undefined) {
    const priced = priceLines(input.lines);
    lines = priced.lines;
    set.amount = orderAmount(lines, priced.total, input.amount, before.amount);
  } else if (input.amount !== undefined) {
    const priced = priceLines(beforeLines.map((l) => ({ ...l, quantity: l.quantity })));
    set.amount = orderAmount(priced.lines, priced.lines.length ? priced.total : null, input.amount, before.amount);
  }
  const linesChanged = lines !== null && !sameJson(lines, beforeLines.map((l) => ({ product: l.product, productLine: l.productLine, quantity: l.quantity.replace(/\.?0+$/, '') || '0', unitPrice: l.unitPrice, amount: l.amount })));
  const idsChanged = input.externalIds != null && Object.entries(input.externalIds).some(([s, v]) => (beforeIds[s] ?? null) !== v);
  const changed = (Object.keys(set) as (keyof OrderRow)[]).filter((k) => {
    const a = set[k];
    const b = before[k];
    return a instanceof Date || b instanceof Date ? (a as Date | null)?.getTime() !== (b as Date | null)?.getTime() : !sameJson(a, b);
  });
  return { set, lines, linesChanged, idsChanged, changed };
}

export function wantedTimes(input: Partial<Record<StepField, string | null | undefined>>): StepTimes {
  const out: StepTimes = {};
  for (const f of STEP_FIELD_NAMES) {
    const v = input[f];
    if (v !== undefined) out[f] = v === null ? null : new Date(v);
  }
  return out;
}

