// The `npm run seed:demo` command: migrate and bootstrap, seed the demo company, print the logins.
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../app.js';
import { ConfigError, loadConfig } from '../../config.js';
import { createDatabase } from '../../db/client.js';
import { DataDirBusyError } from '../../db/embedded-lock.js';
import { migrateAndBootstrap } from '../../db/migrate.js';
import { askRunningServer } from '../../plugins/local-control.js';
import { DEMO_MARKER, demoEmail, keyLogins, type SeedSummary, seedDemo } from './index.js';

function printLogins(adminEmail: string): void {
  const rows = keyLogins(adminEmail);
  const w = [Math.max(5, ...rows.map((r) => r.email.length)), Math.max(4, ...rows.map((r) => r.role.length))];
  console.log('\nKey logins');
  console.log(`  ${'email'.padEnd(w[0] ?? 0)}  ${'role'.padEnd(w[1] ?? 0)}  unit`);
  for (const r of rows) console.log(`  ${r.email.padEnd(w[0] ?? 0)}  ${r.role.padEnd(w[1] ?? 0)}  ${r.unit}`);
  console.log(`\nGet a token:  TOKEN=$(npm run --silent token -- ${demoEmail('Maria Schneider', 'sales')})`);
  console.log('Then:         curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/v1/customers');
}

// Seeds through this process, or, while a server holds the embedded directory, asks that server to
// seed itself (over its control socket): the Quick start's order, start then seed, works as written.
async function seedSomewhere(config: ReturnType<typeof loadConfig>): Promise<{ s: SeedSummary; kind: string }> {
  let database;
  try {
    database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  } catch (err) {
    if (!(err instanceof DataDirBusyError)) throw err;
    const reply = await askRunningServer(config, 'seed-demo', {});
    if (!reply) throw err;
    if (reply.status !== 200) throw new Error((reply.body as { error?: string }).error ?? `the running server answered ${reply.status}`);
    return { s: reply.body as SeedSummary, kind: 'embedded database, through the running server' };
  }
  let app: FastifyInstance | undefined;
  try {
    await migrateAndBootstrap(database, config.adminEmail);
    app = await buildApp(config, { database, migrate: false, logger: false });
    return { s: await seedDemo(app), kind: `${database.kind} database` };
  } finally {
    await app?.close();
    await database.close();
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { s, kind } = await seedSomewhere(config);
  {
    if (!s.created) {
      console.log(`demo data already present (unit "${DEMO_MARKER}" exists); nothing changed`);
    } else {
      console.log(
        `demo company created in ${(s.ms / 1000).toFixed(1)} s: ${s.units} units, ${s.users} users, ${s.customers} customers ` +
          `(${s.frozen} frozen), ${s.contacts} contact persons, ${s.shares} shares, ${s.interactions} interactions, ` +
          `${s.opportunities} opportunities, ${s.actions} key actions, ${s.orders} orders, ${s.handoffs} pending handoff (${kind})`,
      );
    }
    printLogins(config.adminEmail);
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
