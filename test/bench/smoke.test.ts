import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// The harness at a tiny scale with a few requests per run: it must keep working (seed, in-process
// statement counts, baseline capture, both servers, load runs, report), not measure anything.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

type Result = {
  scenario: string;
  persona: string;
  status: 'ok' | 'unavailable' | 'failed';
  note?: string;
  requests: number;
  errors: number;
  baselineErrors: number;
  baselineRps: number | null;
  peerRps: number | null;
  peerErrors: number;
  statements: number | null;
  statementsByPageSize?: Record<string, number>;
};

t.test('npm run bench completes at the tiny scale', { skip: !process.env.DATABASE_URL && 'the benchmark harness needs PostgreSQL (set DATABASE_URL)' }, async (t) => {
  const dir = mkdtempSync(join(os.tmpdir(), 'keel-bench-smoke-'));
  const dbName = `keel_bench_smoke_${process.pid}_${Math.floor(Math.random() * 1e6)}`;
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const out: string[] = [];
  const code = await new Promise<number | null>((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/run.ts'], {
      cwd: ROOT,
      env: {
        ...process.env,
        BENCH_SCALE: 'tiny',
        BENCH_DB: dbName,
        BENCH_DROP: '1',
        BENCH_RESULTS_DIR: dir,
        BENCH_REQUESTS: '16',
        BENCH_ROUNDS: '1',
        BENCH_PERSONAS: 'partnerSales,partnerManager,admin',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.on('data', (d: Buffer) => out.push(d.toString()));
    child.stderr.on('data', (d: Buffer) => out.push(d.toString()));
    child.on('exit', resolve);
  });
  t.equal(code, 0, `the harness exits cleanly\n${out.join('').slice(-3000)}`);

  const files = readdirSync(dir).filter((f) => f.endsWith('.json'));
  t.equal(files.length, 1, 'one results file is written');
  const report = JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')) as {
    scale: { name: string };
    machine: { cores: number; postgres: string };
    rss: { app: { hwmMb: number } };
    peer: { compared: boolean; reason: string | null; differences: string[] };
    results: Result[];
  };
  t.equal(report.scale.name, 'tiny');
  t.ok(report.machine.cores > 0 && report.machine.postgres, 'the machine is described');
  t.ok(report.rss.app.hwmMb > 0, 'the server RSS is sampled');

  t.same(report.results.filter((r) => r.status === 'failed').map((r) => `${r.scenario} ${r.persona}: ${r.note}`), [], 'no scenario failed its check');
  const ran = report.results.filter((r) => r.status === 'ok');
  // S1–S4 and S7 exist on every branch; the others may still be marked unavailable.
  for (const s of ['S1', 'S2', 'S3', 'S4', 'S7']) t.ok(ran.some((r) => r.scenario === s), `${s} ran`);
  for (const r of ran) {
    t.ok(r.requests > 0, `${r.scenario} ${r.persona} made requests`);
    t.equal(r.errors, 0, `${r.scenario} ${r.persona} had no unexpected answers`);
    t.equal(r.baselineErrors, 0, `${r.scenario} ${r.persona} baseline had no unexpected answers`);
    t.ok((r.statements ?? 0) > 0, `${r.scenario} ${r.persona} statements were counted`);
    if (['S1', 'S2', 'S3', 'S4', 'S5'].includes(r.scenario)) t.ok((r.baselineRps ?? 0) > 0, `${r.scenario} ${r.persona} has a baseline`);
  }
  // The peer (PostGraphile) answers as the app does for every persona, and is measured on S1, S2, S6.
  t.ok(report.peer.compared, `the peer was compared (${report.peer.reason ?? ''}: ${report.peer.differences.slice(0, 5).join('; ')})`);
  for (const r of ran.filter((x) => ['S1', 'S2', 'S6'].includes(x.scenario))) {
    t.ok((r.peerRps ?? 0) > 0, `${r.scenario} ${r.persona} has a peer measurement`);
    t.equal(r.peerErrors, 0, `${r.scenario} ${r.persona} peer had no unexpected answers`);
  }
  for (const r of report.results.filter((x) => x.status === 'unavailable')) t.ok(['S5', 'S6', 'S8'].includes(r.scenario), `${r.scenario} is unavailable only while its endpoint is missing`);
});
