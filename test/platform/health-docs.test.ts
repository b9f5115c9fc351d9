import t from 'tap';
import { buildApp } from '../../src/app.js';
import { createDatabase } from '../../src/db/client.js';
import { buildTestApp, testConfig } from '../helpers/app.js';

const app = await buildTestApp();
t.teardown(() => app.close());

t.test('health: alive and ready', async (t) => {
  const h = await app.rest(null, 'GET', '/healthz');
  t.equal(h.status, 200);
  t.same(h.body, { status: 'ok' });
  const r = await app.rest(null, 'GET', '/readyz');
  t.equal(r.status, 200);
  t.same(r.body, { status: 'ok' });
});

t.test('readyz answers 503 once the database is gone; healthz stays 200', async (t) => {
  // Its own embedded database, so closing it harms nobody else.
  const database = await createDatabase({ dataDir: 'memory://' });
  const own = await buildApp(testConfig({ DATABASE_URL: '' }), { database, migrate: false, logger: false });
  await own.ready();
  t.teardown(() => own.close());
  t.equal((await own.inject({ method: 'GET', url: '/readyz' })).statusCode, 200, 'ready while the database is up');
  await database.close();
  const r = await own.inject({ method: 'GET', url: '/readyz' });
  t.equal(r.statusCode, 503);
  t.same(JSON.parse(r.body), { status: 'unavailable' });
  t.notMatch(r.body, /closed|PGlite|Error/, 'no internals');
  t.equal((await own.inject({ method: 'GET', url: '/healthz' })).statusCode, 200, 'the process is still alive');
});

t.test('readyz answers 503 when a PostgreSQL pool is gone', { skip: !process.env.DATABASE_URL && 'needs DATABASE_URL' }, async (t) => {
  const database = await createDatabase({ url: process.env.DATABASE_URL, poolSize: 1 });
  const own = await buildApp(testConfig(), { database, migrate: false, logger: false });
  await own.ready();
  t.teardown(() => own.close());
  t.equal((await own.inject({ method: 'GET', url: '/readyz' })).statusCode, 200);
  await database.close();
  t.equal((await own.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
});

t.test('docs: the OpenAPI UI and document', async (t) => {
  const ui = await app.inject({ method: 'GET', url: '/docs' });
  t.equal(ui.statusCode, 200);
  t.match(ui.headers['content-type'], /text\/html/);
  t.match(ui.body, /swagger/i);
  const doc = await app.inject({ method: 'GET', url: '/docs/json' });
  t.equal(doc.statusCode, 200);
  const json = JSON.parse(doc.body);
  t.match(json.openapi, /^3\./);
  for (const p of ['/v1/me', '/v1/org-units', '/v1/org-units/{id}', '/v1/users', '/v1/users/{id}', '/v1/roles', '/v1/roles/{id}', '/v1/shares', '/v1/shares/{id}']) {
    t.ok(json.paths[p], `documents ${p}`);
  }
  t.notOk(json.paths['/graphql'], 'GraphQL is described by schema.graphql');
  t.notOk(json.paths['/healthz'], 'health probes are not part of the API document');
  t.ok(json.components?.securitySchemes?.bearer, 'bearer auth declared');
  const yaml = await app.inject({ method: 'GET', url: '/docs/yaml' });
  t.equal(yaml.statusCode, 200, 'also as YAML');
});

t.test('graphiql outside production only', async (t) => {
  const gi = await app.inject({ method: 'GET', url: '/graphiql' });
  t.equal(gi.statusCode, 200);
  t.match(gi.headers['content-type'], /text\/html/);
  const prod = await buildApp(testConfig({ NODE_ENV: 'production' }), { database: app.database, migrate: false, logger: false });
  await prod.ready();
  t.teardown(() => prod.close());
  t.equal((await prod.inject({ method: 'GET', url: '/graphiql' })).statusCode, 404, 'no GraphiQL in production');
  t.equal((await prod.inject({ method: 'GET', url: '/docs' })).statusCode, 200, 'the API docs stay');
});
