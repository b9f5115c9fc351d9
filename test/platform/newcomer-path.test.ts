import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { controlSocketPath } from '../../src/db/embedded-lock.js';
import { askRunningServer } from '../../src/plugins/local-control.js';
import { TEST_SECRET } from '../helpers/app.js';

// The README's Quick start, in the order written, on a fresh embedded database: `npm start`, then
// (while it runs) `npm run seed:demo` and `npm run --silent token -- <email>`. The server holds the
// directory; the tools ask it over the control socket in the directory.

const repo = fileURLToPath(new URL('../../', import.meta.url));

function npm(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn('npm', args, { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, ms: performance.now() - started }));
  });
}

t.test('start, then seed:demo and token while the server runs', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-newcomer-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const port = 40000 + Math.floor(Math.random() * 20000);
  const { DATABASE_URL: _ignored, ...inherited } = process.env;
  const env = { ...inherited, NODE_ENV: 'development', JWT_SECRET: TEST_SECRET, LOG_LEVEL: 'warn', DATA_DIR: dir, PORT: String(port) };

  const server = spawn('npm', ['start'], { cwd: repo, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  server.stdout.on('data', (d: Buffer) => (log += d.toString()));
  server.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<number | null>((resolve) => server.on('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const started = performance.now();
  let ready = false;
  for (let i = 0; i < 600 && !ready; i++) {
    ready = await fetch(`${base}/readyz`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (!ready) await new Promise((r) => setTimeout(r, 100));
  }
  t.ok(ready, `ready on a fresh directory after ${Math.round(performance.now() - started)} ms`);
  t.teardown(async () => {
    server.kill('SIGTERM');
    await exited;
  });
  if (!ready) return t.fail(log);

  const socket = controlSocketPath(dir);
  t.equal(statSync(socket).mode & 0o777, 0o600, 'the control socket is for its owner only');

  const seed = await npm(['run', '--silent', 'seed:demo'], env);
  t.equal(seed.code, 0, seed.stderr);
  t.match(seed.stdout, /demo company created in .* \(embedded database, through the running server\)/);
  t.match(seed.stdout, /maria\.sales@demo\.keel\.dev/);
  const again = await npm(['run', '--silent', 'seed:demo'], env);
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /demo data already present/, 'running it again changes nothing');

  const token = await npm(['run', '--silent', 'token', '--', 'maria.sales@demo.keel.dev'], env);
  t.equal(token.code, 0, token.stderr);
  t.match(token.stdout, /^[\w-]+\.[\w-]+\.[\w-]+\n$/, 'stdout is the token and nothing else');
  t.comment(`token took ${Math.round(token.ms)} ms`);
  const me = await fetch(`${base}/v1/me`, { headers: { authorization: `Bearer ${token.stdout.trim()}` } });
  t.equal(me.status, 200, 'the server accepts it');
  t.equal(((await me.json()) as { user: { email: string } }).user.email, 'maria.sales@demo.keel.dev', 'a user the seed created moments ago');

  const unknown = await npm(['run', '--silent', 'token', '--', 'nobody@example.com'], env);
  t.equal(unknown.code, 1);
  t.match(unknown.stderr, /no user with email nobody@example.com/);
  t.equal(unknown.stdout, '');

  // Reaching the socket is not enough: the request must be signed with the server's JWT secret.
  const forged = await askRunningServer({ dataDir: dir, jwt: { secret: 'another-secret-that-is-long-enough-0123456789', issuer: undefined, audience: undefined, ttlSeconds: 60 } }, 'token', { email: 'admin@example.com' });
  t.equal(forged?.status, 401, 'a request signed with another secret is refused');
  t.notOk((forged?.body as { token?: string }).token);

  // A second server on the same directory still refuses, naming the holder.
  const second = await npm(['start'], { ...env, PORT: String(port + 1) });
  t.not(second.code, 0);
  t.match(second.stderr, /in use by process \d+/);
  t.equal((await fetch(`${base}/readyz`)).status, 200, 'the first server is unharmed');
});
