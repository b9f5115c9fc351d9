import t from 'tap';
import { insideClaimant, lowestCommonUnit, refusedBy } from '../../src/modules/claims/protection.js';

const HQ = '/hq/';
const REGION = `${HQ}region/`;
const BRANCH = `${REGION}branch/`;
const PA = `${REGION}pa/`;
const PA_SUB = `${PA}pasub/`;
const PB = `${REGION}pb/`;
const ELSEWHERE = `${HQ}r2/b2/`;
const staff = (unitPath: string) => ({ unitPath, partnerPath: null });
const partner = (unitPath: string, partnerPath: string) => ({ unitPath, partnerPath });

t.test('lowest common unit: the deepest unit both paths share', async (t) => {
  t.equal(lowestCommonUnit(PA, PB), 'region');
  t.equal(lowestCommonUnit(PA_SUB, PA), 'pa');
  t.equal(lowestCommonUnit(BRANCH, ELSEWHERE), 'hq');
  t.equal(lowestCommonUnit(BRANCH, BRANCH), 'branch');
});

t.test("the claimant's side: its unit and below, never across a partner boundary", async (t) => {
  t.ok(insideClaimant(partner(PA_SUB, PA), PA), 'a sub-unit of the claiming partner');
  t.notOk(insideClaimant(partner(PA, PA), PA_SUB), 'the partner head sits above its sub-unit claimant: outside');
  t.notOk(insideClaimant(partner(PB, PB), REGION), 'a partner below a claiming region is still another partner');
  t.ok(insideClaimant(staff(BRANCH), REGION), "the company's branch below a claiming region");
  t.notOk(insideClaimant(staff(ELSEWHERE), REGION));
});

t.test('what each case refuses', async (t) => {
  for (const c of ['claim', 'duplicate', 'opportunity'] as const) {
    t.notOk(refusedBy(c, partner(PA_SUB, PA), PA), `${c}: inside the claimant's unit`);
    t.ok(refusedBy(c, partner(PB, PB), PA), `${c}: another partner`);
  }
  t.ok(refusedBy('claim', staff(BRANCH), PA), 'claim: company staff outside the claimant');
  t.ok(refusedBy('duplicate', staff(BRANCH), PA), 'duplicate: company staff outside the claimant');
  t.notOk(refusedBy('opportunity', staff(BRANCH), PA), "opportunity: the company's own staff still work the customer");
  t.ok(refusedBy('opportunity', partner(PB, PB), REGION), 'opportunity: a partner below a claiming region');
});
