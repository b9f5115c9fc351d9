import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import { createVerifier } from 'fast-jwt';
import t from 'tap';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { queryRows } from '../../src/db/client.js';
import { TEST_SECRET } from '../helpers/app.js';

// The README's commands on a fresh embedded database: `npm run migrate`, then
// `npm run --silent token -- <email>` prints a token the server accepts.

const repo = fileURLToPath(new URL('../../', import.meta.url));

function npm(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

t.test('npm run migrate, then npm run token, on a fresh DATA_DIR', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-cli-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  // The embedded database, whatever the surrounding run uses.
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const env = { ...inherited, NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', DATA_DIR: dir };

  const migrate = await npm(['run', '--silent', 'migrate'], env);
  t.equal(migrate.code, 0, migrate.stderr);
  t.match(migrate.stdout, /migrations applied \(embedded database\)/);

  const token = await npm(['run', '--silent', 'token', '--', 'admin@example.com'], env);
  t.equal(token.code, 0, token.stderr);
  const jwt = token.stdout.trim();
  t.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/, 'stdout is the token and nothing else');

  const unknown = await npm(['run', '--silent', 'token', '--', 'nobody@example.com'], env);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /no user with email nobody@example.com/);
  t.equal(unknown.stdout, '');

  // The processes are gone: this one may open the directory now.
  const app = await buildApp(loadConfig(env), { logger: false });
  t.teardown(() => app.close());
  const [admin] = await queryRows<{ id: string }>(app.database.db, sql`SELECT id FROM users WHERE lower(email) = 'admin@example.com'`);
  const claims = createVerifier({ key: TEST_SECRET, algorithms: ['HS256'] })(jwt) as { sub: string; exp: number };
  t.equal(claims.sub, admin?.id, 'sub is the admin id');
  t.ok(claims.exp * 1000 > Date.now(), 'not expired');
  const me = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${jwt}` } });
  t.equal(me.statusCode, 200, me.statusCode === 200 ? 'the server accepts it' : me.body);
  t.equal(me.json().user.email, 'admin@example.com');
});

t.test('while the server holds the embedded directory: token still works, writers refuse with one clear line', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-busy-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const env = { ...inherited, NODE_ENV: 'test', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'silent', DATA_DIR: dir };

  // This process plays the running server: it holds the directory.
  const app = await buildApp(loadConfig(env), { logger: false });
  t.teardown(() => app.close());

  const token = await npm(['run', '--silent', 'token', '--', 'admin@example.com'], env);
  t.equal(token.code, 0, token.stderr);
  const me = await app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token.stdout.trim()}` } });
  t.equal(me.statusCode, 200, 'a token minted from a copy of the live directory works');

  const migrate = await npm(['run', '--silent', 'migrate'], env);
  t.equal(migrate.code, 1);
  t.match(migrate.stderr, new RegExp(`in use by process ${process.pid}`));

  // The server still works after the refused writer: nothing touched its directory.
  const ready = await app.inject({ method: 'GET', url: '/readyz' });
  t.equal(ready.statusCode, 200);
});
