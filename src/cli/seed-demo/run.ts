// The `npm run seed:demo` command: migrate and bootstrap, seed the demo company, print the logins.
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../app.js';
import { ConfigError, loadConfig } from '../../config.js';
import { createDatabase } from '../../db/client.js';
import { DataDirBusyError } from '../../db/embedded-lock.js';
import { migrateAndBootstrap } from '../../db/migrate.js';
import { DEMO_MARKER, demoEmail, keyLogins, seedDemo } from './index.js';

function printLogins(adminEmail: string): void {
  const rows = keyLogins(adminEmail);
  const w = [Math.max(5, ...rows.map((r) => r.email.length)), Math.max(4, ...rows.map((r) => r.role.length))];
  console.log('\nKey logins');
  console.log(`  ${'email'.padEnd(w[0] ?? 0)}  ${'role'.padEnd(w[1] ?? 0)}  unit`);
  for (const r of rows) console.log(`  ${r.email.padEnd(w[0] ?? 0)}  ${r.role.padEnd(w[1] ?? 0)}  ${r.unit}`);
  console.log(`\nGet a token:  TOKEN=$(npm run --silent token -- ${demoEmail('Maria Schneider', 'sales')})`);
  console.log('Then:         curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/v1/customers');
}

async function main(): Promise<void> {
  const config = loadConfig();
  const database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  let app: FastifyInstance | undefined;
  try {
    await migrateAndBootstrap(database, config.adminEmail);
    app = await buildApp(config, { database, migrate: false, logger: false });
    const s = await seedDemo(app);
    if (!s.created) {
      console.log(`demo data already present (unit "${DEMO_MARKER}" exists); nothing changed`);
    } else {
      console.log(
        `demo company created in ${(s.ms / 1000).toFixed(1)} s: ${s.units} units, ${s.users} users, ${s.customers} customers ` +
          `(${s.frozen} frozen), ${s.contacts} contact persons, ${s.shares} shares, ${s.interactions} interactions, ` +
          `${s.opportunities} opportunities, ${s.actions} key actions, ${s.handoffs} pending handoff (${database.kind} database)`,
      );
    }
    printLogins(config.adminEmail);
  } finally {
    await app?.close();
    await database.close();
  }
}

try {
  await main();
} catch (err) {
  // Refusals before anything was written say only why; a failure half-way also says what it left.
  const before = err instanceof ConfigError || err instanceof DataDirBusyError;
  console.error(before ? (err as Error).message : `seeding failed: ${(err as Error).message}`);
  if (!before) console.error('the database may now hold a partial demo company; seed a fresh database');
  process.exit(1);
}
