// Which failures mean "the database went away" (503 UNAVAILABLE with Retry-After), and which do not.
import t from 'tap';
import { fromDatabaseError, isConnectionError } from '../../src/lib/errors.js';

t.test('lost connections map to 503 UNAVAILABLE with a retry hint', async (t) => {
  const wrapped = (cause: unknown) => Object.assign(new Error('Failed query: select 1'), { cause });
  const cases: unknown[] = [
    Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
    wrapped(new Error('Connection terminated unexpectedly')),
    wrapped(new Error('Client has encountered a connection error and is not queryable')),
    new Error('timeout exceeded when trying to connect'),
    wrapped(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' })),
    Object.assign(new Error('sorry, too many clients already'), { code: '53300' }),
  ];
  for (const err of cases) {
    t.ok(isConnectionError(err), String((err as Error).message));
    const mapped = fromDatabaseError(err);
    t.equal(mapped?.code, 'UNAVAILABLE');
    t.equal(mapped?.status, 503);
    t.equal(mapped?.extra?.retryAfterSeconds, 1);
  }
});

t.test('other failures are not mistaken for a lost connection', async (t) => {
  t.notOk(isConnectionError(new Error('syntax error at or near "x"')));
  t.equal(fromDatabaseError(Object.assign(new Error('deadlock'), { code: '40P01' }))?.code, 'CONFLICT');
  t.equal(fromDatabaseError(new Error('boom')), null);
});
