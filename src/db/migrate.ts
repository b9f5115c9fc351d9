import { fileURLToPath } from 'node:url';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { sql } from 'drizzle-orm';
import { type Database, queryRows } from './client.js';
import { bootstrap } from './bootstrap.js';

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

// Arbitrary but fixed: every Keel instance agrees on this advisory-lock key.
const MIGRATION_LOCK_KEY = 7_305_001;

export async function migrateAndBootstrap(database: Database, adminEmail: string): Promise<void> {
  await database.withLock(MIGRATION_LOCK_KEY, async (db) => {
    if (database.kind === 'postgres') {
      await migratePg(db as unknown as NodePgDatabase, { migrationsFolder });
    } else {
      const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator');
      await migratePglite(db as unknown as PgliteDatabase, { migrationsFolder });
    }
    await bootstrap(db, adminEmail);
  });
}

// Whether the application's tables exist: an app built on an unmigrated database (e.g. to render
// the API document) keeps its background work off.
export async function isMigrated(database: Database): Promise<boolean> {
  const [row] = await queryRows<{ ok: boolean }>(database.db, sql`SELECT to_regclass('public.handoffs') IS NOT NULL AS ok`);
  return row?.ok === true;
}
