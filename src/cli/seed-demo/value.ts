// Customer value on the demo: what serving customers cost, a couple of reference customers, and a
// full recomputation at the end so the pyramid, the churn list and the value pages say something.
import type { SeedContext, SeededCustomer } from './context.js';
import type { SeededOrg } from './org.js';

const KINDS = ['MARKETING', 'SALES', 'SERVICE', 'OTHER'] as const;
const DAY = 86_400_000;

export async function seedValue(ctx: SeedContext, org: SeededOrg, customers: SeededCustomer[], frozen: Set<string>): Promise<void> {
  const { services, rng, admin, as } = ctx;
  const active = customers.filter((c) => !frozen.has(c.id));
  // Buyers cost service and sales time; a few cost far more than they bring (the bottom of the pyramid).
  for (const c of active) {
    const buyer = c.target === 'CUSTOMER' || c.target === 'USER';
    if (!rng.chance(buyer ? 0.7 : 0.15)) continue;
    const who = c.ownerUserId ? await as(c.ownerUserId) : admin;
    const heavy = buyer && rng.chance(0.15);
    for (let i = 0, n = heavy ? 4 : rng.int(1, 3); i < n; i++) {
      const kind = buyer ? rng.pick(KINDS) : 'MARKETING';
      const amount = heavy ? rng.int(2_000, 11_000) : rng.int(50, 1_500);
      await services.value.recordCost(who, c.id, {
        kind,
        amount: `${amount}.00`,
        currency: 'EUR',
        incurredAt: new Date(ctx.now - rng.int(1, 300) * DAY).toISOString(),
        note: heavy ? 'Repeated on-site support visits' : null,
      });
    }
  }
  // Two reference customers, rated by the manager of their branch (the admin where there is none).
  const buyers = active.filter((c) => (c.target === 'CUSTOMER' || c.target === 'USER') && !c.partner);
  for (const [i, c] of buyers.slice(0, 2).entries()) {
    const manager = org.branches.find((b) => b.unit.id === c.ownerUnitId)?.manager;
    await services.value.setReferenceEffect(manager ? await as(manager.id) : admin, c.id, {
      level: i === 0 ? 5 : 3,
      reason: i === 0 ? 'Flagship installation: prospects visit it every month' : 'Speaks for us at the regional trade fair',
    });
  }
  // Classes are percentiles of everyone: one full recomputation once every input is in.
  await services.value.recomputeAll(admin, 'RECOMPUTE');
}
