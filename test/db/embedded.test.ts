import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { queryRows } from '../../src/db/client.js';
import { TEST_SECRET } from '../helpers/app.js';

// The embedded database (no DATABASE_URL) keeps its data in DATA_DIR across restarts.

t.test('a customer written to the embedded database is there after a restart', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-embedded-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // Built by hand, not with buildTestApp: that one follows DATABASE_URL when it is set.
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', DATA_DIR: dir });
  t.equal(config.databaseUrl, undefined);

  const first = await buildApp(config, { logger: false });
  t.equal(first.database.kind, 'embedded');
  const [admin] = await queryRows<{ id: string }>(first.database.db, sql`SELECT id FROM users WHERE lower(email) = 'admin@example.com'`);
  t.ok(admin, 'bootstrap made the admin');
  const token = first.jwt.sign({ sub: admin?.id });
  const auth = { authorization: `Bearer ${token}` };
  const created = await first.inject({ method: 'POST', url: '/v1/customers', headers: auth, payload: { name: 'Persistent Pumps GmbH', kind: 'ORGANIZATION', phones: ['+49 40 555 0100'] } });
  t.equal(created.statusCode, 201, created.statusCode === 201 ? 'created' : created.body);
  const id = created.json().id as string;
  await first.close();

  const second = await buildApp(config, { logger: false });
  t.teardown(() => second.close());
  const read = await second.inject({ method: 'GET', url: `/v1/customers/${id}`, headers: auth });
  t.equal(read.statusCode, 200, read.statusCode === 200 ? 'read after the restart' : read.body);
  t.equal(read.json().name, 'Persistent Pumps GmbH');
  t.same(read.json().phones, ['+49 40 555 0100']);
  const found = await second.inject({ method: 'GET', url: '/v1/customers?q=555%200100', headers: auth });
  t.same(
    found.json().data.map((c: { id: string }) => c.id),
    [id],
    'the search index came back too',
  );
  // The second start migrated and bootstrapped again without doubling anything.
  const [counts] = await queryRows<{ roots: number; users: number; migrations: number }>(
    second.database.db,
    sql`SELECT (SELECT count(*)::int FROM org_units WHERE parent_id IS NULL) AS roots,
               (SELECT count(*)::int FROM users) AS users,
               (SELECT count(*)::int FROM drizzle.__drizzle_migrations) AS migrations`,
  );
  t.equal(counts?.roots, 1);
  t.equal(counts?.users, 1, 'one user: the admin');
  const journal = (await import('../../migrations/meta/_journal.json', { with: { type: 'json' } })).default as { entries: unknown[] };
  t.equal(counts?.migrations, journal.entries.length, 'each migration recorded once');
});
