/**
 * The records tests need, made the way a client makes them: through the REST API as a user who may
 * make them, so every fixture has passed the same validation, rules, audit and outbox as real data
 * (stage gates met, lifecycle moves recorded, delegations within a partner). A refused fixture fails
 * the test at once, naming the answer. Units, users and customers come from TestApp (./app.ts).
 *
 * Where a test needs a state the rules cannot make (an old timestamp, an ended delegation), the
 * record is made through the API first and only that column is set afterwards, with the reason.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { ActionDto } from '../../src/modules/actions/actions.schemas.js';
import type { InteractionDto } from '../../src/modules/contact-history/contact-history.schemas.js';
import type { ContactDto } from '../../src/modules/customers/customers.schemas.js';
import type { HandoffDto, TransitionDto as LifecycleTransitionDto } from '../../src/modules/lifecycle/lifecycle.schemas.js';
import { DEFAULT_STAGES, type Gate, type QualificationFact } from '../../src/modules/opportunities/gates.js';
import type { OpportunityDto, PipelineDto, StageDto, TransitionDto as StageTransitionDto } from '../../src/modules/opportunities/opportunities.schemas.js';
import type { DelegationDto, RoleDto, ShareDto } from '../../src/modules/org/org.schemas.js';
import type { TestApp, User } from './app.js';
import { day, hour, inHours } from './time.js';

/** A short token that makes names, phones and emails unique across files sharing one database. */
export const tag = (): string => randomUUID().replaceAll('-', '').slice(0, 10);

/** Random digits: part of a phone number no other test uses. */
export const digits = (n = 8): string => Array.from({ length: n }, () => String(randomInt(10))).join('');

type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE';

async function call<T>(app: TestApp, who: User, method: Method, url: string, body?: unknown, ok: number[] = [200, 201]): Promise<T> {
  const res = await app.rest(who, method, url, body);
  if (!ok.includes(res.status)) throw new Error(`fixture refused: ${method} ${url} as ${who.email} answered ${res.status} ${res.raw}`);
  return res.body as T;
}

const iso = (v: Date | string): string => (v instanceof Date ? v.toISOString() : v);

// ---- org -----------------------------------------------------------------------------------

/** A custom role made by the admin; its name is unique to this test. */
export async function customRole(app: TestApp, scope: string, permissions: string[], hiddenFields: string[] = []): Promise<RoleDto> {
  return call<RoleDto>(app, await app.admin(), 'POST', '/v1/roles', { name: `r_${tag()}`, scope, permissions, hiddenFields }, [201]);
}

export type DelegationFixture = { startsAt?: Date; endsAt?: Date; revoked?: boolean; by?: User };

/**
 * `from`'s work delegated to `to`, made by `by` (the delegator itself unless given), running from
 * now for a day unless a window is given; revoked afterwards when asked.
 */
export async function delegation(app: TestApp, from: User, to: User, opts: DelegationFixture = {}): Promise<DelegationDto> {
  const by = opts.by ?? from;
  const endsAt = opts.endsAt ?? new Date(Date.now() + day);
  const ended = endsAt.getTime() <= Date.now();
  const window = ended ? { endsAt: new Date(Date.now() + hour).toISOString() } : { ...(opts.startsAt ? { startsAt: opts.startsAt.toISOString() } : {}), endsAt: endsAt.toISOString() };
  const made = await call<DelegationDto>(app, by, 'POST', '/v1/delegations', { ...(by.id === from.id ? {} : { fromUserId: from.id }), toUserId: to.id, ...window }, [201]);
  if (ended) {
    // The API refuses a window that has ended; an ended delegation is one made back then.
    const startsAt = opts.startsAt ?? new Date(endsAt.getTime() - hour);
    await app.db.execute(sql`UPDATE delegations SET starts_at = ${startsAt.toISOString()}::timestamptz, ends_at = ${endsAt.toISOString()}::timestamptz WHERE id = ${made.id}::uuid`);
  }
  if (opts.revoked) await call(app, by, 'DELETE', `/v1/delegations/${made.id}`, undefined, [204]);
  return call<DelegationDto>(app, by, 'GET', `/v1/delegations/${made.id}`);
}

/** A read share of a customer with a unit or a user, made by `by` (the admin unless given). */
export async function share(app: TestApp, customerId: string, to: { toUserId: string } | { toUnitId: string }, by?: User): Promise<ShareDto> {
  return call<ShareDto>(app, by ?? (await app.admin()), 'POST', '/v1/shares', { resourceType: 'customer', resourceId: customerId, ...to }, [201]);
}

// ---- customers -----------------------------------------------------------------------------

/** A contact person at the customer, added by `who`. */
export async function contact(app: TestApp, who: User, customerId: string, input: Record<string, unknown> = {}): Promise<ContactDto> {
  return call<ContactDto>(app, who, 'POST', `/v1/customers/${customerId}/contacts`, { name: `Contact ${tag()}`, ...input }, [201]);
}

/** A touch point on the customer recorded by `who` (an outbound call now, unless told otherwise). */
export async function interaction(app: TestApp, who: User, customerId: string, input: Record<string, unknown> & { occurredAt?: Date | string } = {}): Promise<InteractionDto> {
  const { occurredAt, ...rest } = input;
  const body = { channel: 'PHONE', direction: 'OUTBOUND', ...rest, ...(occurredAt !== undefined ? { occurredAt: iso(occurredAt) } : {}) };
  return call<InteractionDto>(app, who, 'POST', `/v1/customers/${customerId}/interactions`, body, [201]);
}

// ---- lifecycle -----------------------------------------------------------------------------

/** A manual lifecycle move of the customer by `who` (a move back needs a reason). */
export async function lifecycleMove(app: TestApp, who: User, customerId: string, to: string, reason?: string): Promise<LifecycleTransitionDto> {
  return call<LifecycleTransitionDto>(app, who, 'POST', `/v1/customers/${customerId}/lifecycle-transitions`, { to, ...(reason ? { reason } : {}) }, [201]);
}

/** A lead handed off by `who` to a unit or a user, due in two days unless told otherwise. */
export async function handoff(app: TestApp, who: User, customerId: string, to: { toUserId: string } | { toUnitId: string }, opts: { dueAt?: string; note?: string } = {}): Promise<HandoffDto> {
  return call<HandoffDto>(app, who, 'POST', `/v1/customers/${customerId}/handoffs`, { ...to, dueAt: opts.dueAt ?? inHours(48), ...(opts.note ? { note: opts.note } : {}) }, [201]);
}

/**
 * A pending handoff escalated by the deadline job's own function. The API takes only future
 * deadlines and waiting for one is slow, so its deadline is moved into the past first.
 */
export async function escalate(app: TestApp, handoffId: string): Promise<void> {
  await app.db.execute(sql`UPDATE handoffs SET due_at = now() - interval '1 minute' WHERE id = ${handoffId}::uuid`);
  if (!(await app.app.services.lifecycle.escalate(handoffId))) throw new Error(`handoff ${handoffId} did not escalate (not pending?)`);
}

// ---- opportunities and actions ---------------------------------------------------------------

/** The default pipeline, as `who` reads it. */
export async function defaultPipeline(app: TestApp, who: User): Promise<PipelineDto> {
  const list = await call<{ data: PipelineDto[] }>(app, who, 'GET', '/v1/pipelines');
  const p = list.data.find((x) => x.isDefault);
  if (!p) throw new Error('no default pipeline');
  return p;
}

const testPipelines = new WeakMap<TestApp, Promise<PipelineDto>>();

/**
 * A pipeline of this app's own, made by the admin with the default stages and gates: its stages
 * do not change while other files (sharing one database) edit or replace the default one.
 */
export function testPipeline(app: TestApp): Promise<PipelineDto> {
  let p = testPipelines.get(app);
  if (!p) {
    p = (async () => {
      const stages = DEFAULT_STAGES.map(({ key, name, probability, terminal, outcome, gates }) => ({ key, name, probability, terminal, outcome, gates }));
      return call<PipelineDto>(app, await app.admin(), 'POST', '/v1/pipelines', { name: `Test pipeline ${tag()}`, stages }, [201]);
    })();
    testPipelines.set(app, p);
  }
  return p;
}

export const stageOf = (p: PipelineDto, key: string): StageDto => {
  const s = p.stages.find((x) => x.key === key);
  if (!s) throw new Error(`no stage ${key} in pipeline ${p.name}`);
  return s;
};

// What "known" looks like for each qualification fact (gates.ts).
const KNOWN: Record<QualificationFact, unknown> = {
  needDefined: true,
  decisionMakerKnown: true,
  budgetKnown: true,
  timingKnown: true,
  purchaseMotive: 'Replaces worn equipment',
  paymentCapability: 'HIGH',
  judgement: 'Ready, judged by the team lead',
};

/** Records what the gates ask for, as a salesperson would: the facts, an amount, the key actions done. */
async function meetGates(app: TestApp, who: User, o: OpportunityDto, gates: Gate[]): Promise<void> {
  const facts = new Set(gates.flatMap((g) => (g.facts?.length ? g.facts : (g.orFacts ?? []))));
  const patch: Record<string, unknown> = {};
  if (facts.size) patch.qualification = Object.fromEntries([...facts].map((f) => [f, KNOWN[f]]));
  if (gates.some((g) => g.amount) && o.amount === null) Object.assign(patch, { amount: '10000.00', currency: o.currency ?? 'EUR' });
  if (Object.keys(patch).length) await call(app, who, 'PATCH', `/v1/opportunities/${o.id}`, patch);
  for (const key of new Set(gates.flatMap((g) => g.actions ?? []))) await action(app, who, { opportunityId: o.id }, { title: key, key, status: 'DONE' });
}

/** Moves the opportunity to `stageKey` through its transitions endpoint, meeting the gates on the way first. */
export async function moveOpportunity(app: TestApp, who: User, o: OpportunityDto, stageKey: string, extra: Record<string, unknown> = {}): Promise<OpportunityDto> {
  const pipeline = await call<PipelineDto>(app, await app.admin(), 'GET', `/v1/pipelines/${o.pipelineId}`);
  const from = stageOf(pipeline, o.stageKey);
  const to = stageOf(pipeline, stageKey);
  const forward = to.order > from.order && to.outcome !== 'LOST';
  // Skipping a stage does not skip its gate.
  if (forward) await meetGates(app, who, o, pipeline.stages.filter((s) => s.id === to.id || (!s.terminal && s.order > from.order && s.order < to.order)).map((s) => s.gates as Gate));
  const move = {
    toStageKey: stageKey,
    ...(to.outcome === 'LOST' ? { lostReason: 'No budget after all' } : {}),
    ...(to.order < from.order || from.terminal ? { reason: 'Reopened for the test' } : {}),
    ...extra,
  };
  await call<StageTransitionDto>(app, who, 'POST', `/v1/opportunities/${o.id}/transitions`, move, [200, 201]);
  return call<OpportunityDto>(app, who, 'GET', `/v1/opportunities/${o.id}`);
}

export type OpportunityFixture = { stage?: string } & Record<string, unknown>;

/**
 * An opportunity on the customer made by `who` (the default pipeline unless `pipelineId` says
 * otherwise; other body fields as POST /v1/opportunities takes them), moved on to `stage` when given.
 */
export async function opportunity(app: TestApp, who: User, customerId: string, { stage, ...body }: OpportunityFixture = {}): Promise<OpportunityDto> {
  const o = await call<OpportunityDto>(app, who, 'POST', '/v1/opportunities', { customerId, name: `Deal ${tag()}`, ...body }, [201]);
  return stage && stage !== o.stageKey ? moveOpportunity(app, who, o, stage) : o;
}

export type ActionFixture = {
  title?: string;
  key?: string;
  notes?: string;
  dueAt?: Date | string | null;
  value?: number;
  urgency?: number;
  assignee?: User;
  status?: 'OPEN' | 'DONE' | 'CANCELLED';
};

/** A key action planned by `who` on a customer or an opportunity (assigned to `who` unless told); completed or cancelled afterwards when asked. */
export async function action(app: TestApp, who: User, on: { customerId: string } | { opportunityId: string }, input: ActionFixture = {}): Promise<ActionDto> {
  const url = 'customerId' in on ? `/v1/customers/${on.customerId}/actions` : `/v1/opportunities/${on.opportunityId}/actions`;
  const body = {
    title: input.title ?? `Action ${tag()}`,
    ...(input.key !== undefined ? { key: input.key } : {}),
    ...(input.notes !== undefined ? { notes: input.notes } : {}),
    ...(input.dueAt !== undefined ? { dueAt: input.dueAt === null ? null : iso(input.dueAt) } : {}),
    ...(input.value !== undefined ? { value: input.value } : {}),
    ...(input.urgency !== undefined ? { urgency: input.urgency } : {}),
    ...(input.assignee && input.assignee.id !== who.id ? { assigneeId: input.assignee.id } : {}),
  };
  const a = await call<ActionDto>(app, who, 'POST', url, body, [201]);
  return input.status && input.status !== 'OPEN' ? call<ActionDto>(app, who, 'PATCH', `/v1/actions/${a.id}`, { status: input.status }) : a;
}
