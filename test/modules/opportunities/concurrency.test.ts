import t from 'tap';
import { buildTestApp, company } from '../../helpers/app.js';
import { opportunity } from '../../helpers/factories.js';
import { findRow } from '../../helpers/records.js';
import { transitionRows } from './support.js';

const app = await buildTestApp();
t.teardown(() => app.close());

// The embedded database is one connection in one process: requests cannot race on it.
const skip = app.database.kind !== 'postgres' ? 'needs PostgreSQL (set DATABASE_URL): the embedded database cannot race' : false;

t.test('10 parallel identical transitions: one 201, nine 409, one history row, no 5xx', { skip }, async (t) => {
  const c = await company(app);
  const cust = await app.customer(c.users.sales);
  const o = await opportunity(app, c.users.sales, cust.id, { qualification: { judgement: 'Experienced call' } });
  const results = await Promise.all(
    Array.from({ length: 10 }, () => app.rest(c.users.sales, 'POST', `/v1/opportunities/${o.id}/transitions`, { toStageKey: 'ACCEPTANCE' })),
  );
  const statuses = results.map((r) => r.status).sort();
  t.same(statuses, [201, ...Array(9).fill(409)], JSON.stringify(results.filter((r) => r.status !== 201 && r.status !== 409).map((r) => r.raw)));
  t.equal((await transitionRows(app, o.id)).length, 1, 'one history row');
  const row = await findRow(app, 'opportunities', o.id);
  t.equal(row?.version, 2, 'one write');

  // Racing different targets: each request is applied to the state the previous one left, never lost.
  const moves = await Promise.all([
    app.rest(c.users.sales, 'POST', `/v1/opportunities/${o.id}/transitions`, { toStageKey: 'LOST', lostReason: 'price' }),
    app.rest(c.users.sales, 'POST', `/v1/opportunities/${o.id}/transitions`, { toStageKey: 'QUALIFICATION', reason: 'again' }),
    app.rest(c.users.sales, 'POST', `/v1/opportunities/${o.id}/transitions`, { toStageKey: 'LOST', lostReason: 'price' }),
  ]);
  t.ok(moves.every((m) => m.status < 500), 'no 5xx');
  const ok = moves.filter((m) => m.status === 201).length;
  t.equal((await transitionRows(app, o.id)).length, 1 + ok, 'one history row per accepted move');
  t.equal((await findRow(app, 'opportunities', o.id))?.version, 2 + ok);
});
