import t from 'tap';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import { buildTestApp, company } from '../../helpers/app.js';
import { tag } from '../../helpers/factories.js';
import { auditFor } from '../../helpers/records.js';

// A bulk row the load wrote last by its external id is marked (external_ids.row_hash / row_version): the same
// row again, while the record is still at that version, is answered UNCHANGED on the mark. A write by anyone
// else moves the version and the row is decided on the full record again; the visibility rule and the write
// permission still hold for every row.

const app = await buildTestApp();
t.teardown(() => app.close());
const c = await company(app);
const erp = c.users.integration;

const marksOf = (system: string, externalId: string) =>
  queryRows<{ row_hash: string | null; row_version: number | null }>(app.db, sql`SELECT row_hash, row_version FROM external_ids WHERE resource_type = 'customer' AND system = ${system} AND external_id = ${externalId}`);

t.test('the same rows again are unchanged on their mark; a write elsewhere moves the version and the row is compared in full', async (t) => {
  const k = tag();
  const rows = Array.from({ length: 3 }, (_, i) => ({ externalId: `MK-${k}-${i}`, kind: 'ORGANIZATION', name: `Marked ${k} ${i}`, region: 'North', creditStatus: 'GOOD' }));
  const first = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows });
  t.same(first.body.summary, { created: 3, updated: 0, unchanged: 0, failed: 0 }, first.raw);
  const ids = first.body.results.map((r: { id: string }) => r.id);
  t.match(await marksOf('erp', `MK-${k}-0`), [{ row_hash: /./, row_version: 1 }]);

  const again = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows });
  t.same(again.body.summary, { created: 0, updated: 0, unchanged: 3, failed: 0 }, again.raw);
  t.same(again.body.results.map((r: { id: string }) => r.id), ids);

  // Someone changes the first record: its mark no longer holds, and the row puts the region back.
  const patched = await app.rest(c.users.admin, 'PATCH', `/v1/customers/${ids[0]}`, { region: 'South' });
  t.equal(patched.status, 200, patched.raw);
  const third = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows });
  t.same(third.body.results.map((r: { status: string }) => r.status), ['UPDATED', 'UNCHANGED', 'UNCHANGED'], third.raw);
  t.equal((await app.rest(erp, 'GET', `/v1/customers/${ids[0]}`)).body.region, 'North');
  t.same((await auditFor(app, ids[0])).map((r) => r.action), ['created', 'updated', 'updated']);
  t.match(await marksOf('erp', `MK-${k}-0`), [{ row_version: 3 }]);

  // A changed row is written and marked with its new content.
  const changed = rows.map((r, i) => (i === 1 ? { ...r, industry: 'Glass' } : r));
  const fourth = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: changed });
  t.same(fourth.body.results.map((r: { status: string }) => r.status), ['UNCHANGED', 'UPDATED', 'UNCHANGED'], fourth.raw);
  const fifth = await app.rest(erp, 'POST', '/v1/bulk/customers', { system: 'erp', rows: changed });
  t.same(fifth.body.summary, { created: 0, updated: 0, unchanged: 3, failed: 0 }, fifth.raw);
  t.same((await auditFor(app, ids[1])).map((r) => r.action), ['created', 'updated']);
});

t.test('a marked row sent by a caller who cannot see the record is refused as before, revealing nothing', async (t) => {
  const k = tag();
  const row = { externalId: `MH-${k}`, kind: 'ORGANIZATION', name: `Marked hidden ${k}`, region: 'East' };
  const owner = erp;
  const first = await app.rest(owner, 'POST', '/v1/bulk/customers', { system: 'erp', rows: [row] });
  t.equal(first.body.results[0]?.status, 'CREATED', first.raw);
  const id = first.body.results[0].id;
  const marked = await app.rest(owner, 'POST', '/v1/bulk/customers', { system: 'erp', rows: [row] });
  t.equal(marked.body.results[0].status, 'UNCHANGED', marked.raw);
  t.equal((await app.rest(c.users.partnerASales, 'GET', `/v1/customers/${id}`)).status, 404, 'out of the partner\'s sight');
  const res = await app.rest(c.users.partnerASales, 'POST', '/v1/bulk/customers', { system: 'erp', rows: [row] });
  t.equal(res.status, 200, res.raw);
  t.match(res.body.results[0], { status: 'FAILED', id: null, error: { code: 'EXTERNAL_ID_TAKEN' } });
  t.notOk(res.raw.includes(id), 'the hidden record is never named');
  t.same((await auditFor(app, id)).map((r) => r.action), ['created']);
});
