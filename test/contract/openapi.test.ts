import { readFileSync } from 'node:fs';
import { compileErrors, validate } from '@readme/openapi-parser';
import t from 'tap';
import { parse } from 'yaml';
import { buildApp } from '../../src/app.js';
import { createDatabase } from '../../src/db/client.js';
import { renderOpenapi } from '../../src/plugins/openapi-document.js';
import { testConfig } from '../helpers/app.js';

// The committed openapi.yaml is what the server serves, is a valid OpenAPI document, and describes
// every route of api.md §2 that the server has.

const committed = readFileSync(new URL('../../openapi.yaml', import.meta.url), 'utf8');

// api.md §2, transcribed: method and path of every REST route the contract names.
const CONTRACT: [string, string][] = (
  [
    ['GET', '/v1/me'],
    ['GET POST', '/v1/org-units'],
    ['GET PATCH', '/v1/org-units/{id}'],
    ['GET POST', '/v1/users'],
    ['GET PATCH', '/v1/users/{id}'],
    ['GET POST', '/v1/roles'],
    ['GET PATCH', '/v1/roles/{id}'],
    ['GET POST', '/v1/delegations'],
    ['DELETE', '/v1/delegations/{id}'],
    ['POST', '/v1/transfers'],
    ['POST', '/v1/shares'],
    ['DELETE', '/v1/shares/{id}'],
    ['GET POST', '/v1/customers'],
    ['GET PATCH', '/v1/customers/{id}'],
    ['POST', '/v1/customers/{id}/freeze'],
    ['POST', '/v1/customers/{id}/unfreeze'],
    ['POST', '/v1/customers/{id}/merge'],
    ['GET POST', '/v1/customers/{id}/contacts'],
    ['GET PATCH DELETE', '/v1/contacts/{id}'],
    ['GET POST', '/v1/customers/{id}/interactions'],
    ['GET', '/v1/interactions/{id}'],
    ['GET', '/v1/customers/{id}/timeline'],
    ['GET POST', '/v1/customers/{id}/lifecycle-transitions'],
    ['POST', '/v1/customers/{id}/handoffs'],
    ['POST', '/v1/handoffs/{id}/accept'],
    ['POST', '/v1/handoffs/{id}/reject'],
    ['GET', '/v1/handoffs'],
    ['GET', '/v1/customers/{id}/value'],
    ['GET POST', '/v1/pipelines'],
    ['GET PATCH', '/v1/pipelines/{id}'],
    ['GET POST', '/v1/opportunities'],
    ['GET PATCH', '/v1/opportunities/{id}'],
    ['GET POST', '/v1/opportunities/{id}/transitions'],
    ['GET POST', '/v1/opportunities/{id}/actions'],
    ['GET', '/v1/customers/{id}/actions'],
    ['PATCH', '/v1/actions/{id}'],
    ['GET', '/v1/agenda'],
    ['GET', '/v1/reports/funnel'],
    ['GET', '/v1/reports/conversion'],
    ['GET', '/v1/reports/forecast'],
    ['GET', '/v1/reports/value-pyramid'],
    ['GET', '/v1/reports/sources'],
    ['POST', '/v1/plans/decompose'],
    ['PUT', '/v1/customers/external/{system}/{externalId}'],
    ['POST', '/v1/bulk/customers'],
    ['POST', '/v1/bulk/orders'],
    ['GET', '/v1/events'],
    ['GET POST', '/v1/webhooks'],
    ['DELETE', '/v1/webhooks/{id}'],
  ] as const
).flatMap(([methods, path]) => methods.split(' ').map((m): [string, string] => [m, path]));

// Built so far: these must exist now; the rest are checked as they appear.
const FOUNDATION = ['/v1/me', '/v1/org-units', '/v1/users', '/v1/roles', '/v1/shares', '/v1/customers', '/v1/contacts/{id}'];

// Path parameters compare by position, not by name.
const shape = (path: string) => path.replace(/\{[^}]+\}/g, '{}');

t.test('openapi.yaml is the document the code generates (run `npm run openapi` after changing a route)', async (t) => {
  const rendered = await renderOpenapi();
  t.equal(committed, rendered, 'openapi.yaml is stale: run `npm run openapi` and commit the result');
});

t.test('openapi.yaml is a valid OpenAPI document', async (t) => {
  const result = await validate(parse(committed) as Parameters<typeof validate>[0]);
  t.ok(result.valid, result.valid ? 'valid' : compileErrors(result));
  t.equal(parse(committed).openapi, '3.1.0');
});

t.test('the server serves the same document at /docs, and documents every contract route it has', async (t) => {
  const database = await createDatabase({ dataDir: 'memory://' });
  // A throw-away app: routes answer 401 without a token before touching the database.
  const app = await buildApp(testConfig({ DATABASE_URL: '' }), { database, migrate: false, logger: false });
  await app.ready();
  t.teardown(async () => {
    await app.close();
    await database.close();
  });

  const served = await app.inject({ method: 'GET', url: '/docs/yaml' });
  t.equal(served.statusCode, 200);
  t.same(parse(served.body), parse(committed), 'GET /docs/yaml serves openapi.yaml');

  const doc = parse(committed) as { paths: Record<string, Record<string, unknown>> };
  const documented = new Map(Object.entries(doc.paths).map(([p, ops]) => [shape(p), new Set(Object.keys(ops).map((m) => m.toUpperCase()))]));
  const present: string[] = [];
  for (const [method, path] of CONTRACT) {
    const url = path.replace(/\{[^}]+\}/g, '00000000-0000-4000-8000-000000000000');
    const res = await app.inject({ method: method as 'GET', url, ...(method === 'GET' || method === 'DELETE' ? {} : { payload: {} }) });
    // An unknown route is 404 whoever asks; a known one wants a token first.
    if (res.statusCode === 404) continue;
    t.equal(res.statusCode, 401, `${method} ${path} answers 401 without a token`);
    present.push(path);
    t.ok(documented.get(shape(path))?.has(method), `${method} ${path} is in openapi.yaml`);
  }
  for (const path of FOUNDATION) t.ok(present.includes(path), `${path} is served`);
  t.comment(`${new Set(present).size} of ${new Set(CONTRACT.map(([, p]) => p)).size} contract paths are served`);
});
