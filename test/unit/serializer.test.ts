import t from 'tap';
import { z } from 'zod';
import { responseSerializerCompiler } from '../../src/lib/serializer.js';
import { customerSchema } from '../../src/modules/customers/customers.schemas.js';
import { problem } from '../../src/lib/schemas.js';

// REST answers are written from the route's zod response schema: only what it names, nothing more.
const customer = {
  id: '0b7e2b8e-5a43-4a34-9d5c-2f1b7a0d9c11',
  kind: 'ORGANIZATION',
  name: 'Nordhafen Logistik GmbH',
  phones: ['+49 40 555 0199'],
  emails: [],
  website: null,
  industry: null,
  region: null,
  address: { line1: 'Am Kai 4', city: 'Hamburg' },
  roles: [],
  lifecycleStage: 'SUSPECT',
  status: 'ACTIVE',
  source: null,
  ownerUserId: null,
  ownerUnitId: '5c1d1d7e-3f0a-4d8e-8b0e-5d2f0c9a7b21',
  mergedIntoId: null,
  version: 3,
  createdAt: '2026-01-02T03:04:05.006Z',
  updatedAt: '2026-01-02T03:04:05.006Z',
};

t.test('writes what the schema names, as zod would have', async (t) => {
  const write = responseSerializerCompiler({ schema: customerSchema });
  t.same(JSON.parse(write(customer)), customerSchema.parse(customer));
});

t.test('drops what the schema does not name (an allow-list)', async (t) => {
  const write = responseSerializerCompiler({ schema: customerSchema });
  const out = JSON.parse(write({ ...customer, nameNorm: 'nordhafen logistik', searchText: 'secret', address: { line1: 'x', secret: 1 } }));
  t.notOk('nameNorm' in out);
  t.notOk('searchText' in out);
  t.same(out.address, { line1: 'x' });
});

t.test('leaves out an optional field that is absent (a hidden field)', async (t) => {
  const write = responseSerializerCompiler({ schema: customerSchema });
  const out = JSON.parse(write(customer));
  t.notOk('creditStatus' in out);
  t.notOk('externalIds' in out);
  t.equal(JSON.parse(write({ ...customer, creditStatus: null })).creditStatus, null);
});

t.test('refuses an answer without a required field', async (t) => {
  const write = responseSerializerCompiler({ schema: customerSchema });
  const { name: _name, ...nameless } = customer;
  t.throws(() => write(nameless));
});

t.test('problems keep their extra members (unmet criteria, candidates)', async (t) => {
  const write = responseSerializerCompiler({ schema: problem });
  const out = JSON.parse(write({ type: 't', title: 'x', status: 422, detail: 'd', code: 'UNPROCESSABLE', unmet: [{ criterion: 'budgetKnown' }] }));
  t.same(out.unmet, [{ criterion: 'budgetKnown' }]);
});

t.test('one compiled writer per schema', async (t) => {
  const schema = z.object({ a: z.string() });
  t.equal(responseSerializerCompiler({ schema }), responseSerializerCompiler({ schema }));
});
