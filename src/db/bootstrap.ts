import { sql } from 'drizzle-orm';
import { DEFAULT_STAGES } from '../modules/opportunities/index.js';
import { BUILT_IN_ROLES } from '../modules/org/index.js';
import type { Db } from './client.js';
import { orgUnits, pipelineStages, pipelines, roles, userRoles, users } from './schema/index.js';

// On an empty database: the built-in roles, the root unit `Headquarters`, one admin and the default pipeline.
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
    // Every database has a default pipeline (domain.md §5). Bootstrap runs under the migration lock,
    // and the partial unique index on is_default refuses a second default anyway.
    const [anyDefault] = await tx.select({ id: pipelines.id }).from(pipelines).where(sql`${pipelines.isDefault}`);
    if (!anyDefault) {
      const [pipeline] = await tx.insert(pipelines).values({ name: 'Sales pipeline', isDefault: true }).returning({ id: pipelines.id });
      if (pipeline) {
        await tx.insert(pipelineStages).values(DEFAULT_STAGES.map((s, i) => ({ pipelineId: pipeline.id, ...s, position: i + 1 })));
      }
    }
  });
}
