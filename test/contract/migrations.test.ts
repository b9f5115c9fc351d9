import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

// migrations/ is up to date with src/db/schema: drizzle-kit, run on a copy, finds nothing to write.

const repo = fileURLToPath(new URL('../../', import.meta.url));

function listing(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).sort();
}

t.test('drizzle-kit generate finds no schema change (run `npm run db:generate` after changing src/db/schema)', async (t) => {
  const tmp = mkdtempSync(join(tmpdir(), 'keel-migrations-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));
  const out = join(tmp, 'migrations');
  cpSync(join(repo, 'migrations'), out, { recursive: true });
  const before = listing(out);
  // drizzle-kit prefixes `out` with "./", so it must be relative to the working directory.
  const config = join(tmp, 'drizzle.config.ts');
  writeFileSync(
    config,
    `export default ${JSON.stringify({ dialect: 'postgresql', schema: './src/db/schema/index.ts', out: relative(repo, out), strict: true })};\n`,
  );
  const run = spawnSync(process.execPath, [join(repo, 'node_modules/drizzle-kit/bin.cjs'), 'generate', '--config', config], {
    cwd: repo,
    encoding: 'utf8',
    // A rename question would wait for an answer: there is none, and the run times out instead.
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 120_000,
  });
  const output = `${run.stdout}\n${run.stderr}`;
  t.equal(run.status, 0, output);
  const added = listing(out).filter((f) => !before.includes(f));
  t.same(added, [], `the schema needs a new migration:\n${output}`);
  // drizzle-kit exits 0 on some failures (an unreadable snapshot, say): the sentence is the proof.
  t.match(output, /No schema changes, nothing to migrate/, output);
});
