// Fixtures for the delegation, transfer and ownership-history tests (not a test file itself).
// Opportunities, actions and history rows are written straight into their tables: these tests
// are about who owns them, not about how they are made.
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import type { TestApp, User } from '../../helpers/app.js';

const stages = new WeakMap<TestApp, { pipelineId: string; stageId: string }>();

export async function stage(app: TestApp): Promise<{ pipelineId: string; stageId: string }> {
  const known = stages.get(app);
  if (known) return known;
  const pipelineId = randomUUID();
  const stageId = randomUUID();
  await app.db.execute(sql`INSERT INTO pipelines (id, name, is_default) VALUES (${pipelineId}, ${`test pipeline ${pipelineId.slice(0, 8)}`}, false)`);
  await app.db.execute(sql`INSERT INTO pipeline_stages (id, pipeline_id, key, name, position, probability) VALUES (${stageId}, ${pipelineId}, 'QUALIFICATION', 'Qualification', 1, 10)`);
  const s = { pipelineId, stageId };
  stages.set(app, s);
  return s;
}

export async function opportunity(app: TestApp, owner: User | null, unitId: string, customerId: string, status = 'OPEN'): Promise<string> {
  const s = await stage(app);
  const id = randomUUID();
  await app.db.execute(sql`INSERT INTO opportunities (id, customer_id, pipeline_id, stage_id, name, status, owner_user_id, owner_unit_id)
    VALUES (${id}, ${customerId}, ${s.pipelineId}, ${s.stageId}, ${`opp ${id.slice(0, 8)}`}, ${status}, ${owner?.id ?? null}, ${unitId})`);
  return id;
}

export async function action(app: TestApp, assignee: User, customerId: string, opts: { status?: string; opportunityId?: string } = {}): Promise<string> {
  const id = randomUUID();
  await app.db.execute(sql`INSERT INTO actions (id, customer_id, opportunity_id, title, status, assignee_id, owner_unit_id)
    VALUES (${id}, ${customerId}, ${opts.opportunityId ?? null}, ${`action ${id.slice(0, 8)}`}, ${opts.status ?? 'OPEN'}, ${assignee.id}, ${assignee.unitId})`);
  return id;
}

export async function delegation(app: TestApp, from: User, to: User, startsAt: Date, endsAt: Date, revokedAt: Date | null = null): Promise<string> {
  const id = randomUUID();
  await app.db.execute(sql`INSERT INTO delegations (id, from_user_id, to_user_id, starts_at, ends_at, revoked_at, created_by)
    VALUES (${id}, ${from.id}, ${to.id}, ${startsAt.toISOString()}, ${endsAt.toISOString()}, ${revokedAt?.toISOString() ?? null}, ${from.id})`);
  return id;
}

export async function row(app: TestApp, table: string, id: string): Promise<Record<string, any>> {
  const [r] = await queryRows<Record<string, any>>(app.db, sql`SELECT * FROM ${sql.identifier(table)} WHERE id = ${id}::uuid`);
  if (!r) throw new Error(`no ${table} row ${id}`);
  return r;
}

export type OwnershipRow = {
  entity_type: string;
  entity_id: string;
  customer_id: string;
  from_user_id: string | null;
  from_unit_id: string | null;
  to_user_id: string | null;
  to_unit_id: string | null;
  cause: string;
  transfer_id: string | null;
  actor_id: string;
  on_behalf_of_id: string | null;
};

export async function ownershipOf(app: TestApp, entityId: string): Promise<OwnershipRow[]> {
  return queryRows<OwnershipRow>(app.db, sql`SELECT * FROM ownership_changes WHERE entity_id = ${entityId}::uuid ORDER BY at, id`);
}

export async function eventsOf(app: TestApp, entityId: string, type?: string): Promise<{ type: string; owner_user_id: string | null; owner_unit_id: string | null; actor_id: string; payload: any }[]> {
  return queryRows(app.db, sql`SELECT type, owner_user_id, owner_unit_id, actor_id, payload FROM events WHERE entity_id = ${entityId}::uuid ${type ? sql`AND type = ${type}` : sql``} ORDER BY id`);
}

export async function auditOf(app: TestApp, entityId: string): Promise<{ action: string; actor_id: string; on_behalf_of_id: string | null; after: any }[]> {
  return queryRows(app.db, sql`SELECT action, actor_id, on_behalf_of_id, after FROM audit_log WHERE entity_id = ${entityId}::uuid ORDER BY id`);
}

export const hour = 60 * 60 * 1000;
export const day = 24 * hour;
export const inFuture = (ms: number) => new Date(Date.now() + ms).toISOString();

export const DELEGATION_FIELDS = 'id fromUserId toUserId startsAt endsAt revokedAt createdBy createdAt active';
export const TRANSFER_FIELDS = 'id fromUserId toUserId toUnitId counts { customers opportunities actions } actorId at';
