import fc from 'fast-check';
import t from 'tap';
import { MAX_TIME_FACTOR, priority, timeFactor } from '../../src/modules/actions/priority.js';

const now = new Date('2025-03-01T09:00:00.000Z');
const hour = 3_600_000;
const at = (hours: number) => new Date(now.getTime() + hours * hour);

t.test('concrete cases', async (t) => {
  t.equal(priority(3, 3, null, now), 9, 'no due date: value × urgency');
  t.equal(priority(3, 3, now, now), 27, 'due now: three times the weight');
  t.equal(priority(3, 3, at(48), now), 18, 'due in 48 hours: twice the weight');
  t.equal(priority(3, 3, at(-168), now), 36, 'a week overdue: four times the weight');
  t.equal(priority(3, 3, at(-1000), now), 36, 'and no further');
  t.ok(priority(5, 5, at(48), now) > priority(1, 1, at(1), now), 'value 5/urgency 5 due in 2 days ranks above 1/1 due in an hour');
  t.ok(priority(5, 5, null, now) > priority(1, 1, at(-500), now), 'an undated 5/5 ranks above a long-overdue 1/1');
  t.ok(priority(3, 3, at(-2), now) > priority(3, 3, at(2), now), 'overdue rises above due soon');
  t.ok(priority(2, 2, at(-24), now) > priority(2, 2, now, now), 'and keeps rising while overdue');
  t.ok(priority(1, 5, at(10), now) > priority(1, 5, at(100), now), 'sooner due ranks higher at equal weight');
  t.ok(priority(4, 4, null, now) > priority(3, 5, null, now), 'undated actions rank by value × urgency');
  t.equal(timeFactor(null, now.getTime()), 1, 'no due date is the far future');
});

const scale = fc.integer({ min: 1, max: 5 });
// Due times within a year either side of now, or none, at millisecond precision.
const due = fc.option(fc.integer({ min: -365 * 24 * hour, max: 365 * 24 * hour }).map((ms) => new Date(now.getTime() + ms)), { nil: null });

t.test('monotone in value', async () => {
  fc.assert(
    fc.property(scale, scale, scale, due, (v1, v2, u, d) => {
      const [lo, hi] = v1 <= v2 ? [v1, v2] : [v2, v1];
      return priority(lo, u, d, now) <= priority(hi, u, d, now) && (lo === hi || priority(lo, u, d, now) < priority(hi, u, d, now));
    }),
  );
});

t.test('monotone in urgency', async () => {
  fc.assert(
    fc.property(scale, scale, scale, due, (u1, u2, v, d) => {
      const [lo, hi] = u1 <= u2 ? [u1, u2] : [u2, u1];
      return priority(v, lo, d, now) <= priority(v, hi, d, now) && (lo === hi || priority(v, lo, d, now) < priority(v, hi, d, now));
    }),
  );
});

t.test('monotone in closeness of due: an earlier due never ranks lower, an undated one ranks lowest', async () => {
  const ms = fc.integer({ min: -365 * 24 * hour, max: 365 * 24 * hour });
  fc.assert(
    fc.property(scale, scale, ms, ms, (v, u, a, b) => {
      const [earlier, later] = a <= b ? [a, b] : [b, a];
      const pe = priority(v, u, new Date(now.getTime() + earlier), now);
      const pl = priority(v, u, new Date(now.getTime() + later), now);
      return pe >= pl && pl >= priority(v, u, null, now);
    }),
  );
});

t.test('time factor is bounded to [1, 4]', async () => {
  fc.assert(
    fc.property(due, (d) => {
      const f = timeFactor(d?.getTime() ?? null, now.getTime());
      return f >= 1 && f <= MAX_TIME_FACTOR;
    }),
  );
});

t.test('never buried: more than four times the weight ranks higher, whatever the due dates', async () => {
  fc.assert(
    fc.property(scale, scale, scale, scale, due, due, (va, ua, vb, ub, da, db) => {
      fc.pre(va * ua > MAX_TIME_FACTOR * vb * ub);
      return priority(va, ua, da, now) > priority(vb, ub, db, now);
    }),
  );
});

t.test('never buried within a fortnight: three times the weight ranks higher for dues within a week of now', async () => {
  const week = fc.integer({ min: -168 * hour, max: 168 * hour }).map((ms) => new Date(now.getTime() + ms));
  fc.assert(
    fc.property(scale, scale, scale, scale, week, week, (va, ua, vb, ub, da, db) => {
      fc.pre(va * ua >= 3 * vb * ub);
      return priority(va, ua, da, now) > priority(vb, ub, db, now);
    }),
  );
});

t.test('dominance: at least as valuable, as urgent and due no later ranks at least as high', async () => {
  const ms = fc.integer({ min: -365 * 24 * hour, max: 365 * 24 * hour });
  fc.assert(
    fc.property(scale, scale, scale, scale, ms, ms, (v1, v2, u1, u2, d1, d2) => {
      const a = { v: Math.max(v1, v2), u: Math.max(u1, u2), d: Math.min(d1, d2) };
      const b = { v: Math.min(v1, v2), u: Math.min(u1, u2), d: Math.max(d1, d2) };
      return priority(a.v, a.u, new Date(now.getTime() + a.d), now) >= priority(b.v, b.u, new Date(now.getTime() + b.d), now);
    }),
  );
});
