import t from 'tap';
import { rateOf } from '../../../src/modules/reports/reports.service.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { lifecycleMove } from '../../helpers/factories.js';

const app = await buildTestApp();
t.teardown(() => app.close());

t.test('rates are decimal strings, rounded half up', async (t) => {
  t.equal(rateOf(1, 3), '0.3333');
  t.equal(rateOf(2, 3), '0.6667');
  t.equal(rateOf(3, 3), '1.0000');
  t.equal(rateOf(0, 7), '0.0000');
  t.equal(rateOf(1, 8), '0.1250');
});

t.test('GET /v1/reports/sources: per channel and campaign, visible customers only', async (t) => {
  const c = await company(app);
  const s = c.users.sales;
  const made = (stage: string, channel: string | null, campaign?: string) =>
    app.customer(s, { lifecycleStage: stage as never, ...(channel ? { source: { channel: channel as never, ...(campaign ? { campaign } : {}) } } : {}) });
  await made('SUSPECT', 'EVENT', 'Fair 2025');
  await made('OPPORTUNITY', 'EVENT', 'Fair 2025');
  await made('CUSTOMER', 'EVENT', 'Fair 2025');
  const back = await made('PROSPECT', 'EVENT', 'Fair 2025');
  // Reached OPPORTUNITY once, then moved back: still counted as having reached it.
  await lifecycleMove(app, s, back.id, 'OPPORTUNITY');
  await lifecycleMove(app, s, back.id, 'PROSPECT', 'not ready');
  await made('USER', 'WEBSITE');
  await made('SUSPECT', null);
  const frozen = await made('CUSTOMER', 'WEBSITE');
  t.equal((await app.rest(c.users.branchManager, 'POST', `/v1/customers/${frozen.id}/freeze`, {})).status, 200);
  // Another partner's customers never count for this region's manager.
  await app.customer(c.users.partnerBSales, { source: { channel: 'EVENT', campaign: 'Fair 2025' } as never, lifecycleStage: 'CUSTOMER' as never });

  const r = await app.rest(c.users.branchManager, 'GET', '/v1/reports/sources');
  t.equal(r.status, 200, r.raw);
  t.same(r.body.rows, [
    { channel: 'EVENT', campaign: 'Fair 2025', customers: 4, toOpportunity: 3, toCustomer: 1, opportunityRate: '0.7500', customerRate: '0.2500' },
    { channel: 'WEBSITE', campaign: null, customers: 1, toOpportunity: 1, toCustomer: 1, opportunityRate: '1.0000', customerRate: '1.0000' },
    { channel: null, campaign: null, customers: 1, toOpportunity: 0, toCustomer: 0, opportunityRate: '0.0000', customerRate: '0.0000' },
  ]);
  t.same(r.body.totals, { customers: 6, toOpportunity: 4, toCustomer: 2, opportunityRate: '0.6667', customerRate: '0.3333' });
  t.ok(Math.abs(Date.parse(r.body.to) - Date.now()) < 60_000, 'to defaults to now');
  t.equal(Date.parse(r.body.to) - Date.parse(r.body.from), 90 * 86_400_000, 'from defaults to 90 days before');

  const g = await app.gql(c.users.branchManager, '{ sourceReport { from to rows { channel campaign customers toOpportunity toCustomer opportunityRate customerRate } totals { customers toOpportunity toCustomer opportunityRate customerRate } } }');
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.sourceReport.rows, r.body.rows, 'GraphQL answers the same');
  t.same(g.data.sourceReport.totals, r.body.totals);

  const partner = await app.rest(c.users.partnerAManager, 'GET', '/v1/reports/sources');
  t.equal(partner.status, 200);
  t.equal(partner.body.totals.customers, 0, "another partner's manager counts none of them");
  t.equal(partner.body.totals.opportunityRate, null, 'no customers: no rate');

  // A period that ended before these customers existed.
  const past = await app.rest(c.users.branchManager, 'GET', '/v1/reports/sources?from=2020-01-01&to=2020-12-31');
  t.equal(past.status, 200);
  t.same(past.body.rows, []);
  t.equal(past.body.to, '2021-01-01T00:00:00.000Z', 'a day as `to` covers the whole day');
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  t.equal((await app.rest(c.users.branchManager, 'GET', `/v1/reports/sources?from=2020-01-01&to=${tomorrow}`)).body.totals.customers, 6);
});

t.test('sources report: rights and bad input', async (t) => {
  const c = await company(app);
  t.equal((await app.rest(c.users.sales, 'GET', '/v1/reports/sources')).status, 403, 'no reports:read');
  t.same((await app.gql(c.users.sales, '{ sourceReport { totals { customers } } }')).codes, ['FORBIDDEN']);
  for (const [q, path] of [
    ['from=2025-03-01&to=2025-02-01', 'from'],
    ['from=yesterday', 'from'],
    ['to=2025-13-01', 'to'],
    ['campaign=x', 'campaign'],
  ] as const) {
    const r = await app.rest(c.users.branchManager, 'GET', `/v1/reports/sources?${q}`);
    t.equal(r.status, 400, q);
    t.ok((r.body.errors ?? []).some((e: { path: string }) => e.path === path), `${q} names ${path}: ${r.raw}`);
  }
  const g = await app.gql(c.users.branchManager, 'query($f: DateTime, $t: DateTime) { sourceReport(from: $f, to: $t) { totals { customers } } }', { f: '2025-03-01T00:00:00Z', t: '2025-02-01T00:00:00Z' });
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.same(g.errors?.[0]?.extensions?.errors, [{ path: 'from', message: 'must not be after to' }]);
});

t.test('the customers list filters by source channel', async (t) => {
  const c = await company(app);
  const a = await app.customer(c.users.sales, { source: { channel: 'REFERRAL' } as never });
  await app.customer(c.users.sales, { source: { channel: 'MEDIA' } as never });
  const r = await app.rest(c.users.sales, 'GET', `/v1/customers?source=referral&ownerUserId=${c.users.sales.id}`);
  t.equal(r.status, 200);
  t.same(r.body.data.map((x: { id: string }) => x.id), [a.id]);
  t.same(r.body.data[0].source, { channel: 'REFERRAL', campaign: null, referrerCustomerId: null, detail: null });
});
