// Allocation rules and claims of the demo company, made after the customers so the seeded book stays
// as told: trade-fair leads in Bavaria go round-robin to the Munich branch, a partner's own leads stay
// with it, and a partner has one claim approved and one waiting for its head.
import { PARTNERS } from './cast.js';
import type { SeedContext, SeededCustomer } from './context.js';
import type { SeededOrg } from './org.js';

export async function seedClaimsAndRules(ctx: SeedContext, org: SeededOrg, customers: SeededCustomer[]): Promise<{ rules: number; claims: number }> {
  const { services, admin, as } = ctx;
  let rules = 0;
  let claims = 0;
  const munich = org.branches.find((b) => b.place.city === 'Munich');
  if (munich) {
    await services.allocation.createRule(admin, {
      name: 'Hannover fair leads in Bavaria: round robin to the Munich branch',
      order: 10,
      match: { region: munich.place.state, source: 'EVENT' },
      target: { unitId: munich.unit.id },
      strategy: 'ROUND_ROBIN',
      capacityPerUser: 40,
    });
    rules++;
  }
  const partner = org.partners[0];
  const plan = PARTNERS[0];
  const users = org.owners.flatMap((o) => (o.kind === 'user' ? [o.user] : []));
  const head = users.find((u) => u.unitId === partner?.id && u.roles.includes('partner_manager'));
  if (!partner || !plan || !head) return { rules, claims };
  await services.allocation.createRule(await as(head.id), {
    name: `${partner.name}: its own leads stay with the partner`,
    order: 20,
    match: { region: plan.state, source: 'PARTNER' },
    target: { unitId: partner.id },
    strategy: 'LEAST_LOADED',
  });
  rules++;

  // Two prospects of the partner's salespeople: one claim approved by the partner's head, one pending.
  const theirs = customers.filter((c) => c.partner && c.ownerUserId !== null && c.ownerUserId !== head.id && c.ownerUnitId === partner.id);
  const [approved, pending] = [...theirs.filter((c) => c.target === 'PROSPECT'), ...theirs.filter((c) => c.target !== 'PROSPECT')];
  if (approved?.ownerUserId) {
    const claim = await services.claims.createClaim(await as(approved.ownerUserId), { customerId: approved.id, note: 'First contact at the Hannover fair; demo scheduled' });
    await services.claims.approve(await as(head.id), claim.id, 'Contact history documents the first visit');
    claims++;
  }
  if (pending?.ownerUserId) {
    await services.claims.createClaim(await as(pending.ownerUserId), { customerId: pending.id, note: 'Tender announced; we are on the bidder list' });
    claims++;
  }
  return { rules, claims };
}
