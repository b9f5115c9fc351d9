import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import pg from 'pg';
import t from 'tap';
import { queryRows } from '../../src/db/client.js';
import { buildTestApp, type TestApp } from '../helpers/app.js';

// Two instances of the app, each with its own pool and its own job workers, on one PostgreSQL
// database: every overdue handoff escalates exactly once — one status change, one action, one event.

const url = process.env.DATABASE_URL;
const HANDOFFS = 6;

t.test('handoffs escalate exactly once across instances', { skip: url ? false : 'needs PostgreSQL: set DATABASE_URL (the embedded database is one process)' }, async (t) => {
  const name = `keel_esc_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const target = new URL(url as string);
  target.pathname = `/${name}`;
  const instances: TestApp[] = [];
  t.teardown(async () => {
    await Promise.all(instances.map((a) => a.close()));
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  });

  // Both start together on an empty database: migrations, bootstrap and the queue's own schema race too.
  const started = await Promise.all([0, 1].map(() => buildTestApp({ DATABASE_URL: target.toString(), JOBS_ENABLED: 'true', JOBS_POLL_SECONDS: '0.5' })));
  instances.push(...started);
  const [a, b] = started as [TestApp, TestApp];

  const region = await a.unit('REGION');
  const branch = await a.unit('BRANCH', region);
  const manager = await a.user(branch, ['manager']);
  const marketer = await a.user(region, ['marketing']);
  const seller = await a.user(branch, ['sales']);

  const ids: string[] = [];
  for (let i = 0; i < HANDOFFS; i++) {
    const via = i % 2 === 0 ? a : b;
    const lead = await a.customer(marketer, { name: `Escalating lead ${i} ${name}`, ownerUnitId: region.id, lifecycleStage: 'PROSPECT' });
    const dueAt = new Date(Date.now() + 1500 + (i % 3) * 300).toISOString();
    const res = await via.rest(marketer, 'POST', `/v1/customers/${lead.id}/handoffs`, i % 3 === 0 ? { toUnitId: branch.id, dueAt } : { toUserId: seller.id, dueAt });
    t.equal(res.status, 201, `handoff ${i} made through instance ${i % 2 === 0 ? "A" : "B"}`);
    ids.push(res.body.id);
  }

  // Past the deadlines, the sweep also runs on both instances at once, racing the workers.
  await new Promise((r) => setTimeout(r, 2600));
  await Promise.all([a.app.services.lifecycle.escalateOverdue(), b.app.services.lifecycle.escalateOverdue()]);

  const until = Date.now() + 20_000;
  let statuses: { status: string }[] = [];
  while (Date.now() < until) {
    statuses = await queryRows<{ status: string }>(a.db, sql`SELECT status FROM handoffs WHERE id = ANY(${sql.param(ids)}::uuid[])`);
    if (statuses.every((s) => s.status === 'ESCALATED')) break;
    await new Promise((r) => setTimeout(r, 250));
  }
  t.same(statuses.map((s) => s.status), Array(HANDOFFS).fill('ESCALATED'), 'every handoff escalated');
  // Let any straggling job run before counting.
  await new Promise((r) => setTimeout(r, 1500));

  const rows = await queryRows<{ id: string; escalated_to_id: string; actions: number; events: number; audits: number }>(
    a.db,
    sql`SELECT h.id, h.escalated_to_id,
          (SELECT count(*)::int FROM actions x WHERE x.handoff_id = h.id AND x.kind = 'ESCALATION') AS actions,
          (SELECT count(*)::int FROM events e WHERE e.entity_id = h.id AND e.type = 'handoff.escalated') AS events,
          (SELECT count(*)::int FROM audit_log l WHERE l.entity_id = h.id AND l.action = 'escalated') AS audits
        FROM handoffs h WHERE h.id = ANY(${sql.param(ids)}::uuid[]) ORDER BY h.id`,
  );
  t.equal(rows.length, HANDOFFS);
  for (const r of rows) {
    t.same({ escalatedTo: r.escalated_to_id, actions: r.actions, events: r.events, audits: r.audits }, { escalatedTo: manager.id, actions: 1, events: 1, audits: 1 }, `handoff ${r.id} escalated once`);
  }
  const [jobs] = await queryRows<{ n: number }>(a.db, sql`SELECT count(*)::int AS n FROM pgboss.job WHERE name = 'handoff-escalation' AND singleton_key = ANY(${sql.param(ids)}::text[])`);
  t.equal(jobs?.n, HANDOFFS, 'one job per handoff, whichever instance queued it');
});
