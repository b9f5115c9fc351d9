import { EventEmitter } from 'node:events';
import t from 'tap';
import { observedQuery, observeStatements } from '../../src/db/statements.js';

type Seen = { text: string; err?: unknown; ended: boolean };

function observer() {
  const seen: Seen[] = [];
  const stop = observeStatements((text) => {
    const s: Seen = { text, ended: false };
    seen.push(s);
    return (err) => {
      s.ended = true;
      s.err = err;
    };
  });
  return { seen, stop };
}

t.test('without an observer the query runs untouched', async (t) => {
  const args: unknown[][] = [];
  const q = observedQuery((...a: unknown[]) => {
    args.push(a);
    return 'result';
  });
  t.equal(q('SELECT 1', [1]), 'result');
  t.same(args, [['SELECT 1', [1]]]);
});

t.test('promise form: ended on success and on failure, with the error', async (t) => {
  const { seen, stop } = observer();
  t.teardown(stop);
  const ok = observedQuery(async (_text: string) => ({ rows: [] }));
  t.same(await ok('SELECT 1'), { rows: [] });
  const failure = Object.assign(new Error('duplicate key value (secret)'), { code: '23505' });
  const bad = observedQuery(async (_text: string) => {
    throw failure;
  });
  await t.rejects(bad('INSERT INTO x VALUES ($1)'), failure);
  t.same(seen.map((s) => [s.text, s.ended]), [
    ['SELECT 1', true],
    ['INSERT INTO x VALUES ($1)', true],
  ]);
  t.equal(seen[0]?.err, undefined);
  t.equal(seen[1]?.err, failure);
});

t.test('callback form (pg-pool query) and config objects', async (t) => {
  const { seen, stop } = observer();
  t.teardown(stop);
  const q = observedQuery((_config: { text: string }, _values: unknown[], cb: (err: Error | null, res?: unknown) => void) => {
    t.equal(seen.at(-1)?.ended, false, 'not ended before the answer');
    setImmediate(() => cb(null, { rows: [1] }));
    return undefined;
  });
  const res = await new Promise((resolve) => q({ text: 'UPDATE x SET a = $1' }, [2], (_err, r) => resolve(r)));
  t.same(res, { rows: [1] });
  t.same(seen.map((s) => [s.text, s.ended, s.err]), [['UPDATE x SET a = $1', true, undefined]]);
});

t.test('submittable form ends with its events; a throwing observer costs nothing', async (t) => {
  const { seen, stop } = observer();
  t.teardown(stop);
  const stopBad = observeStatements(() => {
    throw new Error('observer bug');
  });
  t.teardown(stopBad);
  const submittable = Object.assign(new EventEmitter(), { text: 'SELECT * FROM big' });
  const q = observedQuery((s: typeof submittable) => s);
  t.equal(q(submittable), submittable);
  t.equal(seen[0]?.ended, false);
  submittable.emit('end');
  t.equal(seen[0]?.ended, true);
});
