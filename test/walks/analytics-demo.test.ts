import { sql } from 'drizzle-orm';
import t from 'tap';
import { demoEmail, seedDemo } from '../../src/cli/seed-demo/index.js';
import { queryRows } from '../../src/db/client.js';
import { buildTestApp } from '../helpers/app.js';

// The "done when" walks of customer value (issue 13) and of the pipeline reports and plans (issue 14),
// as a sales director and a sales manager would try them on a fresh demo database. The demo company
// gets a database of its own (embedded): classes are percentiles of every customer in it. The answers
// are printed as comments (`npx tap … -R tap` shows them).

const app = await buildTestApp({ DATABASE_URL: '' });
t.teardown(() => app.close());
await seedDemo(app.app, { customers: 300 });

const userId = async (email: string) => {
  const [u] = await queryRows<{ id: string }>(app.db, sql`SELECT id FROM users WHERE lower(email) = lower(${email})`);
  if (!u) throw new Error(`no user ${email}`);
  return u.id;
};
const tokenOf = async (email: string) => app.token(await userId(email));
const admin = await tokenOf('admin@example.com');
const regionManager = await tokenOf(demoEmail('Jan Petersen', 'manager'));
const branchManager = await tokenOf(demoEmail('Lukas Brandt', 'manager'));
const partnerManager = await tokenOf(demoEmail('Vera Steiner', 'partner_manager'));
const integration = await tokenOf('erp.integration@demo.keel.dev');
const unitId = async (name: string) => {
  const [u] = await queryRows<{ id: string; path: string }>(app.db, sql`SELECT id, path FROM org_units WHERE name = ${name}`);
  if (!u) throw new Error(`no unit ${name}`);
  return u;
};
const day = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * day).toISOString();

t.test('issue 13: the pyramid, a value page, an ERP order lifting B to A, a HIGH churn risk, a partner manager’s pyramid', async (t) => {
  // The pyramid: ~5 % A, ~20 % C of the ranked buyers.
  const pyr = await app.rest(admin, 'GET', '/v1/reports/value-pyramid');
  t.equal(pyr.status, 200, pyr.raw);
  const n = pyr.body.totals.customers;
  const count = (k: string) => pyr.body.totals.classes.find((c: { valueClass: string }) => c.valueClass === k)?.customers ?? 0;
  t.comment(`pyramid: ${n} ranked customers — A ${count('A')}, B ${count('B')}, C ${count('C')}`);
  t.ok(n >= 40, `${n} ranked customers: enough for a pyramid`);
  t.equal(count('A') + count('B') + count('C'), n);
  t.ok(count('A') >= 1 && count('A') <= Math.ceil(n * 0.05), `A ${count('A')} ≤ ⌈5 % of ${n}⌉`);
  t.ok(count('C') >= Math.ceil(n * 0.2) && count('C') <= Math.ceil(n * 0.2) + 3, `C ${count('C')} ≈ ⌈20 % of ${n}⌉ (ties at the bottom share C)`);

  // A customer's value page, part by part: the contributions add up to the score.
  const [top] = await queryRows<{ id: string; name: string }>(app.db, sql`SELECT c.id, c.name FROM customers c JOIN customer_values cv ON cv.customer_id = c.id WHERE cv.value_class = 'A' ORDER BY cv.score DESC, c.id LIMIT 1`);
  const page = await app.rest(admin, 'GET', `/v1/customers/${top!.id}/value`);
  t.equal(page.status, 200, page.raw);
  t.same(page.body.parts.map((p: { indicator: string }) => p.indicator), ['revenue', 'expectedSales', 'referenceEffect', 'credit', 'cost']);
  const sum = page.body.parts.reduce((s: number, p: { contribution: number }) => s + Number(p.contribution), 0);
  t.ok(Math.abs(sum - page.body.score) <= 0.05, `parts add up to the score (${sum.toFixed(2)} vs ${page.body.score})`);
  t.ok(page.body.parts.every((p: { explanation: string }) => p.explanation.length > 10), 'each part is explained');
  t.comment(`value page of ${top!.name}: score ${page.body.score}, class ${page.body.valueClass}`);
  for (const p of page.body.parts) t.comment(`  ${p.indicator}: raw ${p.raw}, normalised ${p.normalised}, weight ${p.weight}, contribution ${p.contribution} — ${p.explanation}`);

  // An ERP order moves a B customer into A: in the order's transaction, with history and an event; the
  // scheduled full recomputation keeps it there. Nobody touches the customer.
  const [b] = await queryRows<{ id: string; name: string; value_score: string }>(
    app.db,
    sql`SELECT c.id, c.name, cv.score::text AS value_score FROM customers c JOIN customer_values cv ON cv.customer_id = c.id
      WHERE cv.value_class = 'B' AND c.credit_status IS DISTINCT FROM 'BLOCKED' ORDER BY cv.score DESC, c.id LIMIT 1`,
  );
  const order = await app.rest(integration, 'POST', '/v1/orders', { customerId: b!.id, number: `WALK-${Date.now()}`, amount: '2500000.00', currency: 'EUR', status: 'CONFIRMED' });
  t.equal(order.status, 201, order.raw);
  const afterOrder = await app.rest(admin, 'GET', `/v1/customers/${b!.id}/value`);
  t.equal(afterOrder.body.valueClass, 'A', `B → A (score ${b!.value_score} → ${afterOrder.body.score})`);
  t.match(afterOrder.body.history[0], { cause: 'ORDER', valueClass: 'A' });
  const [hist] = await queryRows<{ previous_class: string }>(app.db, sql`SELECT previous_class FROM customer_value_history WHERE customer_id = ${b!.id} ORDER BY at DESC, id DESC LIMIT 1`);
  t.equal(hist?.previous_class, 'B', 'history names the class it left');
  const events = await queryRows<{ payload: { before: { valueClass: string }; after: { valueClass: string; cause: string } } }>(
    app.db,
    sql`SELECT payload FROM events WHERE type = 'customer.value_changed' AND entity_id = ${b!.id}::uuid ORDER BY id`,
  );
  t.match(events[events.length - 1]?.payload, { before: { valueClass: 'B' }, after: { valueClass: 'A', cause: 'ORDER' } }, 'customer.value_changed B → A');
  const full = await app.app.services.value.recomputeAll('system', 'SCHEDULE');
  t.ok(full, 'the scheduled recomputation ran');
  t.equal((await app.rest(admin, 'GET', `/v1/customers/${b!.id}`)).body.valueClass, 'A', 'still A after the full recomputation');
  t.comment(`ERP order of 2 500 000.00 EUR: ${b!.name} B → A, score ${b!.value_score} → ${afterOrder.body.score}`);

  // 90 days without contact and falling orders: HIGH with both reasons, on the owner's agenda.
  const [c] = await queryRows<{ id: string; name: string; owner_user_id: string }>(
    app.db,
    sql`SELECT c.id, c.name, c.owner_user_id FROM customers c JOIN users u ON u.id = c.owner_user_id AND u.active JOIN customer_values cv ON cv.customer_id = c.id
      WHERE c.status = 'ACTIVE' AND c.lifecycle_stage IN ('CUSTOMER', 'USER') AND cv.value_class IS NOT NULL AND cv.churn_level = 'NONE' AND c.credit_status IS DISTINCT FROM 'BLOCKED'
        AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.customer_id = c.id AND upper(i.outcome) = 'COMPLAINT')
        AND (SELECT count(*) FROM orders o WHERE o.customer_id = c.id AND o.status <> 'CANCELLED') >= 2
      ORDER BY c.id LIMIT 1`,
  );
  // Its history made so: the last contact 120 days ago, orders a year ago and only a trickle since.
  await app.db.execute(sql`UPDATE interactions SET occurred_at = now() - interval '120 days' WHERE customer_id = ${c!.id} AND occurred_at > now() - interval '120 days'`);
  await app.db.execute(sql`UPDATE customers SET created_at = now() - interval '3 years' WHERE id = ${c!.id}`);
  await app.db.execute(sql`UPDATE orders SET ordered_at = now() - interval '200 days' WHERE customer_id = ${c!.id} AND ordered_at > now() - interval '200 days'`);
  const trickle = await app.rest(integration, 'POST', '/v1/orders', { customerId: c!.id, number: `WALK-T-${Date.now()}`, amount: '10.00', currency: 'EUR', orderedAt: ago(5) });
  t.equal(trickle.status, 201, trickle.raw);
  const churn = await app.rest(admin, 'GET', `/v1/customers/${c!.id}/value`);
  t.equal(churn.body.churn.level, 'HIGH', JSON.stringify(churn.body.churn));
  t.same(churn.body.churn.signals.map((s: { kind: string }) => s.kind), ['NO_CONTACT', 'ORDER_DROP'], 'both reasons');
  const owner = app.token(c!.owner_user_id);
  const agenda = await app.rest(owner, 'GET', '/v1/agenda?limit=200');
  const alert = agenda.body.data.find((a: { customerId: string; kind: string }) => a.customerId === c!.id && a.kind === 'CHURN_ALERT');
  t.ok(alert, "on the owner's agenda");
  t.match(alert?.title, /^Churn risk HIGH: /);
  const list = await app.rest(admin, 'GET', '/v1/reports/churn-risk?level=HIGH&limit=200');
  t.ok(list.body.rows.some((r: { customerId: string }) => r.customerId === c!.id), 'and on the churn list');
  t.comment(`churn: ${c!.name} HIGH — ${churn.body.churn.signals.map((s: { detail: string }) => s.detail).join('; ')}; agenda: "${alert?.title}"`);

  // A partner manager's pyramid counts only its partner's customers.
  const partner = await unitId('Alpen Distribution');
  const own = await app.rest(partnerManager, 'GET', '/v1/reports/value-pyramid');
  t.equal(own.status, 200, own.raw);
  // Naively: the active buyers the partner manager's own customer list shows (owned within the partner,
  // or shared with it: the one visibility rule), counted through the list door.
  const listed = async (stage: string) => (await app.rest(partnerManager, 'GET', `/v1/customers?lifecycleStage=${stage}&count=true&limit=1`)).body.totalCount as number;
  const visibleBuyers = (await listed('CUSTOMER')) + (await listed('USER'));
  const [owned] = await queryRows<{ n: number }>(
    app.db,
    sql`SELECT count(*)::int AS n FROM customers c JOIN org_units u ON u.id = c.owner_unit_id JOIN customer_values cv ON cv.customer_id = c.id
      WHERE cv.value_class IS NOT NULL AND u.path LIKE ${`${partner.path}%`}`,
  );
  t.equal(own.body.totals.customers, visibleBuyers, `the ${visibleBuyers} buyers it sees (${owned!.n} owned by the partner, the rest shared with it), none of the company's other ${n - visibleBuyers}`);
  t.ok(own.body.totals.customers < n);
  const g = await app.gql(partnerManager, '{ valuePyramidReport { totals { customers } } }');
  t.same(g.errors, undefined, JSON.stringify(g.errors));
  t.equal(g.data.valuePyramidReport.totals.customers, visibleBuyers, 'the same through GraphQL');
  t.comment(`partner manager (Alpen Distribution) pyramid: ${own.body.totals.customers} customers of ${n}`);
});

t.test('issue 14: funnel and conversion for two quarters, a 3-month forecast, 2 000 000 EUR decomposed for a branch, a stored plan and its progress; a partner manager sees its partner only', async (t) => {
  const half = new Date(Date.now() - 182 * day).toISOString().slice(0, 10);
  const region = await unitId('Demo Region North');
  const funnel = await app.rest(regionManager, 'GET', `/v1/reports/funnel?ownerUnitId=${region.id}`);
  t.equal(funnel.status, 200, funnel.raw);
  const ft = funnel.body.groups[0].totals;
  t.ok(ft.count > 0, `funnel: ${ft.count} open deals, ${ft.amount} EUR (weighted ${ft.weightedAmount})`);
  t.comment(`funnel, Region North: ${ft.count} open deals, ${ft.amount} EUR, weighted ${ft.weightedAmount}`);
  for (const s of funnel.body.groups[0].stages) t.comment(`  ${s.stageKey}: ${s.count} deals, ${s.amount} EUR, weighted ${s.weightedAmount}`);

  const conv = await app.rest(regionManager, 'GET', `/v1/reports/conversion?ownerUnitId=${region.id}&from=${half}`);
  t.equal(conv.status, 200, conv.raw);
  const cg = conv.body.groups[0];
  t.ok(cg.steps.some((s: { entered: number }) => s.entered > 0), 'deals moved in the last two quarters');
  t.comment(`conversion, Region North, since ${half}: win rate ${cg.winRate}, mean cycle ${cg.meanCycleDays} days, ${cg.wonCount} won / ${cg.lostCount} lost`);
  for (const s of cg.steps) t.comment(`  ${s.fromStageKey} → ${s.toStageKey}: entered ${s.entered}, advanced ${s.advanced}, lost ${s.lost}, rate ${s.conversionRate}, median ${s.medianDaysInStage} days`);

  const fc = await app.rest(regionManager, 'GET', `/v1/reports/forecast?ownerUnitId=${region.id}&groupBy=unit`);
  t.equal(fc.status, 200, fc.raw);
  t.equal(fc.body.months.length, 3, 'this month and the next two');
  t.comment(`forecast, Region North, ${fc.body.from}..${fc.body.to}: weighted ${fc.body.totals.weighted}, history-based ${fc.body.totals.historyBased}, commit ${fc.body.totals.commit}, best case ${fc.body.totals.bestCase}`);
  for (const m of fc.body.months) t.comment(`  ${m.month}: ${m.openCount} open, weighted ${m.weighted}, history ${m.historyBased}, commit ${m.commit}, best ${m.bestCase}, won ${m.won}`);
  t.ok(fc.body.groups.length >= 1);

  // 2 000 000 EUR for the Hamburg branch, this quarter.
  const hamburg = await unitId('Hamburg Branch');
  const now = new Date();
  const qStart = new Date(Date.UTC(now.getUTCFullYear(), Math.floor(now.getUTCMonth() / 3) * 3, 1));
  const qEnd = new Date(Date.UTC(qStart.getUTCFullYear(), qStart.getUTCMonth() + 3, 0));
  const plan = { unitId: hamburg.id, periodStart: qStart.toISOString().slice(0, 10), periodEnd: qEnd.toISOString().slice(0, 10), target: { amount: '2000000', currency: 'EUR' } };
  const dec = await app.rest(branchManager, 'POST', '/v1/plans/decompose', plan);
  t.equal(dec.status, 200, dec.raw);
  t.ok(dec.body.wonNeeded > 0);
  t.ok(dec.body.rates.every((r: { source: string; sampleSize: number }) => ['UNIT', 'PARENT', 'COMPANY', 'PIPELINE'].includes(r.source) && r.sampleSize >= 0), 'every rate names its source and sample');
  t.comment(`2 000 000 EUR for Hamburg: average won ${dec.body.averageWonAmount} (${dec.body.averageWonAmountSource}, n=${dec.body.averageWonAmountSampleSize}); needed ${dec.body.required.map((r: { stageKey: string; count: number }) => `${r.count} ${r.stageKey}`).join(', ')}`);
  for (const r of dec.body.rates) t.comment(`  ${r.fromStageKey} → ${r.toStageKey}: ${r.rate} (n=${r.sampleSize}, ${r.source})`);
  // The region manager (whose reach covers the region) decomposes the same for the branch: a rate with
  // too small a branch sample falls back to the region's, not to the pipeline's probability.
  const decRegion = await app.rest(regionManager, 'POST', '/v1/plans/decompose', plan);
  t.equal(decRegion.status, 200, decRegion.raw);
  t.ok(decRegion.body.rates.every((r: { source: string }) => r.source === 'UNIT' || r.source === 'PARENT'), 'rates from the branch or its region');
  t.comment(`the same by the region manager: needed ${decRegion.body.required.map((r: { stageKey: string; count: number }) => `${r.count} ${r.stageKey}`).join(', ')}`);
  for (const r of decRegion.body.rates) t.comment(`  ${r.fromStageKey} → ${r.toStageKey}: ${r.rate} (n=${r.sampleSize}, ${r.source})`);
  const counts = dec.body.required.map((r: { count: number }) => r.count);
  t.ok(counts.every((x: number, i: number) => i === 0 || x <= counts[i - 1]), 'the funnel narrows toward WON');

  const stored = await app.rest(branchManager, 'POST', '/v1/plans', { ...plan, name: 'Hamburg this quarter' });
  t.equal(stored.status, 201, stored.raw);
  t.same(stored.body.required, dec.body.required, 'stored as decomposed');
  const prog = await app.rest(branchManager, 'GET', `/v1/plans/${stored.body.id}/progress`);
  t.equal(prog.status, 200, prog.raw);
  t.comment(`progress (elapsed ${prog.body.elapsedShare}): won ${prog.body.won.actual} of ${prog.body.won.target}, gap ${prog.body.won.gap}`);
  for (const s of prog.body.stages) t.comment(`  ${s.stageKey}: required ${s.required} (today ${s.requiredToday}), expected to date ${s.expectedToDate}, actual ${s.actual}, gap ${s.gap}`);

  // The partner manager runs the same and sees its partner only.
  const partner = await unitId('Alpen Distribution');
  const pf = await app.rest(partnerManager, 'GET', '/v1/reports/funnel');
  t.equal(pf.status, 200, pf.raw);
  const [naive] = await queryRows<{ n: number }>(
    app.db,
    sql`SELECT count(*)::int AS n FROM opportunities o JOIN customers c ON c.id = o.customer_id JOIN org_units u ON u.id = o.owner_unit_id
      JOIN pipelines p ON p.id = o.pipeline_id AND p.is_default
      WHERE o.status = 'OPEN' AND c.status = 'ACTIVE' AND u.path LIKE ${`${partner.path}%`}`,
  );
  t.equal(pf.body.groups[0].totals.count, naive!.n, `the partner's ${naive!.n} open deals only`);
  const pc = await app.rest(partnerManager, 'GET', `/v1/reports/conversion?from=${half}`);
  t.equal(pc.status, 200);
  const pfc = await app.rest(partnerManager, 'GET', '/v1/reports/forecast?groupBy=partner');
  t.same(pfc.body.groups.map((x: { group: { key: string } }) => x.group.key).filter((k: string) => k !== partner.id), [], 'only its own partner group');
  const pd = await app.rest(partnerManager, 'POST', '/v1/plans/decompose', { ...plan, unitId: partner.id });
  t.equal(pd.status, 200, pd.raw);
  t.ok(pd.body.rates.every((r: { source: string }) => r.source !== 'COMPANY'), 'its rates never fall back to company numbers');
  t.equal((await app.rest(partnerManager, 'POST', '/v1/plans/decompose', plan)).status, 400, 'the Hamburg branch is no unit of its');
  t.equal((await app.rest(partnerManager, 'GET', `/v1/plans/${stored.body.id}`)).status, 404, "nor is the branch's plan");
  t.comment(`partner manager: funnel ${pf.body.groups[0].totals.count} deals, ${pf.body.groups[0].totals.amount} EUR; decomposition for its partner needs ${pd.body.required.map((r: { stageKey: string; count: number }) => `${r.count} ${r.stageKey}`).join(', ')}`);
});
