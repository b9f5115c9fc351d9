// What a merge patch of a customer sets, without a database: shared by the PATCH (customers.service.ts) and
// the set-based pass of a bulk load (bulk-write.ts), so "this row changes nothing" is decided by the
// same code that would write it. Owner fields and a new referrer need the database and stay with the PATCH.
import { can, hiddenFields, type Principal } from '../../lib/access.js';
import { fieldError } from '../../lib/errors.js';
import { patchedField, sameJson } from '../../lib/merge-patch.js';
import { checkedCredit } from './customer-rules.js';
import { sourceOf } from './customer-dto.js';
import type { Computed, CustomerReadRow, CustomerRow } from './customers.repository.js';
import { addressSchema, externalIdsSchema, type PatchCustomerInput, sourceSchema } from './customers.schemas.js';

/** A stored customer as a patch reads it: its own columns, without the computed value fields. */
type Stored = Omit<CustomerReadRow, keyof Computed>;

// Field-level security cuts both ways: a field the caller may not read, it may not write either.
export function refuseHiddenWrites(p: Principal, input: object): void {
  for (const f of hiddenFields(p)) {
    const [entity, field] = f.split('.');
    if (entity === 'customer' && field && field in input && (input as Record<string, unknown>)[field] !== undefined) {
      throw fieldError('FORBIDDEN', field, 'hidden from your roles');
    }
  }
}

// Fields a system owns (domain.md §8): written only by callers holding integration:write, so a
// salesperson cannot overwrite what the ERP knows. A PATCH that repeats the stored value is no write.
const SYSTEM_FIELDS = ['externalIds', 'creditStatus', 'creditLimit', 'creditCurrency'] as const;
export function refuseSystemFieldWrites(p: Principal, input: Partial<Record<(typeof SYSTEM_FIELDS)[number], unknown>>, before: Stored | null): void {
  if (can(p, 'integration:write')) return;
  for (const f of SYSTEM_FIELDS) {
    const v = input[f];
    if (v === undefined) continue;
    const unchanged = before ? sameJson(v ?? null, before[f] ?? null) : v === null || (typeof v === 'object' && Object.keys(v).length === 0);
    if (!unchanged) throw fieldError('FORBIDDEN', f, 'owned by the integrated systems: written only with integration:write');
  }
}

/** The columns a merge patch sets (owner fields aside), nested objects merged onto what is stored. */
export function patchSet(before: Stored, input: PatchCustomerInput): Partial<CustomerRow> {
  const set: Partial<CustomerRow> = {};
  for (const k of ['kind', 'name', 'registrationId', 'phones', 'emails', 'website', 'industry', 'region', 'creditStatus'] as const) {
    if (input[k] !== undefined) (set as Record<string, unknown>)[k] = input[k];
  }
  if (input.roles !== undefined) set.roles = [...new Set(input.roles)];
  // Nested objects are merge-patched onto what is stored; the result must be one a create accepts.
  if (input.address !== undefined) set.address = patchedField('address', addressSchema, before.address, input.address);
  if (input.externalIds !== undefined) set.externalIds = patchedField('externalIds', externalIdsSchema, before.externalIds, input.externalIds) ?? {};
  if (input.source !== undefined) {
    const source = patchedField('source', sourceSchema, sourceOf(before), input.source);
    set.sourceChannel = source?.channel ?? null;
    set.sourceCampaign = source?.campaign ?? null;
    set.sourceReferrerCustomerId = source?.referrerCustomerId ?? null;
    set.sourceDetail = source?.detail ?? null;
  }
  if (input.creditLimit !== undefined || input.creditCurrency !== undefined) Object.assign(set, checkedCredit(before, input));
  return set;
}

/** The keys of `set` whose value differs from the stored one. */
export const changedKeys = (set: Partial<CustomerRow>, before: Stored): string[] =>
  (Object.keys(set) as (keyof CustomerRow & keyof Stored)[]).filter((k) => !sameJson(set[k], before[k]));
