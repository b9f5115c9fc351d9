import t from 'tap';
import { users } from '../../src/db/schema/index.js';
import { AppError, ERROR_MAP, toProblem } from '../../src/lib/errors.js';
import { parseIfMatch } from '../../src/lib/http.js';
import { cursorForSort, cursorParam, decodeCursor, encodeCursor, keyset, limitSchema, pageOf, parseSort, sortKey } from '../../src/lib/pagination.js';
import { fieldErrors } from '../../src/lib/validation.js';
import { lowestCommonUnit } from '../../src/modules/customers/customers.service.js';

// The error `fn` throws (undefined when it does not throw).
function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

function isAppError(err: unknown, code: string, path: string): boolean {
  return err instanceof AppError && err.code === code && err.errors?.length === 1 && err.errors[0]?.path === path;
}

t.test('parseIfMatch', async (t) => {
  t.equal(parseIfMatch('"3"'), 3);
  t.equal(parseIfMatch('W/"3"'), 3, 'weak validator');
  t.equal(parseIfMatch(' "42" '), 42, 'surrounding space');
  t.equal(parseIfMatch('7'), 7, 'unquoted number is tolerated');
  t.equal(parseIfMatch('*'), undefined, 'any version');
  t.equal(parseIfMatch(undefined), undefined, 'no header');
  t.equal(parseIfMatch(['"5"', '"6"']), 5, 'first of repeated headers');
  for (const bad of ['garbage', '"abc"', '', 'W/', '"3', '"-1"', '"1.5"', '"1234567890"', '"3", "4"']) {
    t.ok(isAppError(caught(() => parseIfMatch(bad)), 'VALIDATION_FAILED', 'If-Match'), `refuses ${JSON.stringify(bad)}`);
  }
  t.equal((caught(() => parseIfMatch('nope')) as AppError).status, 400, 'answers 400');
});

t.test('cursor encode/decode round-trips and refuses anything else', async (t) => {
  const values = ['2026-01-01T00:00:00.000Z', 'b8a1b0d2-0000-4000-8000-000000000001', 3, null];
  const c = encodeCursor(values);
  t.match(c, /^[A-Za-z0-9_-]+$/, 'url-safe, opaque');
  t.same(decodeCursor(c, 4), values);
  t.ok(isAppError(caught(() => decodeCursor(c, 2)), 'VALIDATION_FAILED', 'cursor'));
  t.ok(isAppError(caught(() => decodeCursor('not-a-cursor', 2)), 'VALIDATION_FAILED', 'cursor'));
  t.ok(isAppError(caught(() => decodeCursor('', 2)), 'VALIDATION_FAILED', 'cursor'));
  t.ok(isAppError(caught(() => decodeCursor(Buffer.from('{"a":1}').toString('base64url'), 1)), 'VALIDATION_FAILED', 'cursor'));
  t.ok(isAppError(caught(() => decodeCursor(Buffer.from('[{"a":1},"x"]').toString('base64url'), 2)), 'VALIDATION_FAILED', 'cursor'));
  t.ok(isAppError(caught(() => decodeCursor(Buffer.from('[true,"x"]').toString('base64url'), 2)), 'VALIDATION_FAILED', 'cursor'));
});

t.test('a sortable list\'s cursor carries its sort and is refused with another', async (t) => {
  const id = 'b8a1b0d2-0000-4000-8000-000000000001';
  t.equal(sortKey({ field: 'name', desc: true }), '-name');
  t.equal(sortKey({ field: 'createdAt', desc: false }), 'createdAt');
  const c = encodeCursor(['acme', id], '-name');
  t.match(c, /^[A-Za-z0-9_-]+$/, 'still url-safe and opaque');
  t.notOk(Buffer.from(c, 'base64url').toString('utf8').startsWith('['), 'not a bare position');
  t.same(decodeCursor(c, 2, '-name'), ['acme', id]);
  for (const other of ['name', 'createdAt', '-createdAt', '']) {
    const err = caught(() => decodeCursor(c, 2, other));
    t.ok(isAppError(err, 'VALIDATION_FAILED', 'cursor'), `refused for sort ${JSON.stringify(other)}`);
    t.equal((err as AppError).status, 400);
  }
  t.ok(isAppError(caught(() => decodeCursor(encodeCursor(['acme', id]), 2, '-name')), 'VALIDATION_FAILED', 'cursor'), 'a position without a sort is refused by a sorted list');
  t.ok(isAppError(caught(() => decodeCursor(c, 2)), 'VALIDATION_FAILED', 'cursor'), 'a sorted cursor is refused by a list without sorts');
  t.ok(isAppError(caught(() => decodeCursor(Buffer.from('{"s":"-name"}').toString('base64url'), 2, '-name')), 'VALIDATION_FAILED', 'cursor'), 'no position');
  // cursorForSort: the position inside, in the form keyset() reads.
  t.same(decodeCursor(cursorForSort(c, '-name') ?? '', 2), ['acme', id]);
  t.equal(cursorForSort(undefined, '-name'), undefined);
  t.equal(cursorForSort('', '-name'), undefined, 'an empty cursor is the first page');
  t.ok(isAppError(caught(() => cursorForSort(c, 'name')), 'VALIDATION_FAILED', 'cursor'));
  // pageOf with a sort mints cursors that carry it.
  const pg = pageOf([{ k: 'a' }, { k: 'b' }], 1, (r) => [r.k, id], 'name');
  t.same(decodeCursor(pg.nextCursor ?? '', 2, 'name'), ['a', id]);
  t.same(pg.cursors?.map((x) => decodeCursor(x, 2, 'name')[0]), ['a']);
});

t.test('a cursor never carries a control character or an unstorable time to the database', async (t) => {
  const id = '4c4f1a52-1111-4111-8111-111111111111';
  t.ok(isAppError(caught(() => decodeCursor(encodeCursor(['a\u0000', id]), 2)), 'VALIDATION_FAILED', 'cursor'));
  t.ok(isAppError(caught(() => decodeCursor(encodeCursor(['a\u001b', id], 'name'), 2, 'name')), 'VALIDATION_FAILED', 'cursor'));
  t.ok(isAppError(caught(() => decodeCursor(Buffer.from('[1e999,"x"]').toString('base64url'), 2)), 'VALIDATION_FAILED', 'cursor'), 'no infinity');
  const spec = { column: users.createdAt, desc: false, kind: 'timestamp' as const };
  for (const at of ['0000-01-01T00:00:00.000Z', '1899-12-31T23:59:59.999Z', '9999-12-31T23:00:00-05:00']) {
    t.ok(isAppError(caught(() => keyset(spec, users.id, encodeCursor([at, id]))), 'VALIDATION_FAILED', 'cursor'), at);
  }
  t.ok(keyset(spec, users.id, encodeCursor(['1900-01-01T00:00:00.000Z', id])).where, 'the edge of the range is a position');
  // What clients send back: base64url only, long enough for a long name sort.
  t.ok(cursorParam.safeParse(encodeCursor(['\u{1F600}'.repeat(300), id], '-name')).success, 'a 300-character name in four-byte characters');
  for (const bad of ['a b', 'a+b', 'a/b', 'a=', '\u0000', 'x'.repeat(2001)]) t.notOk(cursorParam.safeParse(bad).success, JSON.stringify(bad.slice(0, 10)));
});

t.test('keyset: order by (column, id), a cursor of the wrong shape is refused', async (t) => {
  const spec = { column: users.createdAt, desc: false, kind: 'timestamp' as const };
  const first = keyset(spec, users.id, undefined);
  t.equal(first.where, undefined, 'no cursor, no condition');
  t.equal(first.orderBy.length, 2, 'sort column then id');
  const next = keyset(spec, users.id, encodeCursor(['2026-01-01T00:00:00.000Z', '4c4f1a52-1111-4111-8111-111111111111']));
  t.ok(next.where, 'a cursor gives a condition');
  t.ok(isAppError(caught(() => keyset(spec, users.id, encodeCursor([1, 'x']))), 'VALIDATION_FAILED', 'cursor'));
  t.ok(isAppError(caught(() => keyset(spec, users.id, encodeCursor(['a', null]))), 'VALIDATION_FAILED', 'cursor'));
  t.ok(isAppError(caught(() => keyset(spec, users.id, encodeCursor(['a']))), 'VALIDATION_FAILED', 'cursor'));
});

t.test('pageOf: one extra row means a next page', async (t) => {
  const rows = [{ k: 'a' }, { k: 'b' }, { k: 'c' }];
  const pg = pageOf(rows, 2, (r) => [r.k]);
  t.same(pg.data, [{ k: 'a' }, { k: 'b' }]);
  t.same(decodeCursor(pg.nextCursor ?? '', 1), ['b'], 'next cursor is the last row shown');
  t.equal(pg.cursors?.length, 2);
  const last = pageOf(rows, 3, (r) => [r.k]);
  t.equal(last.nextCursor, null);
  t.equal(pageOf([], 10, () => []).nextCursor, null);
});

t.test('limit: default 50, 1..200', async (t) => {
  t.equal(limitSchema.parse(undefined), 50);
  t.equal(limitSchema.parse('200'), 200);
  t.notOk(limitSchema.safeParse('201').success);
  t.notOk(limitSchema.safeParse('0').success);
  t.notOk(limitSchema.safeParse('x').success);
});

t.test('parseSort', async (t) => {
  const allowed = ['name', 'createdAt', 'updatedAt'] as const;
  t.same(parseSort(undefined, allowed, '-updatedAt'), { field: 'updatedAt', desc: true }, 'fallback');
  t.same(parseSort('name', allowed, '-updatedAt'), { field: 'name', desc: false });
  t.same(parseSort('-createdAt', allowed, 'name'), { field: 'createdAt', desc: true });
  for (const bad of ['email', '--name', '+name', '', '-', 'name,createdAt']) t.ok(isAppError(caught(() => parseSort(bad, allowed, 'name')), 'VALIDATION_FAILED', 'sort'), `refuses ${JSON.stringify(bad)}`);
});

t.test('lowestCommonUnit: the deepest unit above both paths', async (t) => {
  t.equal(lowestCommonUnit('/r/a/b/', '/r/a/c/'), 'a');
  t.equal(lowestCommonUnit('/r/a/b/', '/r/a/b/'), 'b', 'same unit');
  t.equal(lowestCommonUnit('/r/a/', '/r/a/b/c/'), 'a', 'one above the other');
  t.equal(lowestCommonUnit('/r/a/b/c/', '/r/a/'), 'a', 'symmetric');
  t.equal(lowestCommonUnit('/r/x/', '/r/y/'), 'r', 'siblings meet at the root');
  t.equal(lowestCommonUnit('/r/', '/r/'), 'r');
});

t.test('toProblem and fieldErrors', async (t) => {
  const p = toProblem(new AppError('NOT_FOUND', 'customer not found'), '/v1/customers/x');
  t.same(p, { type: 'https://keel.dev/problems/not-found', title: 'Not found', status: 404, detail: 'customer not found', code: 'NOT_FOUND', instance: '/v1/customers/x' });
  const v = toProblem(new AppError('VALIDATION_FAILED', 'name: required', { errors: [{ path: 'name', message: 'required' }], extra: { in: 'body' } }));
  t.same(v.errors, [{ path: 'name', message: 'required' }]);
  t.equal(v.in, 'body');
  t.equal(v.status, 400);
  for (const [code, m] of Object.entries(ERROR_MAP)) {
    t.ok(m.status >= 400 && m.status < 600, `${code} is an error status`);
    t.match(m.graphql, /^[A-Z_]+$/);
  }
  t.same(
    fieldErrors([
      { path: ['address', 'city'], message: 'too long' },
      { path: [], message: 'unknown', code: 'unrecognized_keys', keys: ['foo', 'bar'] },
      { path: [], message: 'bad' },
    ]),
    [
      { path: 'address.city', message: 'too long' },
      { path: 'foo', message: 'unknown field' },
      { path: 'bar', message: 'unknown field' },
      { path: 'body', message: 'bad' },
    ],
  );
  t.same(fieldErrors([{ path: ['name'], message: 'x' }], ['input']), [{ path: 'input.name', message: 'x' }], 'GraphQL prefix');
});
