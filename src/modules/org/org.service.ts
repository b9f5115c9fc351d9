import type { Database, Executor } from '../../db/client.js';
import { hiddenFields, type Principal, requirePermission, scopeFor } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, fieldError, notFound, staleWrite } from '../../lib/errors.js';
import { cursorForSort, type Page, pageOf, parseSort, sortKey, wholeListOrder, type WholeSyncQuery, withCount } from '../../lib/pagination.js';
import { openActionCount } from '../actions/index.js';
import { ownershipRepository } from '../customers/index.js';
import { openOpportunityCount } from '../opportunities/index.js';
import { ACTIONS, BUILT_IN_NAMES, RESOURCES } from './built-in-roles.js';
import { createDelegationService, endDelegationsOf, toDelegationDto } from './delegations.service.js';
import { orgRepository as repo, type OrgUnitRow, type RoleRow, type UserRow } from './org.repository.js';
import { createShareService } from './shares.service.js';
import { createTransferService } from './transfers.service.js';
import {
  type CreateOrgUnitInput,
  type CreateRoleInput,
  type CreateUserInput,
  type ListOrgUnitsQuery,
  type ListUsersQuery,
  type MeDto,
  ORG_UNIT_SORTS,
  type OrgUnitDto,
  type PatchOrgUnitInput,
  type PatchRoleInput,
  type PatchUserInput,
  type RoleDto,
  USER_SORTS,
  type UserDto,
} from './org.schemas.js';

const iso = (d: Date) => d.toISOString();

export const toUnitDto = (r: OrgUnitRow): OrgUnitDto => ({
  id: r.id,
  name: r.name,
  kind: r.kind as OrgUnitDto['kind'],
  partnerType: (r.partnerType as OrgUnitDto['partnerType']) ?? null,
  parentId: r.parentId,
  version: r.version,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
});

export const toRoleDto = (r: RoleRow): RoleDto => ({
  id: r.id,
  name: r.name,
  scope: r.scope as RoleDto['scope'],
  permissions: r.permissions,
  hiddenFields: r.hiddenFields,
  builtIn: r.builtIn,
  version: r.version,
  createdAt: r.createdAt.toISOString(),
  updatedAt: r.updatedAt.toISOString(),
});

export const toUserDto = (r: UserRow): UserDto => ({
  id: r.id,
  email: r.email,
  name: r.name,
  unitId: r.unitId,
  roles: r.roles,
  kind: r.kind as UserDto['kind'],
  active: r.active,
  version: r.version,
  createdAt: iso(r.createdAt),
  updatedAt: iso(r.updatedAt),
});

// Roles belong to no unit and bind the whole company: a partner's users never edit them,
// whatever permissions a custom role hands them.
function requireCompanyStaff(p: Principal): void {
  if (p.partnerPath !== null) throw new AppError('PARTNER_ROLES_FIXED', 'roles are managed by the company, not by partners');
}

// `onAccessChanged`: called after a write that can change what a principal is (a unit's place in the
// tree, a role's rights, a user's unit, roles or activity, a delegation), so cached principals go.
export function createOrgService(database: Database, opts: { onAccessChanged?: () => void } = {}) {
  const { db } = database;

  // The reach of a write on units/users: the unit must lie within the caller's scope for it.
  async function requireUnitInReach(tx: Executor, p: Principal, permission: string, unitId: string, path: string) {
    const unit = await repo.unitById(tx, unitId);
    if (unit && (await repo.unitInReach(tx, p, permission, unitId))) return unit;
    // A unit the caller cannot see does not exist for it (domain.md §1): the same answer as a wrong id.
    const visible = unit !== null && (await repo.unitsByIds(tx, p, [unitId])).length > 0;
    if (!visible) throw fieldError('VALIDATION_FAILED', path, 'no such unit');
    throw fieldError('FORBIDDEN', path, 'outside your reach');
  }

  // A partner's users never hold an ALL-scope role (domain.md §1).
  async function resolveRoles(tx: Executor, names: string[], unit: OrgUnitRow): Promise<RoleRow[]> {
    const unique = [...new Set(names)];
    const found = await repo.rolesByName(tx, unique);
    const missing = unique.filter((n) => !found.some((r) => r.name === n));
    if (missing.length) throw fieldError('VALIDATION_FAILED', 'roles', `unknown role(s): ${missing.join(', ')}`);
    if (found.some((r) => r.scope === 'ALL') && (await repo.isInPartner(tx, unit.path))) {
      throw fieldError('PARTNER_SCOPE_ALL', 'roles', 'a partner unit’s users cannot hold a role of scope ALL');
    }
    return found;
  }

  // No customer is left without an owner when staff leave (domain.md §1): deactivation waits for a transfer.
  async function refuseWhileHolding(tx: Executor, userId: string): Promise<void> {
    const owned = {
      customers: await ownershipRepository.ownedCount(tx, userId),
      opportunities: await openOpportunityCount(tx, userId),
      actions: await openActionCount(tx, userId),
    };
    if (owned.customers + owned.opportunities + owned.actions === 0) return;
    const parts = [
      owned.customers ? `owns ${owned.customers} customer(s)` : null,
      owned.opportunities ? `owns ${owned.opportunities} open opportunit${owned.opportunities === 1 ? 'y' : 'ies'}` : null,
      owned.actions ? `has ${owned.actions} open action(s) assigned` : null,
    ].filter(Boolean);
    throw new AppError('USER_HOLDS_RECORDS', `the user still ${parts.join(', ')}; hand them over with POST /v1/transfers (GraphQL transferWork), then deactivate`, {
      extra: { owned, transferWith: 'POST /v1/transfers' },
    });
  }

  async function userDto(tx: Executor, id: string): Promise<UserDto> {
    const row = await repo.userById(tx, id);
    if (!row) throw notFound('user');
    return toUserDto(row);
  }

  const service = {
    ...createDelegationService(database),
    ...createTransferService(database),
    ...createShareService(database),

    async me(p: Principal): Promise<MeDto> {
      const [user, unit, roles, delegations] = await Promise.all([
        repo.userById(db, p.userId),
        repo.unitById(db, p.unitId),
        repo.rolesByName(db, p.roles.map((r) => r.name)),
        repo.activeDelegationsOf(db, p.userId),
      ]);
      if (!user || !unit) throw notFound('user');
      const effectiveScopes = RESOURCES.flatMap((r) =>
        ACTIONS.flatMap((a) => {
          const s = scopeFor(p, `${r}:${a}`);
          return s ? [{ permission: `${r}:${a}`, scope: s.scope }] : [];
        }),
      );
      return {
        user: toUserDto(user),
        unit: toUnitDto(unit),
        roles: roles.map(toRoleDto),
        effectiveScopes,
        hiddenFields: [...hiddenFields(p)].sort(),
        activeDelegations: delegations.map(toDelegationDto),
      };
    },

    // Org units.
    async listUnits(p: Principal, q: Omit<ListOrgUnitsQuery, 'count'> = {}): Promise<OrgUnitDto[]> {
      requirePermission(p, 'org-units:read');
      const order = q.sort === undefined ? undefined : parseSort(q.sort, ORG_UNIT_SORTS, 'updatedAt');
      return (await repo.units(db, p, { updatedAfter: q.updatedAfter }, order)).map(toUnitDto);
    },

    async getUnit(p: Principal, id: string): Promise<OrgUnitDto> {
      requirePermission(p, 'org-units:read');
      const [row] = await repo.unitsByIds(db, p, [id]);
      if (!row) throw notFound('org unit');
      return toUnitDto(row);
    },

    async unitsByIds(p: Principal, ids: string[]): Promise<Map<string, OrgUnitDto>> {
      if (!scopeFor(p, 'org-units:read')) return new Map();
      return new Map((await repo.unitsByIds(db, p, ids)).map((r) => [r.id, toUnitDto(r)]));
    },

    async createUnit(p: Principal, input: CreateOrgUnitInput): Promise<OrgUnitDto> {
      requirePermission(p, 'org-units:create');
      return db.transaction(async (tx) => {
        const parent = await requireUnitInReach(tx, p, 'org-units:create', input.parentId, 'parentId');
        const id = crypto.randomUUID();
        const row = await repo.insertUnit(tx, {
          id,
          name: input.name,
          kind: input.kind,
          partnerType: input.partnerType ?? null,
          parentId: parent.id,
          path: `${parent.path}${id}/`,
        });
        await recordChange(tx, p, { entityType: 'org_unit', entityId: id, action: 'created', before: null, after: row, owner: { ownerUserId: null, ownerUnitId: id } });
        return toUnitDto(row);
      });
    },

    async updateUnit(p: Principal, id: string, input: PatchOrgUnitInput, expectedVersion?: number): Promise<OrgUnitDto> {
      requirePermission(p, 'org-units:update');
      return db.transaction(async (tx) => {
        const visible = await repo.unitsByIds(tx, p, [id]);
        if (!visible[0]) throw notFound('org unit');
        if (!(await repo.unitInReach(tx, p, 'org-units:update', id))) throw new AppError('FORBIDDEN', 'this unit is outside your reach');
        const before = await repo.unitById(tx, id, true);
        if (!before) throw notFound('org unit');
        checkVersion(expectedVersion, before.version);
        if (input.partnerType !== undefined && before.kind !== 'PARTNER') throw fieldError('VALIDATION_FAILED', 'partnerType', 'only a PARTNER unit has a partner type');
        const set: Partial<OrgUnitRow> = {};
        if (input.name !== undefined) set.name = input.name;
        if (input.partnerType !== undefined) set.partnerType = input.partnerType;
        let newPath: string | null = null;
        if (input.parentId !== undefined && input.parentId !== before.parentId) {
          if (before.parentId === null) throw fieldError('ROOT_UNIT_FIXED', 'parentId', 'the headquarters is the root and cannot move');
          const parent = await requireUnitInReach(tx, p, 'org-units:update', input.parentId, 'parentId');
          if (parent.path.startsWith(before.path)) throw fieldError('UNIT_CYCLE', 'parentId', 'a unit cannot move below itself');
          newPath = `${parent.path}${id}/`;
          if ((await repo.isInPartner(tx, newPath)) && (await repo.allScopeHoldersUnder(tx, before.path)) > 0) {
            throw fieldError('PARTNER_SCOPE_ALL', 'parentId', 'users below this unit hold ALL-scope roles, which partner units may not');
          }
          set.parentId = parent.id;
        }
        const row = await repo.updateUnit(tx, id, before.version, set);
        if (!row) throw staleWrite();
        if (newPath) await repo.rewritePaths(tx, before.path, newPath);
        const after = newPath ? { ...row, path: newPath } : row;
        await recordChange(tx, p, { entityType: 'org_unit', entityId: id, action: newPath ? 'moved' : 'updated', before, after, owner: { ownerUserId: null, ownerUnitId: id } });
        return toUnitDto(after);
      });
    },

    // Roles.
    async listRoles(p: Principal, q: WholeSyncQuery = {}): Promise<RoleDto[]> {
      requirePermission(p, 'roles:read');
      return (await repo.roles(db, { updatedAfter: q.updatedAfter }, wholeListOrder(q))).map(toRoleDto);
    },

    async getRole(p: Principal, id: string): Promise<RoleDto> {
      requirePermission(p, 'roles:read');
      const row = await repo.roleById(db, id);
      if (!row) throw notFound('role');
      return toRoleDto(row);
    },

    async createRole(p: Principal, input: CreateRoleInput): Promise<RoleDto> {
      requirePermission(p, 'roles:create');
      requireCompanyStaff(p);
      return db.transaction(async (tx) => {
        if (await repo.roleByName(tx, input.name)) throw fieldError('ROLE_NAME_TAKEN', 'name', 'a role with this name exists');
        const row = await repo.insertRole(tx, { name: input.name, scope: input.scope, permissions: [...new Set(input.permissions)], hiddenFields: [...new Set(input.hiddenFields ?? [])] });
        await recordChange(tx, p, { entityType: 'role', entityId: row.id, action: 'created', before: null, after: row });
        return toRoleDto(row);
      });
    },

    async updateRole(p: Principal, id: string, input: PatchRoleInput, expectedVersion?: number): Promise<RoleDto> {
      requirePermission(p, 'roles:update');
      requireCompanyStaff(p);
      return db.transaction(async (tx) => {
        const before = await repo.roleById(tx, id, true);
        if (!before) throw notFound('role');
        checkVersion(expectedVersion, before.version);
        if (before.builtIn && input.name !== undefined && input.name !== before.name) throw fieldError('BUILT_IN_ROLE_FIXED', 'name', 'the name of a built-in role is fixed');
        if (before.builtIn && input.scope !== undefined && input.scope !== before.scope) throw fieldError('BUILT_IN_ROLE_FIXED', 'scope', 'the scope of a built-in role is fixed');
        if (input.name !== undefined && input.name !== before.name && (BUILT_IN_NAMES.has(input.name) || (await repo.roleByName(tx, input.name)))) {
          throw fieldError('ROLE_NAME_TAKEN', 'name', 'a role with this name exists');
        }
        if (input.scope === 'ALL' && before.scope !== 'ALL' && (await repo.partnerHoldersOfRole(tx, id)) > 0) {
          throw fieldError('PARTNER_SCOPE_ALL', 'scope', 'partner users hold this role; a partner can never have scope ALL');
        }
        const set: Partial<RoleRow> = {};
        if (input.name !== undefined) set.name = input.name;
        if (input.scope !== undefined) set.scope = input.scope;
        if (input.permissions !== undefined) set.permissions = [...new Set(input.permissions)];
        if (input.hiddenFields !== undefined) set.hiddenFields = [...new Set(input.hiddenFields)];
        const row = await repo.updateRole(tx, id, before.version, set);
        if (!row) throw staleWrite();
        await recordChange(tx, p, { entityType: 'role', entityId: id, action: 'updated', before, after: row });
        return toRoleDto(row);
      });
    },

    // Users.
    async listUsers(p: Principal, q: ListUsersQuery): Promise<Page<UserDto>> {
      requirePermission(p, 'users:read');
      const order = parseSort(q.sort, USER_SORTS, 'createdAt');
      const sort = sortKey(order);
      const rows = await repo.listUsers(db, p, q, order, cursorForSort(q.cursor, sort), q.limit);
      const pg = pageOf(rows, q.limit, (r) => [iso(r[order.field]), r.id], sort);
      return withCount({ ...pg, data: pg.data.map(toUserDto) }, () => repo.countUsers(db, p, q));
    },

    async getUser(p: Principal, id: string): Promise<UserDto> {
      if (id !== p.userId) requirePermission(p, 'users:read');
      const row = await repo.userVisibleById(db, p, id);
      if (!row) throw notFound('user');
      return toUserDto(row);
    },

    async usersByIds(p: Principal, ids: string[]): Promise<Map<string, UserDto>> {
      return new Map((await repo.usersByIds(db, p, ids)).map((r) => [r.id, toUserDto(r)]));
    },

    async createUser(p: Principal, input: CreateUserInput): Promise<UserDto> {
      requirePermission(p, 'users:create');
      return db.transaction(async (tx) => {
        const unit = await requireUnitInReach(tx, p, 'users:create', input.unitId, 'unitId');
        const roles = await resolveRoles(tx, input.roles, unit);
        if (await repo.emailTaken(tx, input.email)) throw fieldError('EMAIL_TAKEN', 'email', 'a user with this email exists');
        const id = await repo.insertUser(tx, { email: input.email, name: input.name, unitId: unit.id, kind: input.kind ?? 'HUMAN' });
        await repo.setUserRoles(tx, id, roles.map((r) => r.id));
        const dto = await userDto(tx, id);
        await recordChange(tx, p, { entityType: 'user', entityId: id, action: 'created', before: null, after: dto, owner: { ownerUserId: id, ownerUnitId: unit.id } });
        return dto;
      });
    },

    async updateUser(p: Principal, id: string, input: PatchUserInput, expectedVersion?: number): Promise<UserDto> {
      requirePermission(p, 'users:update');
      return db.transaction(async (tx) => {
        const visible = await repo.userVisibleById(tx, p, id);
        if (!visible) throw notFound('user');
        if (!(await repo.unitInReach(tx, p, 'users:update', visible.unitId))) throw new AppError('FORBIDDEN', 'this user is outside your reach');
        const before = await repo.userById(tx, id, true);
        if (!before) throw notFound('user');
        checkVersion(expectedVersion, before.version);
        if (input.active === false && id === p.userId) throw fieldError('SELF_DEACTIVATION', 'active', 'you cannot deactivate yourself');
        const deactivating = input.active === false && before.active;
        if (deactivating) await refuseWhileHolding(tx, id);
        const unit = input.unitId !== undefined ? await requireUnitInReach(tx, p, 'users:update', input.unitId, 'unitId') : await repo.unitById(tx, before.unitId);
        if (!unit) throw notFound('org unit');
        const roles = await resolveRoles(tx, input.roles ?? before.roles, unit);
        if (input.email !== undefined && (await repo.emailTaken(tx, input.email, id))) throw fieldError('EMAIL_TAKEN', 'email', 'a user with this email exists');
        const set: Record<string, unknown> = {};
        for (const k of ['email', 'name', 'unitId', 'kind', 'active'] as const) if (input[k] !== undefined) set[k] = input[k];
        if (!(await repo.updateUser(tx, id, before.version, set))) throw staleWrite();
        if (input.roles !== undefined) await repo.setUserRoles(tx, id, roles.map((r) => r.id));
        const after = await userDto(tx, id);
        // A departed user neither works for others nor has others work for it.
        if (deactivating) await endDelegationsOf(tx, p, id, after.unitId);
        await recordChange(tx, p, { entityType: 'user', entityId: id, action: input.active === false ? 'deactivated' : 'updated', before: toUserDto(before), after, owner: { ownerUserId: id, ownerUnitId: after.unitId } });
        return after;
      });
    },
  };
  const invalidating =
    <A extends unknown[], R>(write: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      const result = await write(...args);
      opts.onAccessChanged?.();
      return result;
    };
  return {
    ...service,
    updateUnit: invalidating(service.updateUnit),
    updateRole: invalidating(service.updateRole),
    updateUser: invalidating(service.updateUser),
    createDelegation: invalidating(service.createDelegation),
    revokeDelegation: invalidating(service.revokeDelegation),
  };
}

export type OrgService = ReturnType<typeof createOrgService>;
