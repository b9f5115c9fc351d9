import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

// The real server process: starts on the embedded database, answers, and stops cleanly on SIGTERM.
t.test('npm start serves and shuts down gracefully on SIGTERM', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'keel-shutdown-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const port = 40000 + Math.floor(Math.random() * 20000);
  // Exactly the README's command: SIGTERM to npm must reach the server.
  const child = spawn('npm', ['start'], {
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: String(port), NODE_ENV: 'development', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));

  const base = `http://127.0.0.1:${port}`;
  let up = false;
  for (let i = 0; i < 120 && !up; i++) {
    try {
      up = (await fetch(`${base}/healthz`)).status === 200;
    } catch {
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  t.ok(up, 'the server answered /healthz');
  t.equal((await fetch(`${base}/readyz`)).status, 200, 'ready on the embedded database');

  const inFlight = fetch(`${base}/readyz`);
  child.kill('SIGTERM');
  t.equal((await inFlight).status, 200, 'a request sent before SIGTERM still completes');
  t.equal(await exited, 0, 'exit code 0');
  await new Promise((r) => setTimeout(r, 300));
  const after = await fetch(`${base}/healthz`).then(
    () => 'answered',
    () => 'refused',
  );
  t.equal(after, 'refused', 'the server itself is gone, not only npm');
  t.match(out, /shutting down/, 'logs the shutdown');
  t.notMatch(out, /Bearer /, 'no bearer token in the logs');
});
