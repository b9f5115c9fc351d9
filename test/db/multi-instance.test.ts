import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import t from 'tap';
import { createDatabase, queryRows } from '../../src/db/client.js';
import { migrateAndBootstrap } from '../../src/db/migrate.js';
import { BUILT_IN_ROLES } from '../../src/modules/org/built-in-roles.js';
import journal from '../../migrations/meta/_journal.json' with { type: 'json' };

// Several instances starting at once on an empty PostgreSQL database: the advisory lock lets one
// migrate and bootstrap while the others wait, then find nothing left to do.

const url = process.env.DATABASE_URL;
const INSTANCES = 3;

t.test('instances starting together migrate and bootstrap once', { skip: url ? false : 'needs PostgreSQL: set DATABASE_URL (the embedded database is one process)' }, async (t) => {
  const name = `keel_mi_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  t.teardown(async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });
  const target = new URL(url as string);
  target.pathname = `/${name}`;

  // Separate pools, as separate processes would have.
  const instances = await Promise.all(Array.from({ length: INSTANCES }, () => createDatabase({ url: target.toString(), poolSize: 2 })));
  t.teardown(() => Promise.all(instances.map((d) => d.close())));
  const results = await Promise.allSettled(instances.map((d) => migrateAndBootstrap(d, 'admin@example.com')));
  t.same(
    results.map((r) => (r.status === 'fulfilled' ? 'ok' : String(r.reason))),
    Array(INSTANCES).fill('ok'),
    'every instance started',
  );
  // A later restart changes nothing either.
  await migrateAndBootstrap(instances[0] as (typeof instances)[number], 'admin@example.com');

  const db = (instances[0] as (typeof instances)[number]).db;
  const [counts] = await queryRows<{ roots: number; users: number; admins: number; roles: number; role_names: number }>(
    db,
    sql`SELECT (SELECT count(*)::int FROM org_units WHERE parent_id IS NULL) AS roots,
               (SELECT count(*)::int FROM org_units) AS units,
               (SELECT count(*)::int FROM users) AS users,
               (SELECT count(*)::int FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
                 WHERE r.name = 'admin' AND lower(u.email) = 'admin@example.com') AS admins,
               (SELECT count(*)::int FROM roles) AS roles,
               (SELECT count(DISTINCT name)::int FROM roles) AS role_names`,
  );
  t.equal(counts?.roots, 1, 'one root unit');
  t.equal(counts?.users, 1, 'one user');
  t.equal(counts?.admins, 1, 'and it is the admin');
  t.equal(counts?.roles, BUILT_IN_ROLES.length, 'each built-in role once');
  t.equal(counts?.role_names, BUILT_IN_ROLES.length);
  const applied = await queryRows<{ hash: string; n: number }>(db, sql`SELECT hash, count(*)::int AS n FROM drizzle.__drizzle_migrations GROUP BY hash`);
  t.equal(applied.length, journal.entries.length, 'every migration applied');
  t.ok(
    applied.every((m) => m.n === 1),
    'each migration recorded once',
  );
});
