import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp } from '../../helpers/app.js';
import { count } from '../../helpers/records.js';
import { inHours, inMs, waitFor } from '../../helpers/time.js';
import { handoffWorld, pooledLead } from './support.js';

// The queue runs here (it is off in other tests), polling often so the deadline is met quickly.
const app = await buildTestApp({ JOBS_ENABLED: 'true', JOBS_POLL_SECONDS: '0.5' });
t.teardown(() => app.close());
const w = await handoffWorld(app);

t.test('a missed deadline escalates once, to the receiving unit’s manager', async (t) => {
  const lead = await pooledLead(app, w.users.marketer, w.pool);
  const res = await app.rest(w.users.marketer, 'POST', `/v1/customers/${lead.id}/handoffs`, { toUserId: w.users.seller.id, dueAt: inMs(1500) });
  t.equal(res.status, 201, res.raw);
  const id = res.body.id as string;
  const jobs = await count(app, sql`SELECT count(*) AS n FROM pgboss.job WHERE name = 'handoff-escalation' AND singleton_key = ${id}`);
  t.equal(jobs, 1, 'one job queued with the handoff, keyed by it');

  const escalated = await waitFor(async () => (await app.rest(w.users.marketer, 'GET', `/v1/handoffs/${id}`)).body.status === 'ESCALATED', 15_000);
  t.ok(escalated, 'the handoff escalated after its deadline');
  const h = (await app.rest(w.users.marketer, 'GET', `/v1/handoffs/${id}`)).body;
  t.equal(h.escalatedToId, w.users.branchManager.id, "escalated to the branch's manager");
  t.ok(Date.parse(h.escalatedAt) >= Date.parse(h.dueAt), 'not before the deadline');

  const actions = await app.db.execute(sql`SELECT kind, title, value, urgency, assignee_id, owner_unit_id, customer_id FROM actions WHERE handoff_id = ${id}`);
  const rows = (actions as unknown as { rows: Record<string, unknown>[] }).rows;
  t.equal(rows.length, 1, 'one action');
  t.match(rows[0], { kind: 'ESCALATION', title: `Handoff overdue: ${lead.name}`, value: 4, urgency: 5, assignee_id: w.users.branchManager.id, owner_unit_id: w.branch.id, customer_id: lead.id });
  t.equal(await count(app, sql`SELECT count(*) AS n FROM events WHERE type = 'handoff.escalated' AND entity_id = ${id}`), 1, 'one escalation event');

  // The sweep finds nothing more to do.
  await app.app.services.lifecycle.escalateOverdue();
  t.equal(await count(app, sql`SELECT count(*) AS n FROM actions WHERE handoff_id = ${id}`), 1, 'still one action after a sweep');
  t.equal((await app.rest(w.users.seller, 'POST', `/v1/handoffs/${id}/accept`)).status, 409, 'an escalated handoff can no longer be accepted');
  t.equal((await app.rest(w.users.seller, 'GET', `/v1/customers/${lead.id}`)).status, 404, 'and the receiver no longer reads the customer');

  // The manager sees the action on its agenda and may open the lead it is about (a read share), not change it.
  const agenda = await app.rest(w.users.branchManager, 'GET', '/v1/agenda');
  const item = agenda.body.data.find((a: { kind: string; customerId: string }) => a.kind === 'ESCALATION' && a.customerId === lead.id);
  t.ok(item, "the escalation is on the manager's agenda");
  t.equal(item?.customerName, lead.name, 'with the name of the customer');
  t.equal((await app.rest(w.users.branchManager, 'GET', `/v1/customers/${lead.id}`)).status, 200, 'the manager reads the lead');
  t.equal((await app.rest(w.users.branchManager, 'PATCH', `/v1/customers/${lead.id}`, { industry: 'Retail' })).status, 403, 'but may not change it');
  t.equal(await count(app, sql`SELECT count(*) AS n FROM shares WHERE resource_id = ${lead.id} AND to_user_id = ${w.users.branchManager.id}`), 1, 'one share');
});

t.test('a pending handoff before its deadline is left alone', async (t) => {
  const lead = await pooledLead(app, w.users.marketer, w.pool);
  const res = await app.rest(w.users.marketer, 'POST', `/v1/customers/${lead.id}/handoffs`, { toUnitId: w.branch.id, dueAt: inHours(48) });
  t.equal(res.status, 201);
  await app.app.services.lifecycle.escalateOverdue();
  t.equal((await app.rest(w.users.marketer, 'GET', `/v1/handoffs/${res.body.id}`)).body.status, 'PENDING');
});
