// Shared helpers for the opportunity tests (not a test file itself).
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import { actions } from '../../../src/db/schema/index.js';
import type { TestApp, User } from '../../helpers/app.js';

export { auditFor, eventsFor, errorPaths, isProblem, tag } from '../customers/support.js';

export type Stage = { id: string; key: string; name: string; order: number; probability: number; terminal: boolean; outcome: string | null; gates: Record<string, unknown> };
export type Pipeline = { id: string; name: string; isDefault: boolean; stages: Stage[]; version: number };

export async function defaultPipeline(app: TestApp, who: User): Promise<Pipeline> {
  const res = await app.rest(who, 'GET', '/v1/pipelines');
  const p = (res.body.data as Pipeline[]).find((x) => x.isDefault);
  if (!p) throw new Error(`no default pipeline: ${res.raw}`);
  return p;
}

export const stageOf = (p: Pipeline, key: string): Stage => {
  const s = p.stages.find((x) => x.key === key);
  if (!s) throw new Error(`no stage ${key}`);
  return s;
};

/** An opportunity created through REST as `who`; fails the caller loudly when refused. */
export async function opportunity(app: TestApp, who: User, customerId: string, body: Record<string, unknown> = {}) {
  const res = await app.rest(who, 'POST', '/v1/opportunities', { customerId, name: `Deal ${Math.random().toString(36).slice(2, 8)}`, ...body });
  if (res.status !== 201) throw new Error(`opportunity refused: ${res.status} ${res.raw}`);
  return res.body as Record<string, any> & { id: string; version: number; stageId: string };
}

/** A key action marked DONE on the opportunity (the actions module writes these in production). */
export async function doneAction(app: TestApp, assignee: User, opp: { id: string; customerId: string; ownerUnitId: string }, key: string): Promise<void> {
  await app.db.insert(actions).values({ opportunityId: opp.id, customerId: opp.customerId, title: key, key, status: 'DONE', assigneeId: assignee.id, ownerUnitId: opp.ownerUnitId, completedAt: new Date() });
}

export async function opportunityRow(app: TestApp, id: string): Promise<Record<string, any> | undefined> {
  const [r] = await queryRows<Record<string, any>>(app.db, sql`SELECT * FROM opportunities WHERE id = ${id}::uuid`);
  return r;
}

export async function transitionRows(app: TestApp, opportunityId: string): Promise<Record<string, any>[]> {
  return queryRows(app.db, sql`SELECT * FROM stage_transitions WHERE opportunity_id = ${opportunityId}::uuid ORDER BY at, id`);
}

export async function opportunitiesNamed(app: TestApp, name: string): Promise<number> {
  const [r] = await queryRows<{ n: number | string }>(app.db, sql`SELECT count(*) AS n FROM opportunities WHERE name = ${name}`);
  return Number(r?.n ?? 0);
}

export const OPPORTUNITY_FIELDS = `id customerId pipelineId stageId stageKey name amount currency expectedCloseDate status
  qualification { needDefined decisionMakerKnown budgetKnown timingKnown purchaseMotive paymentCapability judgement }
  lostReason competitor ownerUserId ownerUnitId stageEnteredAt closedAt version createdAt updatedAt`;

export const TRANSITION_FIELDS = 'id opportunityId customerId fromStageId toStageId reason lostReason competitor actorId onBehalfOfId at secondsInFromStage';
