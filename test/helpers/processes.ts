// Real processes for the fault tests: a PostgreSQL cluster of the test's own (initdb in a temp
// directory, its own port, started and stopped by the test), PgBouncer, and the API server itself
// (`node --import tsx src/server.ts`). PostgreSQL and PgBouncer refuse to run as root, so as root
// they run as the `postgres` user.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { chownSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { TEST_SECRET } from './app.js';

const run = promisify(execFile);
const PG_BIN = '/usr/lib/postgresql/15/bin';
export const PGBOUNCER = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((p) => existsSync(p));
export const HAS_POSTGRES_BINARIES = existsSync(join(PG_BIN, 'initdb'));

const asRoot = process.getuid?.() === 0;
const postgresUid = async () => Number((await run('id', ['-u', 'postgres'])).stdout.trim());
const postgresGid = async () => Number((await run('id', ['-g', 'postgres'])).stdout.trim());
/** Spawn options that run a command as the postgres user when running as root (signals reach it directly). */
async function asPostgres(): Promise<{ uid?: number; gid?: number }> {
  return asRoot ? { uid: await postgresUid(), gid: await postgresGid() } : {};
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const port = (srv.address() as { port: number }).port;
      srv.close(() => resolve(port));
    });
  });
}

async function ownedTempDir(prefix: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  if (asRoot) chownSync(dir, await postgresUid(), await postgresGid());
  return dir;
}

export type OwnPostgres = { port: number; url: (db?: string) => string; start(): Promise<void>; stop(): Promise<void>; destroy(): Promise<void> };

/** A PostgreSQL 15 cluster of the test's own, on a free port; `destroy` stops it and removes its files. */
export async function ownPostgres(): Promise<OwnPostgres> {
  const dir = await ownedTempDir('keel-pg-');
  const data = join(dir, 'data');
  const port = await freePort();
  const as = await asPostgres();
  await run(join(PG_BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'], { ...as, cwd: dir });
  const ctl = async (...args: string[]) => {
    await run(join(PG_BIN, 'pg_ctl'), ['-D', data, ...args], { ...as, cwd: dir, timeout: 60_000 });
  };
  let running = false;
  const pgc: OwnPostgres = {
    port,
    url: (db = 'postgres') => `postgresql://postgres@127.0.0.1:${port}/${db}`,
    async start() {
      const opts = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=60 -c shared_buffers=32MB`;
      await ctl('-o', opts, '-l', join(dir, 'log'), '-w', '-t', '60', 'start');
      running = true;
    },
    async stop() {
      // fast: every session is terminated at once, as a crash or failover does to the clients.
      await ctl('-m', 'fast', '-w', '-t', '60', 'stop');
      running = false;
    },
    async destroy() {
      if (running) await pgc.stop().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  await pgc.start();
  return pgc;
}

export type Bouncer = { port: number; url: (db: string) => string; stop(): Promise<void> };

/** PgBouncer in transaction pooling mode in front of `target` (host 127.0.0.1), on a free port. */
export async function pgbouncer(targetPort: number, opts: { poolSize?: number } = {}): Promise<Bouncer> {
  if (!PGBOUNCER) throw new Error('pgbouncer is not installed');
  const dir = await ownedTempDir('keel-pgb-');
  const port = await freePort();
  const ini = join(dir, 'pgbouncer.ini');
  writeFileSync(join(dir, 'users.txt'), '"postgres" ""\n');
  writeFileSync(
    ini,
    [
      '[databases]',
      `* = host=127.0.0.1 port=${targetPort}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      "unix_socket_dir = ''",
      'auth_type = trust',
      `auth_file = ${join(dir, 'users.txt')}`,
      'pool_mode = transaction',
      `default_pool_size = ${opts.poolSize ?? 8}`,
      'max_client_conn = 500',
      // pg sends statement_timeout as a startup parameter; PgBouncer would refuse the connection.
      'ignore_startup_parameters = extra_float_digits,statement_timeout',
      `logfile = ${join(dir, 'pgbouncer.log')}`,
      `pidfile = ${join(dir, 'pgbouncer.pid')}`,
      '',
    ].join('\n'),
  );
  const child = spawn(PGBOUNCER, [ini], { ...(await asPostgres()), cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  for (let i = 0; ; i++) {
    const c = new pg.Client({ connectionString: `postgresql://postgres@127.0.0.1:${port}/postgres` });
    try {
      await c.connect();
      await c.end();
      break;
    } catch (err) {
      await c.end().catch(() => undefined);
      if (i > 80 || child.exitCode !== null) throw new Error(`pgbouncer did not start: ${(err as Error).message} ${out}`);
      await sleep(250);
    }
  }
  return {
    port,
    url: (db) => `postgresql://postgres@127.0.0.1:${port}/${db}`,
    async stop() {
      if (child.exitCode === null) {
        // SIGTERM: PgBouncer's immediate shutdown (SIGINT would wait for its clients).
        child.kill('SIGTERM');
        await Promise.race([exited, sleep(5000)]);
        if (child.exitCode === null) child.kill('SIGKILL');
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export type ServerProcess = {
  base: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>;
  stop(): Promise<void>;
};

/** The API server as production runs it, a child process with `env` over the test settings; resolves once /healthz answers. */
export async function startServer(env: Record<string, string>, opts: { readyTimeoutMs?: number } = {}): Promise<ServerProcess> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    env: {
      ...process.env,
      NODE_ENV: 'test',
      JWT_SECRET: TEST_SECRET,
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: '0',
      PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
      PRINCIPAL_CACHE_MS: '0',
      HOST: '127.0.0.1',
      PORT: String(port),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; at: number }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal, at: Date.now() })),
  );
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + (opts.readyTimeoutMs ?? 90_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited on start (${child.exitCode}): ${out.slice(-2000)}`);
    const up = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(2000) }).then(
      (r) => r.status === 200,
      () => false,
    );
    if (up) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`the server did not answer /healthz in time: ${out.slice(-2000)}`);
    }
    await sleep(250);
  }
  return {
    base,
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const done = await Promise.race([exited.then(() => true), sleep(15_000).then(() => false)]);
      if (!done) child.kill('SIGKILL');
    },
  };
}

/** An HS256 token for `userId`, as the server signs them with the test secret. */
export function tokenFor(userId: string): string {
  const b64 = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const head = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: userId, iat: now, exp: now + 3600 })}`;
  return `${head}.${createHmac('sha256', TEST_SECRET).update(head).digest('base64url')}`;
}

/** The bootstrap admin's id, read from the database the server migrated. */
export async function adminId(url: string): Promise<string> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ id: string }>("SELECT id FROM users WHERE lower(email) = 'admin@example.com'");
    if (!r.rows[0]) throw new Error('no admin');
    return r.rows[0].id;
  } finally {
    await c.end();
  }
}

export type Answer = { status: number; body: any; headers: Headers; ms: number } | { status: 0; error: string; ms: number };

/** One HTTP call that never throws: a transport failure is an answer with status 0 and its error code. */
export async function call(base: string, token: string | null, method: string, path: string, body?: unknown, timeoutMs = 15_000): Promise<Answer> {
  const started = Date.now();
  try {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      /* not JSON */
    }
    return { status: res.status, body: parsed, headers: res.headers, ms: Date.now() - started };
  } catch (err) {
    const e = err as { name?: string; cause?: { code?: string; message?: string }; message: string };
    return { status: 0, error: e.name === 'TimeoutError' ? 'TIMEOUT' : (e.cause?.code ?? e.cause?.message ?? e.message), ms: Date.now() - started };
  }
}
