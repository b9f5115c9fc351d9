import t from 'tap';
import { z } from 'zod';
import { mergePatch, mergePatchOf, patchedField, sameJson } from '../../src/lib/merge-patch.js';
import { AppError } from '../../src/lib/errors.js';

// JSON merge patch as RFC 7386 defines it, without a database.

t.test('mergePatch: the examples of RFC 7386 appendix A', async (t) => {
  const cases: [unknown, unknown, unknown][] = [
    [{ a: 'b' }, { a: 'c' }, { a: 'c' }],
    [{ a: 'b' }, { b: 'c' }, { a: 'b', b: 'c' }],
    [{ a: 'b' }, { a: null }, {}],
    [{ a: 'b', b: 'c' }, { a: null }, { b: 'c' }],
    [{ a: ['b'] }, { a: 'c' }, { a: 'c' }],
    [{ a: 'c' }, { a: ['b'] }, { a: ['b'] }],
    [{ a: { b: 'c' } }, { a: { b: 'd', c: null } }, { a: { b: 'd' } }],
    [{ a: [{ b: 'c' }] }, { a: [1] }, { a: [1] }],
    [['a', 'b'], ['c', 'd'], ['c', 'd']],
    [{ a: 'b' }, ['c'], ['c']],
    [{ a: 'foo' }, null, null],
    [{ a: 'foo' }, 'bar', 'bar'],
    [{ e: null }, { a: 1 }, { e: null, a: 1 }],
    [[1, 2], { a: 'b', c: null }, { a: 'b' }],
    [{}, { a: { bb: { ccc: null } } }, { a: { bb: {} } }],
  ];
  for (const [target, patch, result] of cases) {
    t.same(mergePatch(target, patch), result, `${JSON.stringify(target)} + ${JSON.stringify(patch)}`);
  }
});

t.test('mergePatch leaves its arguments alone and skips undefined members', async (t) => {
  const target = { address: { city: 'Kiel', line1: 'Am Kai 4' }, erp: 'E1' };
  const patch = { address: { city: 'Lübeck', line1: undefined }, erp: null };
  t.same(mergePatch(target, patch), { address: { city: 'Lübeck', line1: 'Am Kai 4' } });
  t.same(target, { address: { city: 'Kiel', line1: 'Am Kai 4' }, erp: 'E1' }, 'target unchanged');
  t.same(patch, { address: { city: 'Lübeck', line1: undefined }, erp: null }, 'patch unchanged');
});

const source = z.object({ channel: z.enum(['EVENT', 'MEDIA']), campaign: z.string().max(5).nullish() }).strict();

t.test('mergePatchOf: every member optional, null allowed, values checked, unknown keys refused', async (t) => {
  const patch = mergePatchOf(source);
  t.ok(patch.safeParse({}).success);
  t.ok(patch.safeParse({ channel: null, campaign: null }).success);
  t.ok(patch.safeParse({ campaign: 'x' }).success);
  t.notOk(patch.safeParse({ channel: 'RADIO' }).success);
  t.notOk(patch.safeParse({ campaign: 'too long' }).success);
  t.notOk(patch.safeParse({ other: 1 }).success);
});

t.test('patchedField: the merged result is validated as a whole, errors named under the field', async (t) => {
  t.same(patchedField('source', source, { channel: 'EVENT', campaign: 'a' }, { campaign: 'b' }), { channel: 'EVENT', campaign: 'b' });
  t.same(patchedField('source', source, { channel: 'EVENT', campaign: 'a' }, { campaign: null }), { channel: 'EVENT' });
  t.equal(patchedField('source', source, { channel: 'EVENT' }, null), null, 'null clears the field');
  try {
    patchedField('source', source, null, { campaign: 'b' });
    t.fail('a source without a channel is refused');
  } catch (e) {
    t.ok(e instanceof AppError);
    t.match(e, { code: 'VALIDATION_FAILED', errors: [{ path: 'source.channel' }] });
    t.equal((e as AppError).errors?.length, 1);
  }
});

t.test('sameJson: member order does not matter, array order does', async (t) => {
  t.ok(sameJson({ a: 1, b: { c: 2, d: 3 } }, { b: { d: 3, c: 2 }, a: 1 }));
  t.ok(sameJson(undefined, null));
  t.notOk(sameJson([1, 2], [2, 1]));
  t.notOk(sameJson({ a: 1 }, { a: 1, b: null }));
});
