import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import { type TestApp, type Unit, type User } from '../../helpers/app.js';

/** A due date `ms` from now, as the API takes it. */
export const inMs = (ms: number) => new Date(Date.now() + ms).toISOString();
export const inHours = (h: number) => inMs(h * 3600_000);

/**
 * A region whose marketer nurtures the region's pool, a sales branch with a manager and two
 * salespeople, and two partners with their managers and salespeople, all below the region.
 */
export async function handoffWorld(t: TestApp) {
  const region = await t.unit('REGION');
  const branch = await t.unit('BRANCH', region);
  const partner = await t.unit('PARTNER', region);
  const otherPartner = await t.unit('PARTNER', region);
  const users = {
    regionManager: await t.user(region, ['manager']),
    marketer: await t.user(region, ['marketing']),
    branchManager: await t.user(branch, ['manager']),
    seller: await t.user(branch, ['sales']),
    seller2: await t.user(branch, ['sales']),
    service: await t.user(branch, ['service']),
    partnerManager: await t.user(partner, ['partner_manager']),
    partnerSales: await t.user(partner, ['partner_sales']),
    otherPartnerManager: await t.user(otherPartner, ['partner_manager']),
    otherPartnerSales: await t.user(otherPartner, ['partner_sales']),
  };
  return { region, pool: region, branch, partner, otherPartner, users };
}

/** A lead in a unit's pool (no owner user), made by `creator` (who must reach that unit). */
export async function pooledLead(t: TestApp, creator: User, unit: Unit, stage = 'PROSPECT') {
  return t.customer(creator, { ownerUnitId: unit.id, lifecycleStage: stage as 'PROSPECT' });
}

export async function count(t: TestApp, q: ReturnType<typeof sql>): Promise<number> {
  const [r] = await queryRows<{ n: number | string }>(t.db, q);
  return Number(r?.n ?? 0);
}

export async function waitFor(cond: () => Promise<boolean>, ms: number, step = 250): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, step));
  }
  return cond();
}
