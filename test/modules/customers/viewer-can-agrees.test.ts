import t from 'tap';
import { buildTestApp, company, type User } from '../../helpers/app.js';
import { opportunity, share } from '../../helpers/factories.js';

// viewerCan is a promise about the writes: for every persona and every state of the record, each flag is
// true exactly when the write it names succeeds. Each write runs on a record of its own, so one write's
// effect never decides another's answer.

const app = await buildTestApp();
t.teardown(() => app.close());

type CustomerFlag = 'update' | 'freeze' | 'merge' | 'transition' | 'share' | 'createOpportunity' | 'recordInteraction' | 'createContact';
type State = 'ACTIVE' | 'FROZEN' | 'MERGED';

const c = await company(app);
const owner = c.users.sales;
const personas: [string, User][] = Object.entries(c.users);

// The write each flag stands for, against customer `id` (and `dup`, a second customer of the same owner).
const writes: Record<CustomerFlag, (who: User, id: string, dup: string) => Promise<number>> = {
  update: async (who, id) => (await app.rest(who, 'PATCH', `/v1/customers/${id}`, { industry: 'Machinery' })).status,
  freeze: async (who, id) => (await app.rest(who, 'POST', `/v1/customers/${id}/freeze`, { reason: 'credit check' })).status,
  merge: async (who, id, dup) => (await app.rest(who, 'POST', `/v1/customers/${id}/merge`, { duplicateIds: [dup] })).status,
  transition: async (who, id) => (await app.rest(who, 'POST', `/v1/customers/${id}/lifecycle-transitions`, { to: 'PROSPECT' })).status,
  share: async (who, id) => (await app.rest(who, 'POST', '/v1/shares', { resourceType: 'customer', resourceId: id, toUnitId: c.partnerB.id })).status,
  createOpportunity: async (who, id) => (await app.rest(who, 'POST', '/v1/opportunities', { customerId: id, name: 'Deal from viewerCan' })).status,
  recordInteraction: async (who, id) =>
    (await app.rest(who, 'POST', `/v1/customers/${id}/interactions`, { channel: 'PHONE', direction: 'OUTBOUND' })).status,
  createContact: async (who, id) => (await app.rest(who, 'POST', `/v1/customers/${id}/contacts`, { name: 'Dana Doe' })).status,
};

async function customerIn(state: State): Promise<{ id: string; dup: string }> {
  const customer = await app.customer(owner);
  const dup = await app.customer(owner);
  // Partner A reads through a share; the share must not turn into any write.
  await share(app, customer.id, { toUnitId: c.partnerA.id }, c.users.admin);
  await share(app, dup.id, { toUnitId: c.partnerA.id }, c.users.admin);
  if (state === 'FROZEN') await app.rest(c.users.admin, 'POST', `/v1/customers/${customer.id}/freeze`, { reason: 'on hold' });
  if (state === 'MERGED') {
    const survivor = await app.customer(owner);
    const merged = await app.rest(c.users.admin, 'POST', `/v1/customers/${survivor.id}/merge`, { duplicateIds: [customer.id] });
    if (merged.status !== 200) throw new Error(`merge for the fixture failed: ${merged.status} ${merged.body}`);
  }
  return { id: customer.id, dup: dup.id };
}

for (const state of ['ACTIVE', 'FROZEN', 'MERGED'] as const) {
  t.test(`a ${state.toLowerCase()} customer: every viewerCan flag is what its write answers`, async (t) => {
    for (const [name, who] of personas) {
      const probe = await customerIn(state);
      const read = await app.rest(who, 'GET', `/v1/customers/${probe.id}?include=viewerCan`);
      if (read.status === 404) {
        // Invisible: every write answers as for an unknown id, and nothing is promised.
        t.equal(await writes.update(who, probe.id, probe.dup), 404, `${name}: invisible, PATCH 404`);
        continue;
      }
      t.equal(read.status, 200, `${name} reads`);
      const flags = read.body.viewerCan as Record<CustomerFlag, boolean>;
      for (const flag of Object.keys(writes) as CustomerFlag[]) {
        const target = await customerIn(state);
        const status = await writes[flag](who, target.id, target.dup);
        const succeeded = status >= 200 && status < 300;
        t.equal(succeeded, flags[flag], `${state} ${name}: viewerCan.${flag} = ${flags[flag]}, the write answered ${status}`);
      }
    }
  });
}

t.test('an opportunity: update, transition and reopen agree with the writes, open and won', async (t) => {
  for (const [name, who] of personas) {
    for (const stage of [undefined, 'WON'] as const) {
      const customer = await app.customer(owner);
      await share(app, customer.id, { toUnitId: c.partnerA.id }, c.users.admin);
      const make = async () => opportunity(app, owner, customer.id, stage ? { stage } : {});
      const o = await make();
      const read = await app.rest(who, 'GET', `/v1/opportunities/${o.id}?include=viewerCan`);
      if (read.status === 404) continue;
      t.equal(read.status, 200, `${name} reads`);
      const flags = read.body.viewerCan as { update: boolean; transition: boolean; reopen: boolean };
      const label = `${stage ?? 'open'} opportunity, ${name}`;

      const patched = await app.rest(who, 'PATCH', `/v1/opportunities/${(await make()).id}`, { name: 'Renamed deal' });
      t.equal(patched.status === 200, flags.update, `${label}: update ${flags.update}, PATCH ${patched.status}`);

      const moved = await app.rest(who, 'POST', `/v1/opportunities/${(await make()).id}/transitions`, { toStageKey: 'LOST', lostReason: 'No budget', ...(stage ? { reason: 'Lost after all' } : {}) });
      const movedOk = moved.status === 200 || moved.status === 201;
      if (stage === undefined) t.equal(movedOk, flags.transition, `${label}: transition ${flags.transition}, move ${moved.status}`);
      // From a closed stage any move is a reopening: the reopen flag promises it, transition does not.
      else t.equal(movedOk, flags.reopen && !flags.transition, `${label}: a closed deal moves only as a reopening (${moved.status})`);

      if (stage === 'WON') {
        const reopened = await app.rest(who, 'POST', `/v1/opportunities/${(await make()).id}/transitions`, { toStageKey: 'QUALIFICATION', reason: 'Customer came back' });
        const ok = reopened.status === 200 || reopened.status === 201;
        t.equal(ok, flags.reopen, `${label}: reopen ${flags.reopen}, reopen ${reopened.status}`);
      } else {
        t.equal(flags.reopen, false, `${label}: nothing to reopen`);
      }
    }
  }
});
