/**
 * The world the record access matrices share (opportunities-matrix, orders-matrix): two regions, a
 * branch with a department, two partners (one with a department), one caller per built-in role (the
 * partner roles at partner P1, the others at branch B), and for every caller a record at each
 * position relative to it — its own, a colleague's in the same unit, one in its subtree, one at a
 * sibling partner, one elsewhere, and one of a user who delegated to it. `recordOf` makes a record
 * owned by a user (a customer's order, an opportunity); the model world (./model.ts) is built from the
 * same units and delegations, so the expectations and the database describe one world.
 */
import { loadPrincipal } from '../../src/modules/org/principal.repository.js';
import type { TestApp, Unit, User } from '../helpers/app.js';
import { delegation } from '../helpers/factories.js';
import type { MRole, MUnit, MUser, UnitKind, World } from './model.js';

export const CALLERS = ['admin', 'executive', 'manager', 'marketing', 'sales', 'service', 'partner_manager', 'partner_sales', 'integration'] as const;
const PARTNER_SIDE = new Set<string>(['partner_manager', 'partner_sales']);
export const homeOf = (name: string): 'partner' | 'company' => (PARTNER_SIDE.has(name) ? 'partner' : 'company');

export const POSITIONS = ['own', 'sameUnit', 'subtree', 'siblingPartner', 'elsewhere', 'delegated'] as const;
export type Position = (typeof POSITIONS)[number];
export type Caller = { name: string; user: User; m: MUser };
/** A record at a position, with the user who owns it. */
export type Placed<R> = { record: R; owner: User };

export type MatrixWorldOptions<R> = {
  /** The model's role for a built-in role name (the resource's permissions added to the customer ones). */
  roleFor: (name: string) => MRole;
  /** A record owned by `owner`. */
  recordOf: (owner: User) => Promise<R>;
  /** Anything more a caller needs, made after its delegation and before its own records. */
  perCaller?: (name: string, user: User) => Promise<void>;
};

export async function matrixWorld<R>(app: TestApp, opts: MatrixWorldOptions<R>) {
  const root = await app.root();
  const R1 = await app.unit('REGION');
  const B = await app.unit('BRANCH', R1);
  const D = await app.unit('DEPARTMENT', B);
  const P1 = await app.unit('PARTNER', R1);
  const P1s = await app.unit('DEPARTMENT', P1);
  const P2 = await app.unit('PARTNER', R1);
  const R2 = await app.unit('REGION');
  const B2 = await app.unit('BRANCH', R2);
  const MY_UNITS = [R1, B, D, P1, P1s, P2, R2, B2];

  const callers = new Map<string, Caller>();
  for (const name of CALLERS) {
    const user = await app.user(homeOf(name) === 'partner' ? P1 : B, [name]);
    callers.set(name, { name, user, m: { id: user.id, unitId: user.unitId, roles: [opts.roleFor(name)] } });
  }
  const caller = (name: string): Caller => {
    const c = callers.get(name);
    if (!c) throw new Error(name);
    return c;
  };

  const admin = await app.admin();
  const adminP = await loadPrincipal(app.db, admin.id);
  if (!adminP) throw new Error('no admin principal');

  const placed = async (owner: User): Promise<Placed<R>> => ({ record: await opts.recordOf(owner), owner });
  const home = {
    company: { colleague: await app.user(B, ['sales']), below: await app.user(D, ['sales']) },
    partner: { colleague: await app.user(P1, ['partner_sales']), below: await app.user(P1s, ['partner_sales']) },
  };
  const shared = {
    siblingPartner: await placed(await app.user(P2, ['partner_sales'])),
    elsewhere: await placed(await app.user(B2, ['sales'])),
    company: { sameUnit: await placed(home.company.colleague), subtree: await placed(home.company.below) },
    partner: { sameUnit: await placed(home.partner.colleague), subtree: await placed(home.partner.below) },
  };
  const activeDelegations: { fromUserId: string; toUserId: string }[] = [];
  const targets = new Map<string, Record<Position, Placed<R>>>();
  for (const name of CALLERS) {
    const c = caller(name);
    const side = homeOf(name);
    const delegator = side === 'partner' ? await app.user(P1s, ['partner_sales']) : await app.user(B2, ['sales']);
    // The delegator need not see the caller (another region, or its own scope only): the admin arranges it.
    await delegation(app, delegator, c.user, { by: admin });
    activeDelegations.push({ fromUserId: delegator.id, toUserId: c.user.id });
    await opts.perCaller?.(name, c.user);
    targets.set(name, {
      own: await placed(c.user),
      sameUnit: shared[side].sameUnit,
      subtree: shared[side].subtree,
      siblingPartner: shared.siblingPartner,
      elsewhere: shared.elsewhere,
      delegated: await placed(delegator),
    });
  }
  const target = (name: string, pos: Position): Placed<R> => {
    const tg = targets.get(name)?.[pos];
    if (!tg) throw new Error(`${name}/${pos}`);
    return tg;
  };

  const mu = (u: Unit, parent: Unit | null): MUnit => ({ id: u.id, parentId: parent?.id ?? null, kind: u.kind as UnitKind });
  const world: World = {
    units: new Map([mu(root, null), mu(R1, root), mu(B, R1), mu(D, B), mu(P1, R1), mu(P1s, P1), mu(P2, R1), mu(R2, root), mu(B2, R2)].map((u) => [u.id, u])),
    shares: [],
    delegations: activeDelegations,
  };

  return { units: { root, R1, B, D, P1, P1s, P2, R2, B2 }, MY_UNITS, caller, admin, adminP, target, world };
}
