import t from 'tap';
import { isBackward, isBefore, LEAD_STAGES, LIFECYCLE_STAGES, stageRank, stagesFrom } from '../../src/modules/customers/index.js';

// domain.md §2: suspect → prospect → opportunity → customer → user. The one list lives in
// src/modules/customers/lifecycle-stages.ts; schemas, services, reports and the seed read it.
t.test('the lifecycle stages and their order', async (t) => {
  t.same([...LIFECYCLE_STAGES], ['SUSPECT', 'PROSPECT', 'OPPORTUNITY', 'CUSTOMER', 'USER']);
  t.same(LIFECYCLE_STAGES.map(stageRank), [0, 1, 2, 3, 4]);
  t.ok(isBackward('OPPORTUNITY', 'PROSPECT'), 'an opportunity judged not ready goes back to prospect');
  t.notOk(isBackward('PROSPECT', 'OPPORTUNITY'));
  t.ok(isBefore('PROSPECT', 'OPPORTUNITY'));
  t.same(stagesFrom('OPPORTUNITY'), ['OPPORTUNITY', 'CUSTOMER', 'USER'], 'reached opportunity');
  t.same([...LEAD_STAGES].sort(), ['PROSPECT', 'SUSPECT'], 'only leads are handed off');
});
