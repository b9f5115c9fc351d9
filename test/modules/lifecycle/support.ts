// Helpers of the lifecycle and handoff tests (not a test file itself); shared factories and readers
// live in test/helpers.
import type { TestApp, Unit, User } from '../../helpers/app.js';

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
