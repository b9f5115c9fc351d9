import { ConfigError, loadConfig } from '../config.js';
import { createDatabase } from './client.js';
import { migrateAndBootstrap } from './migrate.js';

try {
  const config = loadConfig();
  const database = await createDatabase({ url: config.databaseUrl, directUrl: config.databaseDirectUrl, preparedStatements: config.dbPreparedStatements, dataDir: config.dataDir, poolSize: 2 });
  await migrateAndBootstrap(database, config.adminEmail);
  await database.close();
  console.log(`migrations applied (${database.kind} database)`);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `migration failed: ${(err as Error).message}`);
  process.exit(1);
}
