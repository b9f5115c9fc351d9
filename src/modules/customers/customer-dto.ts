import { hiddenFields, type Principal } from '../../lib/access.js';
import type { CustomerReadRow } from './customers.repository.js';
import type { CustomerDto } from './customers.schemas.js';

const iso = (d: Date) => d.toISOString();

/** A customer as the caller may read it: the fields its roles hide are absent, not blanked. */
/** A customer's source as the API shows it, from its stored columns. */
export function sourceOf(r: Pick<CustomerReadRow, 'sourceChannel' | 'sourceCampaign' | 'sourceReferrerCustomerId' | 'sourceDetail'>): CustomerDto['source'] {
  return r.sourceChannel
    ? { channel: r.sourceChannel, campaign: r.sourceCampaign, referrerCustomerId: r.sourceReferrerCustomerId, detail: r.sourceDetail }
    : null;
}

export function toCustomerDto(p: Principal, r: CustomerReadRow): CustomerDto {
  const hidden = hiddenFields(p);
  const dto: CustomerDto = {
    id: r.id,
    kind: r.kind as CustomerDto['kind'],
    name: r.name,
    registrationId: r.registrationId,
    phones: r.phones,
    emails: r.emails,
    website: r.website,
    industry: r.industry,
    region: r.region,
    address: r.address ?? null,
    roles: r.roles,
    lifecycleStage: r.lifecycleStage as CustomerDto['lifecycleStage'],
    status: r.status as CustomerDto['status'],
    source: sourceOf(r),
    creditStatus: r.creditStatus as CustomerDto['creditStatus'],
    creditLimit: r.creditLimit,
    creditCurrency: r.creditCurrency,
    valueClass: r.valueClass as CustomerDto['valueClass'],
    valueScore: r.valueScore === null ? null : Number(r.valueScore),
    churnRisk: r.churnRisk as CustomerDto['churnRisk'],
    externalIds: r.externalIds,
    ownerUserId: r.ownerUserId,
    ownerUnitId: r.ownerUnitId,
    mergedIntoId: r.mergedIntoId,
    version: r.version,
    createdAt: iso(r.createdAt),
    updatedAt: iso(r.updatedAt),
  };
  // Field-level security: a hidden field is absent from the answer, not blanked.
  for (const f of hidden) {
    const [entity, field] = f.split('.');
    if (entity === 'customer' && field) delete (dto as Record<string, unknown>)[field];
  }
  return dto;
}
