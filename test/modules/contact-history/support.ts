// Fixtures for the contact history tests (not a test file itself).
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import { contacts, delegations, opportunities, pipelines, pipelineStages } from '../../../src/db/schema/index.js';
import type { TestApp, User } from '../../helpers/app.js';

export const tag = (): string => randomUUID().replaceAll('-', '').slice(0, 10);

export const INTERACTION_FIELDS = 'id customerId contactId opportunityId channel direction occurredAt subject notes outcome actorId onBehalfOfId version createdAt updatedAt';

/** A pipeline of this test's own (never the default) with the default stage keys. */
export async function pipeline(app: TestApp) {
  const [pl] = await app.db.insert(pipelines).values({ name: `Pipeline ${tag()}` }).returning();
  if (!pl) throw new Error('pipeline insert failed');
  const keys = ['QUALIFICATION', 'ACCEPTANCE', 'NEGOTIATION', 'WON', 'LOST'];
  const stages = await app.db
    .insert(pipelineStages)
    .values(keys.map((key, i) => ({ pipelineId: pl.id, key, name: key.toLowerCase(), position: i, probability: [10, 40, 70, 100, 0][i] ?? 0, terminal: i >= 3 })))
    .returning();
  const stage = (key: string) => {
    const s = stages.find((x) => x.key === key);
    if (!s) throw new Error(`no stage ${key}`);
    return s;
  };
  return { id: pl.id, stage };
}

/** An opportunity inserted directly (the opportunities module is another one's). */
export async function opportunityOf(app: TestApp, pl: Awaited<ReturnType<typeof pipeline>>, customerId: string, owner: User, name = `Deal ${tag()}`) {
  const [o] = await app.db
    .insert(opportunities)
    .values({ customerId, pipelineId: pl.id, stageId: pl.stage('QUALIFICATION').id, name, ownerUserId: owner.id, ownerUnitId: owner.unitId, createdBy: owner.id })
    .returning();
  if (!o) throw new Error('opportunity insert failed');
  return o;
}

export async function contactRow(app: TestApp, customerId: string, name = `Contact ${tag()}`): Promise<string> {
  const [c] = await app.db.insert(contacts).values({ customerId, name }).returning({ id: contacts.id });
  if (!c) throw new Error('contact insert failed');
  return c.id;
}

export async function delegate(app: TestApp, from: User, to: User): Promise<void> {
  const hour = 3600_000;
  await app.db.insert(delegations).values({ fromUserId: from.id, toUserId: to.id, startsAt: new Date(Date.now() - hour), endsAt: new Date(Date.now() + 24 * hour), createdBy: from.id });
}

export async function count(app: TestApp, table: 'interactions' | 'interaction_revisions' | 'audit_log', where = sql`TRUE`): Promise<number> {
  const [r] = await queryRows<{ n: string | number }>(app.db, sql`SELECT count(*) AS n FROM ${sql.identifier(table)} WHERE ${where}`);
  return Number(r?.n ?? 0);
}

export const errorPaths = (errors: { path: string }[] | undefined): string[] => (errors ?? []).map((e) => e.path);
