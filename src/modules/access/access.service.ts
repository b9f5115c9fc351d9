import type { Database } from '../../db/client.js';
import { type AccessRule, hiddenFields, type Principal, scopeCoversUser, scopeFor } from '../../lib/access.js';
import { notFound } from '../../lib/errors.js';
import { permits } from '../../lib/permissions.js';
import { loadPrincipal } from '../org/index.js';
import { accessRepository as repo, type ArmVerdicts, type Evaluation, type ExplainedResource } from './access.repository.js';
import type { AccessReasonDto, ExplainQuery, ExplainResourceType, ExplanationDto, WriteBlock } from './access.schemas.js';

const STORED: Record<ExplainResourceType, ExplainedResource> = { CUSTOMER: 'customer', OPPORTUNITY: 'opportunity' };
const PLURAL: Record<ExplainedResource, string> = { customer: 'customers', opportunity: 'opportunities' };
const iso = (d: Date) => d.toISOString();

type Grant = 'READ' | 'WRITE';

/**
 * The record's state refusing every update whatever the access (the refusal PATCH answers): a merged
 * customer is read-only. A frozen customer still takes corrections (its PATCH succeeds; freezing only
 * takes it out of the working lists), and an opportunity's updates are not refused for its state.
 */
function writeBlockedBy(resource: ExplainedResource, e: Evaluation): WriteBlock | null {
  return resource === 'customer' && e.status === 'MERGED' ? 'CUSTOMER_MERGED' : null;
}

function grantsOf(e: Evaluation, rule: AccessRule): Grant[] {
  const holds = (v: ArmVerdicts) => v.some((a) => a.rule === rule && a.holds);
  return [...(holds(e.read) ? (['READ'] as const) : []), ...(holds(e.write) ? (['WRITE'] as const) : [])];
}

/**
 * Why a user sees (or may change) a record: the arms of the one visibility rule (lib/access),
 * evaluated for that user on that record, each that holds turned into a reason with its particulars.
 */
export function createAccessService(database: Database) {
  const { db } = database;

  async function roleScopeReason(target: Principal, resource: ExplainedResource, e: Evaluation, grants: Grant[]): Promise<AccessReasonDto> {
    const permission = `${PLURAL[resource]}:${grants.includes('READ') ? 'read' : 'update'}`;
    const s = scopeFor(target, permission);
    const scope = s?.scope ?? 'OWN';
    const roles = target.roles.filter((r) => permits(r.permissions, permission) && r.scope === scope).map((r) => r.name);
    const roleNames = roles.length > 0 ? roles.join(', ') : target.roles.filter((r) => permits(r.permissions, permission)).map((r) => r.name).join(', ');
    if (e.ownerUserId === target.userId) {
      return { rule: 'ROLE_SCOPE', grants, detail: `the user owns the record (${roleNames}: ${scope})`, roles, scope, unitPath: [] };
    }
    if (!s || s.scope === 'ALL') {
      return { rule: 'ROLE_SCOPE', grants, detail: `${roleNames} reaches every record (scope ALL)`, roles, scope: 'ALL', unitPath: [] };
    }
    // From the unit the scope starts at down to the record's owner unit.
    const [owner] = await repo.unitsByIds(db, [e.ownerUnitId]);
    const ownerPath = (owner?.path ?? '').split('/').filter(Boolean);
    const baseId = s.basePath.split('/').filter(Boolean).pop() ?? '';
    const steps = ownerPath.slice(Math.max(0, ownerPath.indexOf(baseId)));
    const units = new Map((await repo.unitsByIds(db, steps)).map((u) => [u.id, u]));
    const unitPath = steps.flatMap((id) => {
      const u = units.get(id);
      return u ? [{ id: u.id, name: u.name, kind: u.kind }] : [];
    });
    const names = unitPath.map((u) => u.name).join(' › ');
    const detail =
      s.scope === 'UNIT' ? `the record is owned by the user's unit ${names} (${roleNames}: UNIT)` : `the record's owner unit lies within the user's subtree: ${names} (${roleNames}: SUBTREE)`;
    return { rule: 'ROLE_SCOPE', grants, detail, roles, scope: s.scope, unitPath };
  }

  async function reasons(target: Principal, resource: ExplainedResource, id: string, e: Evaluation): Promise<AccessReasonDto[]> {
    const out: AccessReasonDto[] = [];
    const scopeGrants = grantsOf(e, 'ROLE_SCOPE');
    if (scopeGrants.length > 0) out.push(await roleScopeReason(target, resource, e, scopeGrants));

    const delegationGrants = grantsOf(e, 'DELEGATION');
    if (delegationGrants.length > 0) {
      const found = e.ownerUserId ? await repo.activeDelegations(db, e.ownerUserId, target.userId) : [];
      for (const d of found) {
        out.push({
          rule: 'DELEGATION',
          grants: delegationGrants,
          detail: `the owner delegated its work to the user from ${iso(d.startsAt)} until ${iso(d.endsAt)}`,
          delegationId: d.id,
          fromUserId: d.fromUserId,
          startsAt: iso(d.startsAt),
          endsAt: iso(d.endsAt),
        });
      }
      if (found.length === 0) out.push({ rule: 'DELEGATION', grants: delegationGrants, detail: "an active delegation from the record's owner" });
    }

    const shareGrants = grantsOf(e, 'SHARE');
    if (shareGrants.length > 0) {
      const found = await repo.grantingShares(db, target, resource, id);
      for (const sh of found) {
        out.push({
          rule: 'SHARE',
          grants: shareGrants,
          detail: `the record is shared with the user${sh.toUserId ? '' : "'s unit"} ${sh.expiresAt ? `until ${iso(sh.expiresAt)}` : 'until revoked'}`,
          shareId: sh.id,
          expiresAt: sh.expiresAt ? iso(sh.expiresAt) : null,
          toUserId: sh.toUserId,
          toUnitId: sh.toUnitId,
        });
      }
      if (found.length === 0) out.push({ rule: 'SHARE', grants: shareGrants, detail: 'the record is shared with the user or its unit' });
    }

    const handoffGrants = grantsOf(e, 'HANDOFF');
    if (handoffGrants.length > 0) {
      for (const h of await repo.pendingHandoffs(db, target, e.customerId)) {
        out.push({
          rule: 'HANDOFF',
          grants: handoffGrants,
          detail: `a pending handoff names the user${h.toUserId ? '' : "'s unit"} as its receiver (due ${iso(h.dueAt)})`,
          handoffId: h.id,
          dueAt: iso(h.dueAt),
          toUserId: h.toUserId,
          toUnitId: h.toUnitId,
        });
      }
    }

    const claimGrants = grantsOf(e, 'CLAIM');
    if (claimGrants.length > 0) {
      for (const c of await repo.protectingClaims(db, target, e.customerId)) {
        const until = c.protectedUntil ? iso(c.protectedUntil) : '';
        out.push({ rule: 'CLAIM', grants: claimGrants, detail: `the user's approved claim protects the customer until ${until}`, claimId: c.id, protectedUntil: until });
      }
    }
    return out;
  }

  return {
    /**
     * Answered for oneself, and for a user the caller's `users:read` scope covers; a user outside it
     * answers as an unknown one, and so does a record the caller cannot see itself (404 both).
     */
    async explain(p: Principal, q: ExplainQuery): Promise<ExplanationDto> {
      const target = q.userId && q.userId !== p.userId ? await loadPrincipal(db, q.userId) : { ...p, active: true };
      if (!target || !scopeCoversUser(p, 'users:read', target)) throw notFound('user');
      const resource = STORED[q.resourceType];
      if (!(await repo.visibleTo(db, p, resource, q.resourceId))) throw notFound(resource);
      const e = await repo.evaluate(db, target, resource, q.resourceId);
      if (!e) throw notFound(resource);
      // A deactivated user signs in to nothing: the reasons stand, but they grant nothing today.
      const visible = target.active && e.read.some((a) => a.holds);
      const blocked = writeBlockedBy(resource, e);
      const writable = target.active && e.write.some((a) => a.holds) && blocked === null;
      const prefix = `${resource}.`;
      return {
        userId: target.userId,
        resourceType: q.resourceType,
        resourceId: q.resourceId,
        visible,
        writable,
        writeBlockedBy: blocked,
        because: await reasons(target, resource, q.resourceId, e),
        hiddenFields: [...hiddenFields(target)].filter((f) => f.startsWith(prefix)).map((f) => f.slice(prefix.length)).sort(),
      };
    },
  };
}

export type AccessService = ReturnType<typeof createAccessService>;
