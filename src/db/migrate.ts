import { fileURLToPath } from 'node:url';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import type { Database } from './client.js';
import { bootstrap } from './bootstrap.js';

export const migrationsFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

// Arbitrary but fixed: every Keel instance agrees on this advisory-lock key.
const MIGRATION_LOCK_KEY = 7_305_001;

export async function migrateAndBootstrap(database: Database, adminEmail: string): Promise<void> {
  await database.withLock(MIGRATION_LOCK_KEY, async (db) => {
    if (database.kind === 'postgres') {
      await migratePg(db as unknown as NodePgDatabase, { migrationsFolder });
    } else {
      await migratePglite(db as unknown as PgliteDatabase, { migrationsFolder });
    }
    await bootstrap(db, adminEmail);
  });
}
