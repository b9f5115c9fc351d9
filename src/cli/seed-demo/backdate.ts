// The seed's only SQL. Every record is created through the services, which stamp "now"; a demo
// company needs months of history, so afterwards — and only here — the dates of what the services
// wrote are set back to the story's: lifecycle and stage transitions, opportunities' opening and
// closing, and when key actions were done. Nothing else is touched, and no row is created here.
import { sql } from 'drizzle-orm';
import { type Db, queryRows } from '../../db/client.js';

export type Backdating = {
  // Per customer, the dates of its lifecycle moves in the order they were made.
  lifecycle: { customerId: string; times: Date[] }[];
  // Per opportunity: times[0] when it was opened, times[k] its k-th stage transition.
  opportunities: { id: string; times: Date[]; closed: boolean }[];
  completions: { id: string; at: Date }[];
};

export const newBackdating = (): Backdating => ({ lifecycle: [], opportunities: [], completions: [] });

const iso = (d: Date) => d.toISOString();
const param = (xs: unknown[]) => sql.param(xs);

/** The bootstrap admin (ADMIN_EMAIL) when it still is one, else any active admin: the seed acts as it. */
export async function findAdminId(db: Db, adminEmail: string): Promise<string | null> {
  const [row] = await queryRows<{ id: string }>(
    db,
    sql`SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
        WHERE r.name = 'admin' AND u.active ORDER BY (lower(u.email) = lower(${adminEmail})) DESC, u.created_at LIMIT 1`,
  );
  return row?.id ?? null;
}

/**
 * Sets the story's dates on the rows the services wrote. The k-th row of a customer's (an
 * opportunity's) transitions in creation order takes the k-th date, sorted, so the latest
 * transition stays the one that set the current stage.
 */
export async function backdate(db: Db, b: Backdating): Promise<void> {
  const lc = b.lifecycle.flatMap((c) => [...c.times].sort((x, y) => x.getTime() - y.getTime()).map((at, k) => ({ id: c.customerId, k: k + 1, at: iso(at) })));
  if (lc.length) {
    await db.execute(sql`
      WITH plan AS (SELECT * FROM unnest(${param(lc.map((r) => r.id))}::uuid[], ${param(lc.map((r) => r.k))}::int[], ${param(lc.map((r) => r.at))}::timestamptz[]) AS t(customer_id, k, at)),
           made AS (SELECT id, customer_id, row_number() OVER (PARTITION BY customer_id ORDER BY at, id)::int AS k
                    FROM lifecycle_transitions WHERE customer_id IN (SELECT customer_id FROM plan))
      UPDATE lifecycle_transitions lt SET at = plan.at FROM made JOIN plan USING (customer_id, k) WHERE lt.id = made.id`);
  }

  const opps = b.opportunities.map((o) => ({ ...o, times: [...o.times].sort((x, y) => x.getTime() - y.getTime()) }));
  if (!opps.length) return;
  const first = (o: (typeof opps)[number]) => o.times[0] as Date;
  const latest = (o: (typeof opps)[number]) => o.times[o.times.length - 1] as Date;
  await db.execute(sql`
    UPDATE opportunities o SET created_at = plan.opened, stage_entered_at = plan.entered, closed_at = CASE WHEN plan.closed THEN plan.entered END
    FROM unnest(${param(opps.map((o) => o.id))}::uuid[], ${param(opps.map((o) => iso(first(o))))}::timestamptz[], ${param(opps.map((o) => iso(latest(o))))}::timestamptz[], ${param(opps.map((o) => o.closed))}::boolean[])
      AS plan(id, opened, entered, closed)
    WHERE o.id = plan.id`);
  const st = opps.flatMap((o) =>
    o.times.slice(1).map((at, k) => ({ id: o.id, k: k + 1, at: iso(at), seconds: Math.round((at.getTime() - (o.times[k] as Date).getTime()) / 1000) })),
  );
  if (st.length) {
    await db.execute(sql`
      WITH plan AS (SELECT * FROM unnest(${param(st.map((r) => r.id))}::uuid[], ${param(st.map((r) => r.k))}::int[], ${param(st.map((r) => r.at))}::timestamptz[], ${param(st.map((r) => r.seconds))}::int[])
                    AS t(opportunity_id, k, at, seconds)),
           made AS (SELECT id, opportunity_id, row_number() OVER (PARTITION BY opportunity_id ORDER BY at, id)::int AS k
                    FROM stage_transitions WHERE opportunity_id IN (SELECT opportunity_id FROM plan))
      UPDATE stage_transitions s SET at = plan.at, seconds_in_from_stage = plan.seconds FROM made JOIN plan USING (opportunity_id, k) WHERE s.id = made.id`);
  }
  if (b.completions.length) {
    await db.execute(sql`
      UPDATE actions a SET completed_at = plan.at
      FROM unnest(${param(b.completions.map((c) => c.id))}::uuid[], ${param(b.completions.map((c) => iso(c.at)))}::timestamptz[]) AS plan(id, at)
      WHERE a.id = plan.id`);
  }
}
