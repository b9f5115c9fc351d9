import { ConfigError, loadConfig } from '../config.js';
import { DataDirBusyError, dataDirHolder } from '../db/embedded-lock.js';
import { askRunningServer } from '../plugins/local-control.js';

// `npm run --silent token -- <email>`: prints a JWT for that user, signed as the server verifies it.
// Only what the chosen path needs is loaded: while the server holds the embedded directory the
// token comes from the server itself, without the database driver or PGlite in this process.
const email = process.argv[2];
if (!email) {
  console.error('usage: npm run --silent token -- <email>');
  process.exit(2);
}

async function fromDatabase(config: ReturnType<typeof loadConfig>, address: string): Promise<{ token?: string; error?: string }> {
  const { createDatabase } = await import('../db/client.js');
  const { migrateAndBootstrap } = await import('../db/migrate.js');
  const { findTokenUser, refusal, signToken } = await import('./token-user.js');
  const database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 1 });
  try {
    await migrateAndBootstrap(database, config.adminEmail);
    const user = await findTokenUser(database.db, address);
    const why = refusal(address, user);
    return why || !user ? { error: why ?? 'no user' } : { token: signToken(config.jwt, user.id) };
  } finally {
    await database.close();
  }
}

try {
  const config = loadConfig();
  const holder = config.databaseUrl || config.dataDir.startsWith('memory://') ? null : dataDirHolder(config.dataDir);
  let answer: { token?: string; error?: string };
  if (holder === null) {
    answer = await fromDatabase(config, email);
  } else {
    // The server holds the embedded directory: it signs the token, asked over its control socket.
    const reply = await askRunningServer(config, 'token', { email });
    if (!reply) throw new DataDirBusyError(config.dataDir, holder);
    answer = reply.body as { token?: string; error?: string };
  }
  if (!answer.token) {
    console.error(answer.error ?? 'token failed');
    process.exit(1);
  }
  process.stdout.write(`${answer.token}\n`);
} catch (err) {
  console.error(err instanceof ConfigError || err instanceof DataDirBusyError ? err.message : `token failed: ${(err as Error).message}`);
  process.exit(1);
}
