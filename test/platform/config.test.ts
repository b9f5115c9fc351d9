import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { ConfigError, loadConfig } from '../../src/config.js';

const STRONG = 'k'.repeat(16) + 'Zq8#mW2!pL5$xR9@';

function refusal(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.message;
    throw err;
  }
  return '';
}

t.test('defaults in development', async (t) => {
  const c = loadConfig({});
  t.equal(c.env, 'development');
  t.equal(c.host, '127.0.0.1');
  t.equal(c.port, 3000);
  t.equal(c.databaseUrl, undefined, 'embedded database by default');
  t.equal(c.dataDir, './data');
  t.equal(c.adminEmail, 'admin@example.com');
  t.ok(c.jwt.secret.length >= 32, 'development gets a built-in secret');
  t.equal(c.jwt.issuer, undefined);
  t.equal(c.jwt.audience, undefined);
  t.equal(loadConfig({ DATABASE_URL: '' }).databaseUrl, undefined, 'an empty DATABASE_URL means embedded');
  t.equal(loadConfig({ PORT: '8080', HOST: '0.0.0.0' }).port, 8080);
  t.equal(loadConfig({ JWT_ISSUER: 'keel', JWT_AUDIENCE: 'crm' }).jwt.issuer, 'keel');
});

t.test('bad PORT is refused, naming the variable', async (t) => {
  for (const port of ['abc', '70000', '-1', '3.5']) t.match(refusal({ PORT: port }), /PORT/, `PORT=${port}`);
});

t.test('bad DATABASE_URL is refused, naming the variable', async (t) => {
  for (const url of ['not a url', 'localhost:5432/db', 'http://db.example/keel']) t.match(refusal({ DATABASE_URL: url }), /DATABASE_URL/, `DATABASE_URL=${url}`);
  t.equal(loadConfig({ DATABASE_URL: 'postgres://u:p@db.example:5432/keel' }).databaseUrl, 'postgres://u:p@db.example:5432/keel');
  t.equal(loadConfig({ DATABASE_URL: 'postgresql://db.example/keel' }).databaseUrl, 'postgresql://db.example/keel');
});

t.test('tracing: off unless OTEL_EXPORTER_OTLP_ENDPOINT is an http(s) URL', async (t) => {
  t.equal(loadConfig({}).tracing, undefined, 'off by default');
  t.equal(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: '' }).tracing, undefined, 'an empty endpoint is off');
  t.equal(loadConfig({ OTEL_SERVICE_NAME: 'crm' }).tracing, undefined, 'a service name alone turns nothing on');
  t.same(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracing, { endpoint: 'http://collector:4318', serviceName: 'keel' });
  t.same(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'https://otel.example/', OTEL_SERVICE_NAME: 'keel-eu' }).tracing, { endpoint: 'https://otel.example/', serviceName: 'keel-eu' });
  for (const url of ['collector:4318', 'grpc://collector:4317', 'not a url']) t.match(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: url }), /OTEL_EXPORTER_OTLP_ENDPOINT/, `OTEL_EXPORTER_OTLP_ENDPOINT=${url}`);
  t.match(refusal({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318', OTEL_SERVICE_NAME: 'x'.repeat(201) }), /OTEL_SERVICE_NAME/);
});

t.test('other invalid variables name themselves', async (t) => {
  t.match(refusal({ NODE_ENV: 'staging' }), /NODE_ENV/);
  t.match(refusal({ ADMIN_EMAIL: 'not-an-email' }), /ADMIN_EMAIL/);
  t.match(refusal({ LOG_LEVEL: 'loud' }), /LOG_LEVEL/);
  t.match(refusal({ BODY_LIMIT_BYTES: '0' }), /BODY_LIMIT_BYTES/);
});

t.test('outside development a missing or weak JWT_SECRET stops the start', async (t) => {
  for (const env of ['production', 'test']) {
    t.match(refusal({ NODE_ENV: env }), /JWT_SECRET/, `${env}: missing`);
    t.match(refusal({ NODE_ENV: env, JWT_SECRET: '' }), /JWT_SECRET/, `${env}: empty`);
    t.match(refusal({ NODE_ENV: env, JWT_SECRET: 'secret' }), /JWT_SECRET/, `${env}: a known weak one`);
    t.match(refusal({ NODE_ENV: env, JWT_SECRET: 'short-but-not-common' }), /JWT_SECRET/, `${env}: too short`);
    t.equal(loadConfig({ NODE_ENV: env, JWT_SECRET: STRONG }).jwt.secret, STRONG, `${env}: a strong one is taken`);
  }
  t.equal(loadConfig({ NODE_ENV: 'development', JWT_SECRET: STRONG }).jwt.secret, STRONG, 'development takes a given secret');
});

type Run = { code: number | null; stdout: string; stderr: string };

function runServer(env: Record<string, string>, dataDir: string): Promise<Run> {
  const base: Record<string, string> = {};
  // A clean environment: nothing from the caller's shell may supply the variable under test.
  for (const k of ['PATH', 'HOME', 'TMPDIR']) if (process.env[k]) base[k] = process.env[k] ?? '';
  return new Promise((resolve, reject) => {
    const child = spawn('node_modules/.bin/tsx', ['src/server.ts'], {
      env: { ...base, DATA_DIR: dataDir, PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

t.test('the server refuses to start in production without JWT_SECRET', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-config-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const run = await runServer({ NODE_ENV: 'production' }, dataDir);
  t.not(run.code, 0, 'exits non-zero');
  t.not(run.code, null, 'exits by itself');
  const lines = run.stderr.trim().split('\n').filter(Boolean);
  t.equal(lines.length, 1, `one line: ${run.stderr}`);
  t.match(lines[0] ?? '', /JWT_SECRET/, 'naming JWT_SECRET');
  t.notMatch(run.stderr, /\n\s+at /, 'no stack trace');
  t.equal(run.stdout, '', 'nothing else printed');
});

t.test('the server refuses a weak JWT_SECRET and a bad PORT the same way', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-config-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const weak = await runServer({ NODE_ENV: 'production', JWT_SECRET: 'changeme' }, dataDir);
  t.not(weak.code, 0);
  t.match(weak.stderr.trim(), /^[^\n]*JWT_SECRET[^\n]*$/, 'one line naming JWT_SECRET');
  const port = await runServer({ NODE_ENV: 'production', JWT_SECRET: STRONG, PORT: 'eighty' }, dataDir);
  t.not(port.code, 0);
  t.match(port.stderr.trim(), /^[^\n]*PORT[^\n]*$/, 'one line naming PORT');
});

t.test('pooler, direct connection and read replica settings', async (t) => {
  const c = loadConfig({});
  t.equal(c.dbPreparedStatements, true, 'named prepared statements by default');
  t.equal(c.databaseDirectUrl, undefined, 'no direct connection by default');
  t.equal(c.databaseReadUrl, undefined, 'no read replica by default');
  t.equal(c.databaseReadMaxLagMs, 5000, 'a replica may lag 5 s by default');
  t.equal(loadConfig({ DB_PREPARED_STATEMENTS: 'false' }).dbPreparedStatements, false);
  t.equal(loadConfig({ DB_PREPARED_STATEMENTS: '0' }).dbPreparedStatements, false);
  t.throws(() => loadConfig({ DB_PREPARED_STATEMENTS: 'off' }), /DB_PREPARED_STATEMENTS/);
  const scaled = loadConfig({
    DATABASE_URL: 'postgres://keel@pgbouncer:6432/keel',
    DATABASE_DIRECT_URL: 'postgres://keel@db:5432/keel',
    DATABASE_READ_URL: 'postgres://keel@replica:5432/keel',
    DATABASE_READ_MAX_LAG_MS: '2000',
  });
  t.same(
    [scaled.databaseUrl, scaled.databaseDirectUrl, scaled.databaseReadUrl, scaled.databaseReadMaxLagMs],
    ['postgres://keel@pgbouncer:6432/keel', 'postgres://keel@db:5432/keel', 'postgres://keel@replica:5432/keel', 2000],
  );
  t.throws(() => loadConfig({ DATABASE_URL: 'postgres://a/b', DATABASE_DIRECT_URL: 'mysql://db/keel' }), /DATABASE_DIRECT_URL/, 'a direct URL must be PostgreSQL');
  t.throws(() => loadConfig({ DATABASE_DIRECT_URL: 'postgres://db/keel' }), /Invalid environment variable DATABASE_DIRECT_URL: only with DATABASE_URL/, 'a direct URL without DATABASE_URL is refused');
  t.throws(() => loadConfig({ DATABASE_READ_URL: 'postgres://replica/keel' }), /DATABASE_READ_URL: only with DATABASE_URL/, 'a replica without DATABASE_URL is refused');
  t.throws(() => loadConfig({ DATABASE_READ_MAX_LAG_MS: '-1' }), /DATABASE_READ_MAX_LAG_MS/);
});
