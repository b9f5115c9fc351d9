// The customer row as a create writes it and as audit rows and events show it: shared by the single create
// (customers.service.ts) and the set-based pass of a bulk load (bulk-write.ts), so both write the same row.
import type { Principal } from '../../lib/access.js';
import { checkedCredit } from './customer-rules.js';
import type { CustomerInsert, CustomerRow } from './customers.repository.js';
import type { CreateCustomerInput } from './customers.schemas.js';
import { INITIAL_STAGE } from './lifecycle-stages.js';
import { type Identity, normalizeEmail, normalizeName, normalizePhone, normalizeRegistrationId, searchTextOf } from './normalize.js';
import type { ResolvedOwner } from './owner-resolution.js';

/** The audit/event snapshot of a customer: data as stored, minus derived search columns. */
export function snapshot(r: CustomerRow) {
  const { nameNorm: _n, registrationNorm: _r, phonesNorm: _p, emailsNorm: _e, searchText: _s, ...rest } = r;
  return rest;
}

/** The normalised identity (what the duplicate rule compares) and the search text of a customer. */
export function derived(c: { name: string; registrationId?: string | null | undefined; phones: string[]; emails: string[] }): Identity & { searchText: string } {
  return {
    nameNorm: normalizeName(c.name),
    registrationNorm: c.registrationId ? normalizeRegistrationId(c.registrationId) : null,
    phonesNorm: [...new Set(c.phones.map(normalizePhone))],
    emailsNorm: [...new Set(c.emails.map(normalizeEmail))],
    searchText: searchTextOf(c),
  };
}

/** The row a create inserts (the credit checked: a limit without a currency throws naming `creditCurrency`). */
export function createValues(p: Principal, input: CreateCustomerInput, owner: ResolvedOwner): CustomerInsert {
  const phones = input.phones ?? [];
  const emails = input.emails ?? [];
  return {
    kind: input.kind,
    name: input.name,
    registrationId: input.registrationId ?? null,
    phones,
    emails,
    website: input.website ?? null,
    industry: input.industry ?? null,
    region: input.region ?? null,
    address: input.address ?? null,
    roles: [...new Set(input.roles ?? [])],
    lifecycleStage: input.lifecycleStage ?? INITIAL_STAGE,
    sourceChannel: input.source?.channel ?? null,
    sourceCampaign: input.source?.campaign ?? null,
    sourceReferrerCustomerId: input.source?.referrerCustomerId ?? null,
    sourceDetail: input.source?.detail ?? null,
    creditStatus: input.creditStatus ?? null,
    ...checkedCredit(null, { creditLimit: input.creditLimit, creditCurrency: input.creditCurrency }),
    externalIds: input.externalIds ?? {},
    ...owner,
    ...derived({ name: input.name, registrationId: input.registrationId, phones, emails }),
    createdBy: p.userId,
  };
}
