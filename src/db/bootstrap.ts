import { sql } from 'drizzle-orm';
import { BUILT_IN_ROLES } from '../modules/org/built-in-roles.js';
import type { Db } from './client.js';
import { orgUnits, roles, userRoles, users } from './schema/index.js';

// On an empty database: the built-in roles, the root unit `Headquarters` and one admin.
export async function bootstrap(db: Db, adminEmail: string): Promise<void> {
  await db.transaction(async (tx) => {
    await tx
      .insert(roles)
      .values(BUILT_IN_ROLES.map((r) => ({ ...r, builtIn: true })))
      .onConflictDoNothing({ target: roles.name });
    const [root] = await tx.select({ id: orgUnits.id }).from(orgUnits).where(sql`${orgUnits.parentId} IS NULL`);
    let rootId = root?.id;
    if (!rootId) {
      const id = crypto.randomUUID();
      await tx.insert(orgUnits).values({ id, name: 'Headquarters', kind: 'HEADQUARTERS', path: `/${id}/` });
      rootId = id;
    }
    const [anyUser] = await tx.select({ id: users.id }).from(users).limit(1);
    if (!anyUser) {
      const [admin] = await tx.insert(users).values({ email: adminEmail, name: 'Administrator', unitId: rootId }).returning({ id: users.id });
      const [adminRole] = await tx.select({ id: roles.id }).from(roles).where(sql`${roles.name} = 'admin'`);
      if (admin && adminRole) await tx.insert(userRoles).values({ userId: admin.id, roleId: adminRole.id });
    }
  });
}
