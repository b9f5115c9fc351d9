// Start-up memory of the compiled server: what each top-level import costs when loaded alone, and
// the resident set and heap once the app is built and ready (no request served).
//
//   npm run build && [STARTUP_DIST=dist] DATABASE_URL=postgresql://postgres@127.0.0.1:5432/keel_bench_gql npx tsx bench/startup-memory.ts [runs]
//
// Every figure comes from a fresh `node --expose-gc` process (NODE_ENV=production, jobs off), read
// with `process.memoryUsage()` after a full collection; the median of `runs` processes (default 3).
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const dist = resolve(import.meta.dirname, '..', process.env.STARTUP_DIST ?? 'dist');
const runs = Number(process.argv[2] ?? 3);

const MEASURE = `globalThis.gc(); globalThis.gc(); const m = process.memoryUsage();
console.log(JSON.stringify({ rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal }));`;

// Each entry is loaded alone on top of a bare Node process.
const imports: [string, string][] = [
  ['node alone', ''],
  ['fastify', `await import('fastify');`],
  ['mercurius + graphql', `await import('mercurius');`],
  ['pg-boss', `await import('pg-boss');`],
  ['prom-client', `await import('prom-client');`],
  ['@fastify/swagger + swagger-ui', `await import('@fastify/swagger'); await import('@fastify/swagger-ui');`],
  ['zod + fastify-type-provider-zod', `await import('fastify-type-provider-zod');`],
  ['drizzle-orm + pg', `await import('drizzle-orm/node-postgres');`],
  ['dist/plugins/openapi.js', `await import('${pathToFileURL(`${dist}/plugins/openapi.js`)}');`],
  ['dist/plugins/graphql.js', `await import('${pathToFileURL(`${dist}/plugins/graphql.js`)}');`],
  ['dist/lib/job-queue.js', `await import('${pathToFileURL(`${dist}/lib/job-queue.js`)}');`],
  ['dist/app.js (all modules)', `await import('${pathToFileURL(`${dist}/app.js`)}');`],
];

const READY = `const { buildApp } = await import('${pathToFileURL(`${dist}/app.js`)}');
const { loadConfig } = await import('${pathToFileURL(`${dist}/config.js`)}');
const app = await buildApp(loadConfig(process.env), { logger: false, migrate: false });
await app.ready();
${MEASURE}
await app.close();`;
const READY_MARK = '// ready';

type Mem = { rss: number; heapUsed: number; heapTotal: number };

function sample(code: string): Mem {
  const script = code.includes(READY_MARK) ? code : `${code}\n${MEASURE}`;
  const out = execFileSync(process.execPath, ['--expose-gc', '--input-type=module', '-e', script], {
    cwd: resolve(import.meta.dirname, '..'),
    env: { JWT_SECRET: 'startup-memory-secret-startup-memory', ...process.env, NODE_ENV: 'production', JOBS_ENABLED: process.env.JOBS_ENABLED ?? 'false', LOG_LEVEL: 'silent' },
    encoding: 'utf8',
  });
  const lines = out.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!) as Mem;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const mb = (n: number) => (n / 1048576).toFixed(1);

function measure(label: string, code: string, base?: Mem): Mem {
  const samples = Array.from({ length: runs }, () => sample(code));
  const m = { rss: median(samples.map((s) => s.rss)), heapUsed: median(samples.map((s) => s.heapUsed)), heapTotal: median(samples.map((s) => s.heapTotal)) };
  const extra = base ? `  (+${mb(m.rss - base.rss)} rss, +${mb(m.heapUsed - base.heapUsed)} heap)` : '';
  console.log(`${label.padEnd(34)} rss ${mb(m.rss).padStart(6)}  heapUsed ${mb(m.heapUsed).padStart(6)}  heapTotal ${mb(m.heapTotal).padStart(6)} MB${extra}`);
  return m;
}

const only = process.env.STARTUP_ONLY; // 'ready' measures the ready app only
let base: Mem | undefined;
if (only !== 'ready') for (const [label, code] of imports) {
  const m = measure(label, code, base);
  base ??= m;
}
measure(`ready (jobs ${process.env.JOBS_ENABLED === 'true' ? 'on' : 'off'})`, `${READY_MARK}\n${READY}`, base);
