import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';

const run = promisify(execFile);
const root = new URL('../../', import.meta.url).pathname;
const depcruise = join(root, 'node_modules/.bin/depcruise');

async function cruise(cwd: string): Promise<{ code: number; out: string }> {
  try {
    const r = await run(depcruise, ['src', '--config', '.dependency-cruiser.cjs'], { cwd });
    return { code: 0, out: r.stdout };
  } catch (e) {
    const err = e as { code?: number; stdout?: string };
    return { code: err.code ?? 1, out: err.stdout ?? '' };
  }
}

t.test('the module boundaries hold in src/', async (t) => {
  const r = await cruise(root);
  t.equal(r.code, 0, r.out);
});

// The check is only worth something if it fails: plant one violation of each rule in a copy.
t.test('a planted violation of each rule fails the check', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'keel-boundaries-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  for (const f of ['src', 'tsconfig.json', '.dependency-cruiser.cjs']) cpSync(join(root, f), join(dir, f), { recursive: true });
  writeFileSync(join(dir, 'src/modules/reports/planted.ts'), "export { customersRepository } from '../customers/customers.repository.js';\n");
  writeFileSync(join(dir, 'src/lib/planted.ts'), "export { orgRoutes } from '../modules/org/index.js';\n");
  writeFileSync(join(dir, 'src/modules/reports/planted.service.ts'), "export { customers } from '../../db/schema/index.js';\n");
  const r = await cruise(dir);
  t.not(r.code, 0);
  for (const rule of ['module-internals', 'lib-is-a-leaf', 'no-tables-in-services-or-plugins']) t.match(r.out, rule);
});
