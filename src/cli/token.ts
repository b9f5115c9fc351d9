import { createSigner } from 'fast-jwt';
import { sql } from 'drizzle-orm';
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase, queryRows } from '../db/client.js';
import { migrateAndBootstrap } from '../db/migrate.js';

// `npm run --silent token -- <email>`: prints a JWT for that user, signed as the server verifies it.
const email = process.argv[2];
if (!email) {
  console.error('usage: npm run --silent token -- <email>');
  process.exit(2);
}
try {
  const config = loadConfig();
  // While the server holds the embedded directory, read a private copy of it rather than the original.
  const database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 1, snapshotIfBusy: true });
  if (!database.snapshot) await migrateAndBootstrap(database, config.adminEmail);
  const [user] = await queryRows<{ id: string; active: boolean }>(database.db, sql`SELECT id, active FROM users WHERE lower(email) = lower(${email})`);
  await database.close();
  if (!user) {
    console.error(`no user with email ${email}${database.snapshot ? ' (the server is running: a user created moments ago may not be on disk yet)' : ''}`);
    process.exit(1);
  }
  if (!user.active) {
    console.error(`user ${email} is deactivated`);
    process.exit(1);
  }
  const sign = createSigner({
    key: config.jwt.secret,
    algorithm: 'HS256',
    expiresIn: config.jwt.ttlSeconds * 1000,
    ...(config.jwt.issuer ? { iss: config.jwt.issuer } : {}),
    ...(config.jwt.audience ? { aud: config.jwt.audience } : {}),
  });
  process.stdout.write(`${sign({ sub: user.id })}\n`);
} catch (err) {
  console.error(err instanceof ConfigError ? err.message : `token failed: ${(err as Error).message}`);
  process.exit(1);
}
