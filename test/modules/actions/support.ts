// Fixtures for the key action and agenda tests (not a test file itself).
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import { actions, delegations, opportunities, pipelines, pipelineStages } from '../../../src/db/schema/index.js';
import type { TestApp, User } from '../../helpers/app.js';

export const tag = (): string => randomUUID().replaceAll('-', '').slice(0, 10);
export const hour = 3_600_000;

export type TestPipeline = { id: string; stages: Record<string, string> };

/** A pipeline of this test's own (never the default one), with the default stage keys. */
export async function testPipeline(app: TestApp): Promise<TestPipeline> {
  const [p] = await app.db.insert(pipelines).values({ name: `Test pipeline ${tag()}`, isDefault: false }).returning({ id: pipelines.id });
  if (!p) throw new Error('pipeline insert failed');
  const keys = [
    ['QUALIFICATION', 10, null],
    ['ACCEPTANCE', 30, null],
    ['NEGOTIATION', 60, null],
    ['WON', 100, 'WON'],
    ['LOST', 0, 'LOST'],
  ] as const;
  const rows = await app.db
    .insert(pipelineStages)
    .values(keys.map(([key, probability, outcome], i) => ({ pipelineId: p.id, key, name: key, position: i + 1, probability, terminal: outcome !== null, outcome })))
    .returning({ id: pipelineStages.id, key: pipelineStages.key });
  return { id: p.id, stages: Object.fromEntries(rows.map((r) => [r.key, r.id])) };
}

/** An opportunity on `customerId` owned by `owner`, inserted directly. */
export async function opportunity(app: TestApp, pipeline: TestPipeline, customerId: string, owner: User, stageKey = 'QUALIFICATION'): Promise<{ id: string; name: string }> {
  const name = `Deal ${tag()}`;
  const [o] = await app.db
    .insert(opportunities)
    .values({ customerId, pipelineId: pipeline.id, stageId: pipeline.stages[stageKey] ?? '', name, ownerUserId: owner.id, ownerUnitId: owner.unitId, createdBy: owner.id })
    .returning({ id: opportunities.id });
  if (!o) throw new Error('opportunity insert failed');
  return { id: o.id, name };
}

/** An action inserted directly (escalations are made by the handoff deadline job, not through the API). */
export async function insertAction(app: TestApp, v: { customerId: string; assignee: User; title?: string; kind?: 'PLANNED' | 'ESCALATION'; value?: number; urgency?: number; dueAt?: Date | null; opportunityId?: string; status?: string }) {
  const [a] = await app.db
    .insert(actions)
    .values({
      customerId: v.customerId,
      opportunityId: v.opportunityId ?? null,
      title: v.title ?? `Action ${tag()}`,
      kind: v.kind ?? 'PLANNED',
      value: v.value ?? 3,
      urgency: v.urgency ?? 3,
      dueAt: v.dueAt ?? null,
      status: v.status ?? 'OPEN',
      assigneeId: v.assignee.id,
      ownerUnitId: v.assignee.unitId,
    })
    .returning();
  if (!a) throw new Error('action insert failed');
  return a;
}

export async function delegate(app: TestApp, from: User, to: User): Promise<void> {
  await app.db.insert(delegations).values({ fromUserId: from.id, toUserId: to.id, startsAt: new Date(Date.now() - hour), endsAt: new Date(Date.now() + 24 * hour), createdBy: from.id });
}

export async function actionCount(app: TestApp, where: { customerId?: string; opportunityId?: string }): Promise<number> {
  const [r] = await queryRows<{ n: number | string }>(
    app.db,
    where.customerId ? sql`SELECT count(*) AS n FROM actions WHERE customer_id = ${where.customerId}::uuid` : sql`SELECT count(*) AS n FROM actions WHERE opportunity_id = ${where.opportunityId ?? null}::uuid`,
  );
  return Number(r?.n ?? 0);
}

export type AuditRow = { actor_id: string; on_behalf_of_id: string | null; action: string; entity_type: string };
export async function auditFor(app: TestApp, entityId: string): Promise<AuditRow[]> {
  return queryRows<AuditRow>(app.db, sql`SELECT actor_id, on_behalf_of_id, action, entity_type FROM audit_log WHERE entity_id = ${entityId}::uuid ORDER BY id`);
}
export async function eventsFor(app: TestApp, entityId: string): Promise<{ type: string; actor_id: string; on_behalf_of_id: string | null }[]> {
  return queryRows(app.db, sql`SELECT type, actor_id, on_behalf_of_id FROM events WHERE entity_id = ${entityId}::uuid ORDER BY id`);
}
