import { buildApp } from '../app.js';
import { loadConfig } from '../config.js';
import { createDatabase } from '../db/client.js';

// The served document as YAML, built from a throw-away app on an in-memory database.
export async function renderOpenapi(): Promise<string> {
  const config = loadConfig({ NODE_ENV: 'development', DATA_DIR: 'memory://', LOG_LEVEL: 'silent' });
  const database = await createDatabase({ dataDir: 'memory://' });
  const app = await buildApp(config, { database, migrate: false, logger: false });
  await app.ready();
  const yaml = app.swagger({ yaml: true });
  await app.close();
  await database.close();
  return yaml;
}
