/**
 * The access matrix of the plan routes (editing and deleting included): every built-in role × where the plan's unit sits relative
 * to the caller × every plan route, REST and GraphQL. A plan belongs to its unit: it is read by whoever's
 * reach for plans:read covers the unit (404 otherwise), made by whoever's reach for plans:create does,
 * and decomposed (computed) by whoever's reach for reports:read does (a unit out of reach answers as an
 * unknown one: 400 naming unitId). Without the permission at all: 403.
 *
 *   Headquarters
 *   ├── R (REGION)
 *   │   ├── B (BRANCH)      ← home of the company's callers
 *   │   └── P (PARTNER)     ← home of the partner's callers
 *   └── R2 (REGION)
 *       └── B2 (BRANCH)     ← elsewhere
 */
import t from 'tap';
import { buildTestApp, type Unit, type User } from '../helpers/app.js';
import { testPipeline } from '../helpers/factories.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const pipeline = await testPipeline(app);

const R = await app.unit('REGION');
const B = await app.unit('BRANCH', R);
const P = await app.unit('PARTNER', R);
const R2 = await app.unit('REGION');
const B2 = await app.unit('BRANCH', R2);
const admin = await app.admin();

const HOME: Record<string, Unit> = { partner_manager: P, partner_sales: P };
const ROLES = ['admin', 'executive', 'manager', 'marketing', 'sales', 'service', 'partner_manager', 'partner_sales', 'integration'] as const;
type Role = (typeof ROLES)[number];
const callers = new Map<Role, User>();
for (const r of ROLES) callers.set(r, await app.user(HOME[r] ?? B, [r]));

const WHERE = { own: B, partner: P, elsewhere: B2 } as const;
type Where = keyof typeof WHERE;

const body = (unitId: string) => ({ unitId, pipelineId: pipeline.id, periodStart: '2026-01-01', periodEnd: '2026-03-31', target: { amount: '100000', currency: 'EUR' }, minSample: 1 });
const plans = new Map<Where, string>();
for (const w of Object.keys(WHERE) as Where[]) {
  const r = await app.rest(admin, 'POST', '/v1/plans', body(WHERE[w].id));
  if (r.status !== 201) throw new Error(`fixture: ${r.raw}`);
  plans.set(w, r.body.id);
}

// The model: which units a role's reach covers (home B for the company's staff, P for the partner's).
const reach = (role: Role, w: Where): boolean => {
  if (role === 'admin' || role === 'executive' || role === 'integration') return true;
  if (role === 'manager' || role === 'marketing') return w === 'own';
  if (role === 'partner_manager') return w === 'partner';
  return w === (role === 'partner_sales' ? 'partner' : 'own');
};
const HAS: Record<string, Role[]> = {
  'reports:read': ['admin', 'executive', 'manager', 'marketing', 'partner_manager'],
  'plans:read': ['admin', 'executive', 'manager', 'partner_manager'],
  'plans:create': ['admin', 'manager', 'partner_manager'],
};
const expectRead = (role: Role, w: Where) => (!HAS['plans:read']?.includes(role) ? 403 : reach(role, w) ? 200 : 404);
const expectDecompose = (role: Role, w: Where) => (!HAS['reports:read']?.includes(role) ? 403 : reach(role, w) ? 200 : 400);
const expectCreate = (role: Role, w: Where) => (!HAS['plans:create']?.includes(role) ? 403 : reach(role, w) ? 201 : 400);
// Editing and deleting: a plan one cannot read is not found; one read but not storable for its unit is forbidden.
const expectChange = (role: Role, w: Where, ok: number) => {
  const read = expectRead(role, w);
  if (read !== 200) return read;
  return HAS['plans:create']?.includes(role) && reach(role, w) ? ok : 403;
};

// At a glance, by hand: who reads the plan of the caller's own branch and of the partner.
const AT_A_GLANCE: [Role, number, number][] = [
  ['admin', 200, 200],
  ['executive', 200, 200],
  ['manager', 200, 404],
  ['marketing', 403, 403],
  ['sales', 403, 403],
  ['service', 403, 403],
  ['partner_manager', 404, 200],
  ['partner_sales', 403, 403],
  ['integration', 403, 403],
];

t.test('the model agrees with the table read by hand', async (t) => {
  for (const [role, own, partner] of AT_A_GLANCE) t.same([expectRead(role, 'own'), expectRead(role, 'partner')], [own, partner], role);
});

t.test('every role × every place × every plan route, through both doors', async (t) => {
  for (const role of ROLES) {
    const who = callers.get(role) as User;
    for (const w of Object.keys(WHERE) as Where[]) {
      const id = plans.get(w) as string;
      const label = `${role} on the plan of ${w}`;
      const read = expectRead(role, w);
      t.equal((await app.rest(who, 'GET', `/v1/plans/${id}`)).status, read, `GET plan: ${label}`);
      t.equal((await app.rest(who, 'GET', `/v1/plans/${id}/progress`)).status, read, `GET progress: ${label}`);
      const list = await app.rest(who, 'GET', '/v1/plans?limit=200');
      if (read === 403) t.equal(list.status, 403, `GET plans: ${label}`);
      else t.equal(list.body.data.some((x: { id: string }) => x.id === id), read === 200, `GET plans lists it or not: ${label}`);
      const g = await app.gql(who, 'query($id: ID!) { plan(id: $id) { id } planProgress(id: $id) { planId } }', { id });
      t.same(g.codes, read === 200 ? [] : read === 403 ? ['FORBIDDEN', 'FORBIDDEN'] : ['NOT_FOUND', 'NOT_FOUND'], `GraphQL plan: ${label}`);

      const unitId = WHERE[w].id;
      const dec = await app.rest(who, 'POST', '/v1/plans/decompose', body(unitId));
      t.equal(dec.status, expectDecompose(role, w), `decompose: ${label}`);
      if (dec.status === 400) t.same(dec.body.errors, [{ path: 'unitId', message: 'no such unit' }]);
      const made = await app.rest(who, 'POST', '/v1/plans', body(unitId));
      t.equal(made.status, expectCreate(role, w), `create: ${label}`);
      const gm = await app.gql(who, 'mutation($input: CreatePlanInput!) { createPlan(input: $input) { id } }', { input: body(unitId) });
      const want = expectCreate(role, w);
      t.same(gm.codes, want === 201 ? [] : want === 403 ? ['FORBIDDEN'] : ['BAD_USER_INPUT'], `GraphQL createPlan: ${label}`);

      const patched = await app.rest(who, 'PATCH', `/v1/plans/${id}`, { name: `by ${role}` });
      t.equal(patched.status, expectChange(role, w, 200), `PATCH: ${label}`);
      const gu = await app.gql(who, 'mutation($id: ID!) { updatePlan(id: $id, input: { name: "x" }) { id } }', { id });
      const wantU = expectChange(role, w, 200);
      t.same(gu.codes, wantU === 200 ? [] : wantU === 403 ? ['FORBIDDEN'] : ['NOT_FOUND'], `GraphQL updatePlan: ${label}`);
      const doomed = await app.rest(admin, 'POST', '/v1/plans', body(unitId));
      t.equal((await app.rest(who, 'DELETE', `/v1/plans/${doomed.body.id}`)).status, expectChange(role, w, 204), `DELETE: ${label}`);
      const gd = await app.gql(who, 'mutation($id: ID!) { deletePlan(id: $id) }', { id: doomed.body.id });
      const wantD = expectChange(role, w, 204);
      t.same(gd.codes, wantD === 204 ? ['NOT_FOUND'] : wantD === 403 ? ['FORBIDDEN'] : ['NOT_FOUND'], `GraphQL deletePlan (after the REST try): ${label}`);
    }
  }
});
