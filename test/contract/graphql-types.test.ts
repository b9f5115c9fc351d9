import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import t from 'tap';
import config from '../../codegen.js';

// The resolver types are generated from schema.graphql and committed; the resolvers are typed with them,
// so a resolver whose name or arguments drift from the schema fails the typecheck. This checks the
// committed file is what the generator makes of the schema today.

const root = fileURLToPath(new URL('../../', import.meta.url));
const OUTPUT = 'src/lib/graphql.generated.ts';

t.test(`${OUTPUT} is what \`npm run codegen\` makes of schema.graphql`, async (t) => {
  const target = config.generates[OUTPUT];
  t.ok(target, `codegen.ts writes ${OUTPUT}`);
  if (!target) return;
  const dir = mkdtempSync(join(tmpdir(), 'keel-codegen-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fresh = join(dir, 'graphql.generated.ts');
  await generate({ ...config, cwd: root, silent: true, generates: { [fresh]: target } }, true);
  const committed = readFileSync(join(root, OUTPUT), 'utf8');
  t.equal(committed, readFileSync(fresh, 'utf8'), `${OUTPUT} is stale: run \`npm run codegen\` and commit the result`);
});

t.test('the generated file keeps src/lib a leaf: it imports graphql and mercurius only', async (t) => {
  const source = readFileSync(join(root, OUTPUT), 'utf8');
  const imported = [...source.matchAll(/^import\b[^;]*?from '([^']+)'/gm)].map((m) => m[1]);
  t.ok(imported.length > 0);
  t.same([...new Set(imported)].sort(), ['graphql', 'mercurius']);
});
