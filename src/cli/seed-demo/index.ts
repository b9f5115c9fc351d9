// `npm run seed:demo` (run.ts): a believable small company on the configured database, the same on
// every fresh database (fixed seed). Every record — units, users, customers, contacts, interactions,
// lifecycle moves, deals and their stage moves, key actions, shares, a handoff — is created through
// `app.services`, so every rule, gate, derived column, audit row and event is the real thing; only
// the dates of the history are set back afterwards (backdate.ts).
import type { FastifyInstance } from 'fastify';
import type { Principal } from '../../lib/access.js';
import { loadPrincipal } from '../../modules/org/index.js';
import { DEMO_MARKER, demoEmail } from './cast.js';
import type { SeedContext, SeededCustomer, SeedSummary } from './context.js';
import { backdate, findAdminId, newBackdating } from './backdate.js';
import { seedClaimsAndRules } from './claims.js';
import { seedCustomers } from './customers.js';
import { seedHistory } from './history.js';
import { seedOrders } from './orders.js';
import { seedOrg } from './org.js';
import { prng } from './random.js';
import { seedValue } from './value.js';

export { DEMO_MARKER, demoEmail, keyLogins } from './cast.js';
export type { SeedSummary } from './context.js';

// Arbitrary but fixed, distinct from the migration lock: two seeders on one database take turns.
const SEED_LOCK_KEY = 7_305_002;

/** Seeds the demo company through `app.services`; does nothing when the marker unit exists. */
export async function seedDemo(app: FastifyInstance, opts: { customers?: number; seed?: number } = {}): Promise<SeedSummary> {
  const started = Date.now();
  const { database, services } = app;
  const db = database.db;
  const summary: SeedSummary = { created: false, units: 0, users: 0, customers: 0, contacts: 0, frozen: 0, shares: 0, interactions: 0, opportunities: 0, actions: 0, handoffs: 0, orders: 0, ms: 0 };

  return database.withLock(SEED_LOCK_KEY, async () => {
    const principals = new Map<string, Principal>();
    const as = async (userId: string): Promise<Principal> => {
      let p = principals.get(userId);
      if (!p) {
        p = (await loadPrincipal(db, userId)) ?? undefined;
        if (!p) throw new Error(`user ${userId} vanished while seeding`);
        principals.set(userId, p);
      }
      return p;
    };
    const adminId = await findAdminId(db, app.config.adminEmail);
    if (!adminId) throw new Error('no active admin user: run `npm run migrate` first');
    const admin = await as(adminId);
    const units = await services.org.listUnits(admin);
    if (units.some((u) => u.name === DEMO_MARKER)) return { ...summary, ms: Date.now() - started };
    const root = units.find((u) => u.parentId === null);
    if (!root) throw new Error('no headquarters unit');
    // Deals go into the bootstrap's default pipeline; the seed makes none of its own.
    if (!(await services.opportunities.listPipelines(admin)).some((p) => p.isDefault)) throw new Error('no default pipeline: run `npm run migrate` first');

    const ctx: SeedContext = { services, rng: prng(opts.seed ?? 20_240_601), admin, as, summary, now: Date.now() };
    const org = await seedOrg(ctx, root);
    const customers = await seedCustomers(ctx, org, opts.customers ?? 300);
    const marketer = org.marketers[0];
    if (!marketer) throw new Error('the demo company has no marketer');

    // Each customer's story, told by its owner (marketing for the pool).
    const dated = newBackdating();
    for (const c of customers) await seedHistory(ctx, c, c.ownerUserId ?? marketer.id, dated);
    await backdate(db, dated);
    // The ERP's orders, with its own dates, once the deals they came from are dated.
    await seedOrders(ctx, customers);

    // One lead from marketing's pool handed to a Hamburg salesperson, due tomorrow.
    const receiver = org.owners.flatMap((o) => (o.kind === 'user' ? [o.user] : [])).find((u) => u.email === demoEmail('Maria Schneider', 'sales'));
    const lead = customers.find((c) => c.ownerUserId === null && c.target === 'PROSPECT');
    if (receiver && lead) {
      await services.lifecycle.handOff(await as(marketer.id), lead.id, {
        toUserId: receiver.id,
        dueAt: new Date(ctx.now + 20 * 3_600_000).toISOString(),
        note: 'Qualified at the trade fair: budget approved, decision this quarter',
      });
      summary.handoffs++;
    }

    // Allocation rules, and a partner's claims (one approved, one pending).
    await seedClaimsAndRules(ctx, org, customers.filter((c) => c.id !== lead?.id));

    // A few dormant customers frozen, so status filters have something to show.
    const frozen = new Set<string>();
    for (const c of customers) {
      if (!ctx.rng.chance(0.04) || c.id === lead?.id) continue;
      await services.customers.setFrozen(admin, c.id, true, 'Dormant: no contact for 18 months');
      frozen.add(c.id);
      summary.frozen++;
    }

    // Joint deals: the Hamburg branch manager shares one of the branch's customers with each partner,
    // which may then read it (a share grants reading only).
    const hamburg = org.branches[0];
    const jointDeals: SeededCustomer[] = customers.filter((c) => c.ownerUnitId === hamburg?.unit.id && !frozen.has(c.id));
    for (const [i, partner] of org.partners.entries()) {
      const deal = jointDeals[i];
      if (!hamburg?.manager || !deal) continue;
      await services.org.createShare(await as(hamburg.manager.id), { resourceType: 'CUSTOMER', resourceId: deal.id, toUnitId: partner.id });
      summary.shares++;
    }

    // Costs, reference customers, and the first full value recomputation (last: it ranks everyone).
    await seedValue(ctx, org, customers, frozen);
    return { ...summary, created: true, ms: Date.now() - started };
  });
}
