import t from 'tap';
import { buildTestApp } from '../helpers/app.js';

// A known path with a method it does not serve: 405 problem+json with Allow, from the route table
// itself (so a new route is covered without a list to keep); an unknown path stays 404.

const app = await buildTestApp();
t.teardown(() => app.close());

const uuid = '00000000-0000-4000-8000-000000000000';

t.test('a known path, another method: 405 METHOD_NOT_ALLOWED with Allow', async (t) => {
  const admin = await app.admin();
  const cases: [string, string, string[]][] = [
    ['PUT', `/v1/customers/${uuid}`, ['GET', 'HEAD', 'PATCH']],
    ['DELETE', `/v1/customers/${uuid}`, ['GET', 'HEAD', 'PATCH']],
    ['PUT', '/v1/org-units', ['GET', 'HEAD', 'POST']],
    ['DELETE', '/v1/customers', ['GET', 'HEAD', 'POST']],
    ['POST', '/v1/me', ['GET', 'HEAD']],
    ['POST', '/healthz', ['GET', 'HEAD']],
  ];
  for (const [method, url, allow] of cases) {
    for (const who of [admin, null]) {
      const res = await app.rest(who, method as 'PUT', url, method === 'DELETE' ? undefined : {});
      t.equal(res.status, 405, `${method} ${url} (${who ? 'with' : 'without'} a token): 405`);
      t.match(String(res.headers['content-type']), /^application\/problem\+json/);
      t.match(res.body, { code: 'METHOD_NOT_ALLOWED', status: 405, title: String, detail: String, type: /^https:\/\// });
      t.same(String(res.headers.allow).split(', '), allow, `Allow: ${allow.join(', ')}`);
    }
  }
});

t.test('the methods a path serves still answer; unknown paths stay 404', async (t) => {
  const admin = await app.admin();
  t.equal((await app.rest(admin, 'GET', `/v1/customers/${uuid}`)).status, 404, 'GET of an unknown customer: 404 as before');
  for (const [method, url] of [
    ['GET', '/v1/definitely-not-a-route'],
    ['PUT', '/v1/definitely-not-a-route'],
    ['PUT', `/v1/customers/${uuid}/no-such-thing`],
    ['DELETE', '/nothing-here'],
  ] as const) {
    const res = await app.rest(admin, method, url, method === 'PUT' ? {} : undefined);
    t.equal(res.status, 404, `${method} ${url}: 404`);
    t.equal(res.body.code, 'NOT_FOUND');
    t.notOk(res.headers.allow, 'no Allow on a 404');
  }
});
