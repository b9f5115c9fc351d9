import { randomUUID } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import openapiTS, { astToString } from 'openapi-typescript';
import tap from 'tap';
import ts from 'typescript';
import { buildTestApp } from '../helpers/app.js';
import { tag } from '../helpers/factories.js';

// A typed client proves the contract (issue 11, item 7; docs/integration.md "Typed client"):
// TypeScript types generated from openapi.yaml by openapi-typescript, a sync driven through
// openapi-fetch against the app listening on a real port, and the driver type-checked by tsc.
// The types are generated into a fresh directory on every run (never committed, so they cannot drift
// from openapi.yaml); the directory sits under node_modules/.cache so that the driver resolves
// openapi-fetch from the project. A driver naming a field the contract does not have must not compile.

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const dir = join(root, 'node_modules', '.cache', 'keel-typed-client', randomUUID());

// The sync an ERP runs: upsert by external id, bulk load, read back what changed.
const DRIVER = `import createClient from 'openapi-fetch';
import type { paths } from './openapi.js';

export async function drive(baseUrl: string, token: string, k: string) {
  const client = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } });
  const put = await client.PUT('/v1/customers/external/{system}/{externalId}', {
    params: { path: { system: 'erp', externalId: \`TC-\${k}\` } },
    body: { kind: 'ORGANIZATION', name: \`Typed \${k}\`, industry: 'Machinery' },
  });
  if (!put.data) throw new Error(\`upsert: \${put.response.status} \${JSON.stringify(put.error)}\`);
  const since: string = new Date(Date.parse(put.data.updatedAt) - 1).toISOString();
  const again = await client.PUT('/v1/customers/external/{system}/{externalId}', {
    params: { path: { system: 'erp', externalId: \`TC-\${k}\` } },
    body: { industry: 'Machinery' },
  });
  const bulk = await client.POST('/v1/bulk/customers', {
    body: {
      system: 'erp',
      atomic: true,
      rows: [
        { externalId: \`TB1-\${k}\`, kind: 'ORGANIZATION', name: \`Typed bulk one \${k}\` },
        { externalId: \`TB2-\${k}\`, kind: 'PERSON', name: \`Typed bulk two \${k}\` },
      ],
    },
  });
  if (!bulk.data) throw new Error(\`bulk: \${bulk.response.status} \${JSON.stringify(bulk.error)}\`);
  const read: { id: string; name: string; externalIds: Record<string, string> | null | undefined }[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.GET('/v1/customers', { params: { query: { updatedAfter: since, sort: 'updatedAt', limit: 200, count: 'true', ...(cursor ? { cursor } : {}) } } });
    if (!page.data) throw new Error(\`read: \${page.response.status} \${JSON.stringify(page.error)}\`);
    for (const c of page.data.data) read.push({ id: c.id, name: c.name, externalIds: c.externalIds });
    cursor = page.data.nextCursor ?? undefined;
  } while (cursor);
  return {
    created: { status: put.response.status, id: put.data.id, version: put.data.version },
    unchanged: { status: again.response.status, version: again.data?.version },
    bulk: bulk.data.summary,
    read,
  };
}
`;

// The same client, with a field name the contract does not have (a typo an integrator could make).
const WRONG = `import createClient from 'openapi-fetch';
import type { paths } from './openapi.js';

const client = createClient<paths>({ baseUrl: 'http://localhost' });
export const a = client.PUT('/v1/customers/external/{system}/{externalId}', {
  params: { path: { system: 'erp', externalId: 'x' } },
  body: { kind: 'ORGANIZATION', nmae: 'Typo' },
});
export const b = client.GET('/v1/customers', { params: { query: { updatedSince: '2026-01-01T00:00:00Z' } } });
export const c = client.GET('/v1/customers').then((r) => r.data?.data[0]?.externalId);
`;

// One program for both files (the generated types are large: compiled once), its errors per file.
function typeErrors(files: string[]): Map<string, string[]> {
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: [],
  });
  const out = new Map<string, string[]>(files.map((f) => [f.split('/').pop() ?? f, []]));
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const name = d.file?.fileName.split('/').pop() ?? '';
    const line = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start).line + 1 : 0;
    const list = out.get(name) ?? [];
    list.push(`${name}:${line} ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    out.set(name, list);
  }
  return out;
}

const app = await buildTestApp();
tap.teardown(async () => {
  await app.close();
  await rm(dir, { recursive: true, force: true });
});

await mkdir(dir, { recursive: true });
// A package.json of its own makes the directory an ES module scope, as the project is.
await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
await writeFile(join(dir, 'openapi.ts'), astToString(await openapiTS(pathToFileURL(join(root, 'openapi.yaml')))));
await writeFile(join(dir, 'drive.ts'), DRIVER);
await writeFile(join(dir, 'wrong.ts'), WRONG);

const checked = typeErrors([join(dir, 'drive.ts'), join(dir, 'wrong.ts')]);

tap.test('the driver type-checks against the types generated from openapi.yaml', async (t) => {
  t.same(checked.get('drive.ts'), []);
  t.same(checked.get('openapi.ts') ?? [], [], 'the generated types compile');
});

tap.test('a wrong field name fails the type check: body, query parameter and answer', async (t) => {
  const errors = checked.get('wrong.ts') ?? [];
  t.ok(errors.some((e) => e.startsWith('wrong.ts:7') && e.includes('nmae')), `the body's unknown field: ${errors.join(' | ')}`);
  t.ok(errors.some((e) => e.startsWith('wrong.ts:9') && e.includes('updatedSince')), 'the unknown query parameter');
  t.ok(errors.some((e) => e.startsWith('wrong.ts:10') && e.includes("'externalId'")), 'the unknown answer field');
});

tap.test('the typed client drives a sync against the app on a real port', async (t) => {
  const address = await app.app.listen({ host: '127.0.0.1', port: 0 });
  const erp = await app.user(await app.root(), ['integration']);
  const k = tag();
  const { drive } = (await import(pathToFileURL(join(dir, 'drive.ts')).href)) as { drive: (u: string, tk: string, k: string) => Promise<any> };
  const out = await drive(address, erp.token, k);
  t.match(out.created, { status: 201, version: 1 });
  t.same(out.unchanged, { status: 200, version: 1 }, 'the same body again writes nothing');
  t.same(out.bulk, { created: 2, updated: 0, unchanged: 0, failed: 0 });
  const ours = out.read.filter((c: { externalIds?: Record<string, string> | null }) => c.externalIds?.erp?.endsWith(`-${k}`));
  t.same(ours.map((c: { externalIds: Record<string, string> }) => c.externalIds.erp).sort(), [`TB1-${k}`, `TB2-${k}`, `TC-${k}`], 'the read back sees the upserted and the bulk-loaded customers');
});
