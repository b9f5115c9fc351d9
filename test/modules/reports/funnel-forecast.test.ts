import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { action, interaction, opportunity, share, testPipeline } from '../../helpers/factories.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const pipeline = await testPipeline(app);

const month = (offset: number) => {
  const d = new Date();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + offset);
  return d.toISOString().slice(0, 7);
};

// A small book: the branch's salesperson and a partner's, in this file's own pipeline.
async function book() {
  const c = await company(app);
  const s = c.users.sales;
  const deal = async (who: typeof s, stage: string, amount: string | null, currency = 'EUR', close = `${month(0)}-15`) => {
    const customer = await app.customer(who);
    return opportunity(app, who, customer.id, { pipelineId: pipeline.id, stage, expectedCloseDate: close, ...(amount ? { amount, currency } : {}) });
  };
  await deal(s, 'QUALIFICATION', '1000.00');
  await deal(s, 'ACCEPTANCE', '2000.00', 'EUR', `${month(1)}-03`);
  await deal(s, 'NEGOTIATION', '3000.00', 'EUR', `${month(1)}-28`);
  await deal(s, 'WON', '4000.00');
  await deal(s, 'LOST', '5000.00');
  await deal(s, 'QUALIFICATION', '700.00', 'USD');
  await deal(s, 'QUALIFICATION', null);
  await deal(c.users.partnerASales, 'ACCEPTANCE', '500.55', 'EUR', `${month(2)}-01`);
  return c;
}

t.test('GET /v1/reports/funnel: open deals per stage, within the caller visibility', async (t) => {
  const c = await book();
  const r = await app.rest(c.users.regionManager, 'GET', `/v1/reports/funnel?pipelineId=${pipeline.id}&ownerUnitId=${c.region.id}`);
  t.equal(r.status, 200, r.raw);
  t.equal(r.body.groups.length, 1);
  const [g] = r.body.groups;
  t.equal(g.group, null);
  t.same(
    g.stages.map((s: Record<string, unknown>) => [s.stageKey, s.count, s.amount, s.weightedAmount, s.unpricedCount, s.otherCurrencyCount]),
    [
      ['QUALIFICATION', 3, '1000.00', '100.00', 1, 1],
      ['ACCEPTANCE', 2, '2500.55', '1000.22', 0, 0],
      ['NEGOTIATION', 1, '3000.00', '2100.00', 0, 0],
    ],
  );
  t.same(g.totals, { count: 6, amount: '6500.55', weightedAmount: '3200.22', unpricedCount: 1, otherCurrencyCount: 1 });

  const usd = await app.rest(c.users.regionManager, 'GET', `/v1/reports/funnel?pipelineId=${pipeline.id}&ownerUnitId=${c.region.id}&currency=usd`);
  t.equal(usd.body.currency, 'USD');
  t.equal(usd.body.groups[0].totals.amount, '700.00');

  // Grouped by partner: the company's own staff (null) and partner A.
  const byPartner = await app.rest(c.users.regionManager, 'GET', `/v1/reports/funnel?pipelineId=${pipeline.id}&ownerUnitId=${c.region.id}&groupBy=partner`);
  t.same(
    byPartner.body.groups.map((x: { group: unknown; totals: { count: number } }) => [x.group, x.totals.count]),
    [
      [{ key: null, name: null }, 5],
      [{ key: c.partnerA.id, name: c.partnerA.name }, 1],
    ],
  );
  const byUser = await app.rest(c.users.regionManager, 'GET', `/v1/reports/funnel?pipelineId=${pipeline.id}&ownerUnitId=${c.region.id}&groupBy=user`);
  t.same(byUser.body.groups.map((x: { group: { key: string } }) => x.group.key).sort(), [c.users.sales.id, c.users.partnerASales.id].sort());

  // The partner's manager sees its partner only; the other partner's manager nothing; the branch's manager no partner.
  const pa = await app.rest(c.users.partnerAManager, 'GET', `/v1/reports/funnel?pipelineId=${pipeline.id}`);
  t.equal(pa.body.groups[0].totals.count, 1);
  t.equal(pa.body.groups[0].totals.amount, '500.55');
  const pb = await app.rest(c.users.partnerBManager, 'GET', `/v1/reports/funnel?pipelineId=${pipeline.id}&ownerUnitId=${c.partnerA.id}`);
  t.equal(pb.body.groups[0].totals.count, 0, "another partner's unit named as a filter shows nothing");
  const bm = await app.rest(c.users.branchManager, 'GET', `/v1/reports/funnel?pipelineId=${pipeline.id}`);
  t.equal(bm.body.groups[0].totals.count, 5);

  // Expected close range.
  const ranged = await app.rest(c.users.regionManager, 'GET', `/v1/reports/funnel?pipelineId=${pipeline.id}&ownerUnitId=${c.region.id}&expectedCloseFrom=${month(1)}-01&expectedCloseTo=${month(1)}-28`);
  t.same(ranged.body.groups[0].stages.map((s: { count: number }) => s.count), [0, 1, 1]);

  const g2 = await app.gql(c.users.regionManager, `query($p: ID, $u: ID) { funnelReport(pipelineId: $p, ownerUnitId: $u, groupBy: partner) { pipelineId currency groupBy groups { group { key name } stages { stageId stageKey stageName probability count amount weightedAmount unpricedCount otherCurrencyCount } totals { count amount weightedAmount unpricedCount otherCurrencyCount } } } }`, { p: pipeline.id, u: c.region.id });
  t.same(g2.errors, undefined, JSON.stringify(g2.errors));
  t.same(g2.data.funnelReport, byPartner.body, 'GraphQL answers the same');
});

t.test('GET /v1/reports/forecast: per month weighted, history-based, commit, best case and won', async (t) => {
  const c = await book();
  const q = `pipelineId=${pipeline.id}&ownerUnitId=${c.branch.id}&from=${month(0)}&to=${month(2)}`;
  const r = await app.rest(c.users.branchManager, 'GET', `/v1/reports/forecast?${q}`);
  t.equal(r.status, 200, r.raw);
  // Too little history in this branch: every stage falls back to its probability.
  t.same(r.body.stageRates.map((x: { source: string; rate: string }) => [x.source, x.rate]), [
    ['PIPELINE', '0.1000'],
    ['PIPELINE', '0.4000'],
    ['PIPELINE', '0.7000'],
  ]);
  const [m0, m1, m2] = r.body.months;
  t.same(m0, { month: month(0), openCount: 3, weighted: '100.00', historyBased: '100.00', commit: '4000.00', bestCase: '5000.00', won: '4000.00', wonCount: 1, unpricedCount: 1, otherCurrencyCount: 1 });
  t.same(m1, { month: month(1), openCount: 2, weighted: '2900.00', historyBased: '2900.00', commit: '3000.00', bestCase: '5000.00', won: '0.00', wonCount: 0, unpricedCount: 0, otherCurrencyCount: 0 });
  t.equal(m2.openCount, 0, "the partner's deal is not the branch's");
  t.equal(r.body.totals.bestCase, '10000.00');
  t.equal(r.body.commitProbability, 70, 'the last open stage is the commit stage by default');
  const higher = await app.rest(c.users.branchManager, 'GET', `/v1/reports/forecast?${q}&commitProbability=80`);
  t.equal(higher.body.months[1].commit, '0.00', 'NEGOTIATION (70 %) is not commit at 80');
  // With a minimum sample of 1, the branch's own history is used: the won deal passed every stage,
  // the lost one was lost straight from QUALIFICATION.
  const measured = await app.rest(c.users.branchManager, 'GET', `/v1/reports/forecast?${q}&minSample=1`);
  t.same(measured.body.stageRates.map((x: { stageKey: string; source: string; rate: string; sampleSize: number }) => [x.stageKey, x.source, x.rate, x.sampleSize]), [
    ['QUALIFICATION', 'HISTORY', '0.5000', 2],
    ['ACCEPTANCE', 'HISTORY', '1.0000', 1],
    ['NEGOTIATION', 'HISTORY', '1.0000', 1],
  ]);
  t.equal(measured.body.months[1].historyBased, '5000.00');

  const pa = await app.rest(c.users.partnerAManager, 'GET', `/v1/reports/forecast?pipelineId=${pipeline.id}&from=${month(0)}&to=${month(2)}`);
  t.equal(pa.body.totals.bestCase, '500.55');
  t.equal(pa.body.months[2].weighted, '200.22');

  const g = await app.gql(c.users.branchManager, `query($p: ID, $u: ID, $f: String, $t: String) { forecastReport(pipelineId: $p, ownerUnitId: $u, from: $f, to: $t) { pipelineId currency from to commitProbability stageRates { stageKey rate sampleSize source } months { month openCount weighted historyBased commit bestCase won wonCount unpricedCount otherCurrencyCount } totals { openCount weighted historyBased commit bestCase won wonCount unpricedCount otherCurrencyCount } undatedCount groupBy groups { group { key name } months { month openCount weighted historyBased commit bestCase won wonCount unpricedCount otherCurrencyCount } totals { openCount weighted historyBased commit bestCase won wonCount unpricedCount otherCurrencyCount } undatedCount } } }`, { p: pipeline.id, u: c.branch.id, f: month(0), t: month(2) });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.forecastReport, r.body);
  t.equal(r.body.groupBy, null);
  t.same(r.body.groups, [{ group: null, months: r.body.months, totals: r.body.totals, undatedCount: r.body.undatedCount }], 'ungrouped: one group holding the whole');

  // groupBy=partner over the region: the company's own deals (null key) and partner A's, which are
  // exactly what partner A's manager sees, and the groups add up to the totals.
  const rq = `pipelineId=${pipeline.id}&ownerUnitId=${c.region.id}&from=${month(0)}&to=${month(2)}`;
  const byPartner = await app.rest(c.users.regionManager, 'GET', `/v1/reports/forecast?${rq}&groupBy=partner`);
  t.equal(byPartner.status, 200, byPartner.raw);
  t.equal(byPartner.body.groupBy, 'partner');
  t.same(byPartner.body.groups.map((x: { group: { key: string | null; name: string | null } }) => x.group), [{ key: null, name: null }, { key: c.partnerA.id, name: c.partnerA.name }]);
  const [own, partner] = byPartner.body.groups;
  t.same(own.months, r.body.months, "the company's own group is the branch's forecast (the region has no other staff deals)");
  t.same(partner.months, pa.body.months, "partner A's group is what partner A's manager sees");
  t.same(partner.totals, pa.body.totals);
  const plain = await app.rest(c.users.regionManager, 'GET', `/v1/reports/forecast?${rq}`);
  t.same(byPartner.body.totals, plain.body.totals, 'grouping changes no total');
  const sum = (k: 'openCount' | 'wonCount') => byPartner.body.groups.reduce((n: number, x: { totals: Record<string, number> }) => n + x.totals[k]!, 0);
  t.equal(sum('openCount'), plain.body.totals.openCount);
  t.equal(sum('wonCount'), plain.body.totals.wonCount);
  const cents = (v: string) => Math.round(Number(v) * 100);
  t.equal(byPartner.body.groups.reduce((n: number, x: { totals: { bestCase: string } }) => n + cents(x.totals.bestCase), 0), cents(plain.body.totals.bestCase));
  // Partner A's manager grouping by partner sees its own group only.
  const paGrouped = await app.rest(c.users.partnerAManager, 'GET', `/v1/reports/forecast?pipelineId=${pipeline.id}&from=${month(0)}&to=${month(2)}&groupBy=partner`);
  t.same(paGrouped.body.groups.map((x: { group: { key: string } }) => x.group.key), [c.partnerA.id]);
  const gg = await app.gql(c.users.regionManager, `query($p: ID, $u: ID, $f: String, $t: String) { forecastReport(pipelineId: $p, ownerUnitId: $u, from: $f, to: $t, groupBy: partner) { groupBy groups { group { key name } totals { bestCase openCount } } } }`, { p: pipeline.id, u: c.region.id, f: month(0), t: month(2) });
  t.same(gg.errors, undefined, JSON.stringify(gg.errors));
  t.same(gg.data.forecastReport.groups, byPartner.body.groups.map((x: { group: unknown; totals: { bestCase: string; openCount: number } }) => ({ group: x.group, totals: { bestCase: x.totals.bestCase, openCount: x.totals.openCount } })));
  const bad = await app.rest(c.users.regionManager, 'GET', `/v1/reports/forecast?${rq}&groupBy=planet`);
  t.equal(bad.status, 400);
  t.same(bad.body.errors?.map((e: { path: string }) => e.path), ['groupBy']);
  const gBad = await app.gql(c.users.regionManager, '{ forecastReport(groupBy: "partner") { groupBy } }');
  t.ok(gBad.codes.length > 0 && gBad.codes.every((x: string) => x === 'BAD_USER_INPUT'), 'GraphQL takes groupBy as an enum, not a string');
});

t.test('GET /v1/reports/sales-performance: per user, unit or partner', async (t) => {
  const c = await book();
  const customer = await app.customer(c.users.sales);
  await interaction(app, c.users.sales, customer.id);
  await interaction(app, c.users.sales, customer.id);
  await action(app, c.users.sales, { customerId: customer.id }, { status: 'DONE' });
  const r = await app.rest(c.users.branchManager, 'GET', `/v1/reports/sales-performance?pipelineId=${pipeline.id}`);
  t.equal(r.status, 200, r.raw);
  const me = r.body.rows.find((x: { group: { key: string } }) => x.group?.key === c.users.sales.id);
  t.ok(me, r.raw);
  t.equal(me.created, 7);
  t.equal(me.won, 1);
  t.equal(me.lost, 1);
  t.equal(me.wonAmount, '4000.00');
  t.equal(me.winRate, '0.5000');
  t.equal(me.conversionRate, '0.1429');
  t.equal(me.interactions, 2);
  // Gate actions done while moving the deals, and the one done here.
  t.ok(me.actionsDone >= 1);
  t.notOk(r.body.rows.some((x: { group: { key: string } }) => x.group?.key === c.users.partnerASales.id), 'no partner user in the branch manager report');
  // A customer shared with partner A: the partner reads its interactions, but the company's
  // salesperson (and its branch) stay out of the partner's performance report.
  await share(app, customer.id, { toUnitId: c.partnerA.id });
  const pa = await app.rest(c.users.partnerAManager, 'GET', `/v1/reports/sales-performance?pipelineId=${pipeline.id}&groupBy=unit`);
  t.same(pa.body.rows.map((x: { group: { key: string } }) => x.group.key), [c.partnerA.id], pa.raw);
  const byPartner = await app.rest(c.users.regionManager, 'GET', `/v1/reports/sales-performance?pipelineId=${pipeline.id}&ownerUnitId=${c.region.id}&groupBy=partner`);
  t.same(byPartner.body.rows.map((x: { group: { key: string | null }; created: number }) => [x.group.key, x.created]), [[null, 7], [c.partnerA.id, 1]]);
  const g = await app.gql(c.users.branchManager, `query($p: ID) { salesPerformanceReport(pipelineId: $p) { pipelineId currency from to groupBy rows { group { key name } created won lost wonAmount winRate conversionRate meanCycleDays interactions actionsDone } } }`, { p: pipeline.id });
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.same(g.data.salesPerformanceReport.rows, r.body.rows);
});

t.test('pipeline reports: rights and bad input through both doors', async (t) => {
  const c = await company(app);
  for (const path of ['funnel', 'conversion', 'forecast', 'sales-performance']) {
    t.equal((await app.rest(c.users.sales, 'GET', `/v1/reports/${path}`)).status, 403, `${path}: no reports:read`);
  }
  t.same((await app.gql(c.users.sales, '{ funnelReport { groupBy } }')).codes, ['FORBIDDEN']);
  for (const [url, path] of [
    ['funnel?groupBy=stage', 'groupBy'],
    ['funnel?pipelineId=nope', 'pipelineId'],
    [`funnel?pipelineId=${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`, 'pipelineId'],
    ['funnel?expectedCloseFrom=2025-03-01&expectedCloseTo=2025-02-01', 'expectedCloseFrom'],
    ['funnel?expectedCloseFrom=0000-01-01', 'expectedCloseFrom'],
    ['funnel?currency=euro', 'currency'],
    ['funnel?stage=x', 'stage'],
    ['conversion?from=2025-03-01&to=2025-02-01', 'from'],
    ['conversion?to=%00', 'to'],
    ['forecast?from=2025-13', 'from'],
    ['forecast?from=2025-01&to=2030-01', 'to'],
    ['forecast?commitProbability=101', 'commitProbability'],
    ['forecast?minSample=0', 'minSample'],
    ['sales-performance?groupBy=source', 'groupBy'],
    [`sales-performance?ownerUserId=${"x".repeat(5000)}`, 'ownerUserId'],
  ] as const) {
    const r = await app.rest(c.users.branchManager, 'GET', `/v1/reports/${url}`);
    t.equal(r.status, 400, url.slice(0, 60));
    t.ok((r.body.errors ?? []).some((e: { path: string }) => e.path === path), `${url.slice(0, 60)} names ${path}`);
  }
  const g = await app.gql(c.users.branchManager, '{ forecastReport(from: "2025-13") { from } }');
  t.same(g.codes, ['BAD_USER_INPUT']);
  t.same(g.errors?.[0]?.extensions?.errors, [{ path: 'from', message: 'a month, e.g. 2025-03' }]);
});

