/**
 * Allocation never assigns outside the rule's target subtree: for random org trees (units, active and
 * inactive salespeople and managers), random rules (unit or user targets, every strategy, capacities)
 * and random leads, each lead created without an owner, and then allocated again explicitly, ends with
 * its owner unit at or below the matched rule's target unit, its owner user (if any) an active
 * salesperson of that subtree (or the rule's own target user), and the rule applied is the one the pure
 * `firstMatch` picks; a lead no rule matches stays with its creator.
 *
 * The seed is fixed so a run is repeatable; ALLOCATION_SEED / ALLOCATION_RUNS override it.
 */
import { sql } from 'drizzle-orm';
import fc from 'fast-check';
import t from 'tap';
import { queryRows } from '../../src/db/client.js';
import { firstMatch, type RuleMatch } from '../../src/modules/allocation/matching.js';
import { buildTestApp, type Unit, type User } from '../helpers/app.js';
import { tag } from '../helpers/factories.js';

const SEED = Number(process.env.ALLOCATION_SEED ?? 20_261_203);
const RUNS = Number(process.env.ALLOCATION_RUNS ?? 6);

const app = await buildTestApp();
t.teardown(() => app.close());
const root = await app.root();
const admin = await app.admin();

const KINDS = ['BRANCH', 'DEPARTMENT', 'PARTNER'] as const;
const ROLES = ['sales', 'partner_sales', 'manager', 'marketing'] as const;
const INDUSTRIES = ['Machinery', 'Retail'] as const;
const SOURCES = ['EVENT', 'WEBSITE'] as const;
const STAGES = ['SUSPECT', 'PROSPECT'] as const;

const worldSpec = fc.record({
  units: fc.array(fc.record({ parent: fc.nat(), kind: fc.constantFrom(...KINDS) }), { minLength: 1, maxLength: 6 }),
  users: fc.array(fc.record({ unit: fc.nat(), role: fc.constantFrom(...ROLES), active: fc.boolean() }), { minLength: 1, maxLength: 8 }),
  rules: fc.array(
    fc.record({
      order: fc.integer({ min: 0, max: 4 }),
      toUser: fc.boolean(),
      target: fc.nat(),
      strategy: fc.constantFrom('FIXED', 'ROUND_ROBIN', 'LEAST_LOADED'),
      capacity: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
      industry: fc.option(fc.constantFrom(...INDUSTRIES), { nil: undefined, freq: 2 }),
      source: fc.option(fc.constantFrom(...SOURCES), { nil: undefined, freq: 2 }),
      lifecycleStage: fc.option(fc.constantFrom(...STAGES), { nil: undefined, freq: 2 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  leads: fc.array(
    fc.record({ industry: fc.constantFrom(...INDUSTRIES), source: fc.constantFrom(...SOURCES), lifecycleStage: fc.constantFrom(...STAGES), otherRegion: fc.integer({ min: 0, max: 4 }).map((n) => n === 0) }),
    { minLength: 2, maxLength: 8 },
  ),
});
type Spec = typeof worldSpec extends fc.Arbitrary<infer S> ? S : never;

const at = <T>(xs: readonly T[], i: number): T => {
  const x = xs[i % xs.length];
  if (x === undefined) throw new Error('empty choice');
  return x;
};

type Rule = { id: string; order: number; active: boolean; match: RuleMatch; targetUnit: Unit; targetUserId: string | null };

async function check(spec: Spec): Promise<number> {
  let allocated = 0;
  // Every rule of a world matches its own region only: rules are global, other files create leads.
  const region = `Prop-${tag()}`;
  const top = await app.unit('REGION', root);
  const units: Unit[] = [top];
  for (const u of spec.units) units.push(await app.unit(u.kind, at(units, u.parent)));
  const people: (User & { active: boolean; role: string; unit: Unit })[] = [];
  for (const u of spec.users) {
    const unit = at(units, u.unit);
    people.push({ ...(await app.user(unit, [u.role], { active: u.active })), active: u.active, role: u.role, unit });
  }
  const activePeople = people.filter((p) => p.active);
  const rules: Rule[] = [];
  for (const r of spec.rules) {
    const user = r.toUser && activePeople.length > 0 ? at(activePeople, r.target) : null;
    const targetUnit = user ? user.unit : at(units, r.target);
    const match: RuleMatch = { region, ...(r.industry ? { industry: r.industry } : {}), ...(r.source ? { source: r.source } : {}), ...(r.lifecycleStage ? { lifecycleStage: r.lifecycleStage } : {}) };
    const body = { name: `prop ${region}`, order: r.order, match, target: user ? { userId: user.id } : { unitId: targetUnit.id }, strategy: user ? 'FIXED' : r.strategy, capacityPerUser: r.capacity };
    const res = await app.rest(admin, 'POST', '/v1/allocation-rules', body);
    if (res.status !== 201) throw new Error(`rule refused: ${res.status} ${res.raw}`);
    rules.push({ id: res.body.id, order: r.order, active: true, match, targetUnit, targetUserId: user?.id ?? null });
  }
  // A target user deactivated after the rule was made: its unit's pool then.
  const deactivated = new Set<string>();
  if (spec.users[0] && !spec.users[0].active) {
    for (const r of rules) if (r.targetUserId) deactivated.add(r.targetUserId);
    if (deactivated.size > 0) await app.db.execute(sql`UPDATE users SET active = false WHERE id = ANY(${sql.param([...deactivated])}::uuid[])`);
  }
  const isReceiver = async (userId: string): Promise<boolean> => {
    const rows = await queryRows<{ ok: boolean }>(app.db, sql`SELECT u.active AND EXISTS (SELECT 1 FROM user_roles ur JOIN roles r ON r.id = ur.role_id WHERE ur.user_id = u.id AND r.name IN ('sales', 'partner_sales')) AS ok FROM users u WHERE u.id = ${userId}`);
    return rows[0]?.ok === true;
  };
  const unitPath = new Map(units.map((u) => [u.id, u.path]));

  for (const [i, l] of spec.leads.entries()) {
    const leadRegion = l.otherRegion ? `${region}-elsewhere` : region;
    const made = await app.rest(admin, 'POST', '/v1/customers', { kind: 'ORGANIZATION', name: `Prop lead ${tag()} ${i}`, region: leadRegion, industry: l.industry, source: { channel: l.source }, lifecycleStage: l.lifecycleStage });
    if (made.status !== 201) throw new Error(`create refused: ${made.status} ${made.raw}`);
    const expected = firstMatch(rules, { region: leadRegion, industry: l.industry, source: l.source, kind: 'ORGANIZATION', lifecycleStage: l.lifecycleStage });
    const again = await app.rest(admin, 'POST', `/v1/customers/${made.body.id}/allocate`);
    if (again.status !== 200) throw new Error(`allocate refused: ${again.status} ${again.raw}`);
    if (!expected) {
      if (made.body.ownerUserId !== admin.id) throw new Error(`lead ${i}: no rule matches, yet it left its creator for ${made.body.ownerUnitId}`);
      if (again.body.allocated || again.body.ruleId !== null) throw new Error(`lead ${i}: allocate applied a rule where none matches`);
      continue;
    }
    allocated++;
    if (again.body.ruleId !== expected.id) throw new Error(`lead ${i}: rule ${again.body.ruleId} applied, firstMatch says ${expected.id}`);
    for (const [how, owner] of [['create', made.body], ['allocate', again.body]] as const) {
      const path = unitPath.get(owner.ownerUnitId);
      if (!path || !path.startsWith(expected.targetUnit.path)) throw new Error(`lead ${i} (${how}): owner unit ${owner.ownerUnitId} outside the target subtree ${expected.targetUnit.path}`);
      if (owner.ownerUserId !== null) {
        if (expected.targetUserId && owner.ownerUserId !== expected.targetUserId) throw new Error(`lead ${i} (${how}): a user rule gave it to someone else`);
        if (expected.targetUserId && deactivated.has(expected.targetUserId)) throw new Error(`lead ${i} (${how}): given to a deactivated target user`);
        if (!expected.targetUserId && !(await isReceiver(owner.ownerUserId))) throw new Error(`lead ${i} (${how}): owner is not an active salesperson`);
      }
    }
  }
  return allocated;
}

t.test('allocation never assigns outside the matched rule’s target subtree (random worlds)', async (t) => {
  let worlds = 0;
  let allocated = 0;
  await fc.assert(
    fc.asyncProperty(worldSpec, async (spec) => {
      worlds++;
      allocated += await check(spec);
    }),
    { seed: SEED, numRuns: RUNS, endOnFailure: true },
  );
  t.ok(worlds >= RUNS, `${worlds} random worlds`);
  t.ok(allocated > 0, `${allocated} leads fell under a rule`);
});
