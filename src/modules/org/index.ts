// The org module's public surface: units, users, roles, delegations, shares and transfers, the
// principal behind a request, and the staff that background work needs (the system actor, the
// head of a unit).
import type { Executor } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { staffRepository } from './staff.repository.js';

export { orgRoutes } from './org.routes.js';
export { orgLoaders, orgResolvers } from './org.resolvers.js';
export { createOrgService, type OrgService } from './org.service.js';
export { createPrincipalCache, type PrincipalCache } from './principal-cache.js';
export { loadPrincipal, userIdByEmail } from './principal.repository.js';
export { BUILT_IN_ROLES } from './built-in-roles.js';
export type { OrgUnitDto, UserDto } from './org.schemas.js';
export { HEAD_OF_UNIT_ROLES } from './management.js';
export { SYSTEM_EMAIL } from './staff.repository.js';

export const systemPrincipal = (ex: Executor): Promise<Principal> => staffRepository.systemPrincipal(ex);
export const nearestHead = (ex: Executor, unitId: string, exceptUserId: string | null) => staffRepository.nearestHead(ex, unitId, exceptUserId);

/** A read share of the customer for the user an escalation reaches (unless one exists), with its audit row and event. */
export async function grantEscalationShare(
  tx: Executor,
  actor: Principal,
  customerId: string,
  toUserId: string,
  owner: { ownerUserId: string | null; ownerUnitId: string },
): Promise<void> {
  const share = await staffRepository.grantCustomerReadShare(tx, customerId, toUserId, actor.userId);
  if (share) await recordChange(tx, actor, { entityType: 'share', entityId: share.id, action: 'created', before: null, after: share, owner });
}
