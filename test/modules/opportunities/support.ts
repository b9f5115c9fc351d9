// Helpers of the opportunity tests (not a test file itself); shared factories and readers live in
// test/helpers.
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import type { TestApp } from '../../helpers/app.js';
import { count } from '../../helpers/records.js';

export async function transitionRows(app: TestApp, opportunityId: string): Promise<Record<string, any>[]> {
  return queryRows(app.db, sql`SELECT * FROM stage_transitions WHERE opportunity_id = ${opportunityId}::uuid ORDER BY at, id`);
}

export const opportunitiesNamed = (app: TestApp, name: string): Promise<number> => count(app, sql`SELECT count(*) AS n FROM opportunities WHERE name = ${name}`);

export const OPPORTUNITY_FIELDS = `id customerId pipelineId stageId stageKey name amount currency expectedCloseDate status
  qualification { needDefined decisionMakerKnown budgetKnown timingKnown purchaseMotive paymentCapability judgement }
  lostReason competitor ownerUserId ownerUnitId stageEnteredAt closedAt version createdAt updatedAt`;

export const TRANSITION_FIELDS = 'id opportunityId customerId fromStageId toStageId reason lostReason competitor actorId onBehalfOfId at secondsInFromStage';
