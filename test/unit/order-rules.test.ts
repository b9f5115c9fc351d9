import t from 'tap';
import { canMove, canonicalMoney, canonicalQuantity, lineAmount, orderAmount, planStatus, priceLines } from '../../src/modules/orders/orders.rules.js';
import { AppError } from '../../src/lib/errors.js';

const now = new Date('2030-05-05T10:00:00.000Z');
const d = (s: string) => new Date(s);
const codeOf = (fn: () => unknown): string | null => {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof AppError ? `${e.code}${e.errors ? `:${e.errors.map((x) => x.path).join(',')}` : ''}` : String(e);
  }
};

t.test('the chain moves forward only; CANCELLED before CONFIRMED; both end the order', async (t) => {
  const ok: [string, string][] = [['ORDERED', 'PAID'], ['ORDERED', 'CONFIRMED'], ['PAID', 'SHIPPED'], ['SHIPPED', 'CANCELLED'], ['ORDERED', 'CANCELLED'], ['PAID', 'PAID'], ['CONFIRMED', 'CONFIRMED']];
  const refused: [string, string][] = [['PAID', 'ORDERED'], ['CONFIRMED', 'SHIPPED'], ['CONFIRMED', 'CANCELLED'], ['CANCELLED', 'ORDERED'], ['CANCELLED', 'CONFIRMED'], ['SHIPPED', 'PAID']];
  for (const [a, b] of ok) t.ok(canMove(a as never, b as never), `${a} → ${b}`);
  for (const [a, b] of refused) t.notOk(canMove(a as never, b as never), `${a} ↛ ${b}`);
});

t.test('planStatus: the status reached gets its time; given times are kept; unreached steps refused', async (t) => {
  const fresh = planStatus(null, { times: {} }, now);
  t.same(fresh, { status: 'ORDERED', times: { orderedAt: now, paidAt: null, shippedAt: null, confirmedAt: null, cancelledAt: null } });
  const given = planStatus(null, { status: 'SHIPPED', times: { orderedAt: d('2030-01-01T00:00:00Z'), paidAt: d('2030-01-02T00:00:00Z') } }, now);
  t.same(given.times, { orderedAt: d('2030-01-01T00:00:00Z'), paidAt: d('2030-01-02T00:00:00Z'), shippedAt: now, confirmedAt: null, cancelledAt: null });
  t.equal(codeOf(() => planStatus(null, { status: 'PAID', times: { shippedAt: now } }, now)), 'VALIDATION_FAILED:shippedAt');
  t.equal(codeOf(() => planStatus(null, { status: 'CANCELLED', times: { confirmedAt: now } }, now)), 'VALIDATION_FAILED:confirmedAt');
  t.equal(codeOf(() => planStatus(null, { status: 'CANCELLED', times: { paidAt: now, shippedAt: now } }, now)), null, 'a cancelled order may have been paid and shipped');
  const current = { status: 'PAID' as const, times: { orderedAt: d('2030-01-01T00:00:00Z'), paidAt: d('2030-01-02T00:00:00Z') } };
  t.equal(codeOf(() => planStatus(current, { status: 'ORDERED', times: {} }, now)), 'ORDER_STATUS_BACKWARD');
  t.equal(codeOf(() => planStatus(current, { times: { paidAt: null } }, now)), 'VALIDATION_FAILED:paidAt', "the time of the step the order stands at stays");
  t.equal(codeOf(() => planStatus(current, { times: { orderedAt: null } }, now)), 'VALIDATION_FAILED:orderedAt');
  const corrected = planStatus(current, { times: { paidAt: d('2030-01-03T00:00:00Z') } }, now);
  t.same([corrected.status, corrected.times.paidAt], ['PAID', d('2030-01-03T00:00:00Z')]);
  const cancelled = planStatus(current, { status: 'CANCELLED', times: {} }, now);
  t.same([cancelled.times.paidAt, cancelled.times.cancelledAt], [d('2030-01-02T00:00:00Z'), now], 'cancelling keeps the steps reached');
});

t.test('money: exact decimal arithmetic on strings', async (t) => {
  t.equal(canonicalMoney('12'), '12.00');
  t.equal(canonicalMoney('0.5'), '0.50');
  t.equal(canonicalQuantity('2.5000'), '2.5');
  t.equal(canonicalQuantity('3'), '3');
  t.equal(lineAmount('0.333', '10.00'), '3.33');
  t.equal(lineAmount('0.335', '10.00'), '3.35', 'half up');
  t.equal(lineAmount('0.1', '0.05'), '0.01', '0.005 rounds up');
  t.equal(lineAmount('3', '0.1'), '0.30', 'no float error (0.1 × 3)');
  t.equal(lineAmount('99999999999999', '99.99'), '9998999999999900.01', 'beyond a double’s 15–17 digits, exact');
  const priced = priceLines([
    { product: 'a', quantity: '1.5', unitPrice: '99.99' },
    { product: 'b', quantity: '1', unitPrice: '300', amount: '250' },
  ]);
  t.same(priced.lines.map((l) => l.amount), ['149.99', '250.00']);
  t.equal(priced.total, '399.99');
  t.equal(codeOf(() => priceLines([{ product: 'x', quantity: '99999999999999', unitPrice: '9999999999999999' }])), 'VALIDATION_FAILED:lines.0.amount');
  t.equal(codeOf(() => priceLines([{ product: 'x', quantity: '1', unitPrice: '9999999999999999' }, { product: 'y', quantity: '1', unitPrice: '9999999999999999' }])), 'VALIDATION_FAILED:lines');
  t.equal(orderAmount(priced.lines, priced.total, undefined, null), '399.99');
  t.equal(codeOf(() => orderAmount(priced.lines, priced.total, '399.9', null)), 'VALIDATION_FAILED:amount', 'a different sum');
  t.equal(orderAmount(priced.lines, priced.total, '399.99', null), '399.99', 'the same sum');
  t.equal(codeOf(() => orderAmount(priced.lines, priced.total, '400', null)), 'VALIDATION_FAILED:amount');
  t.equal(orderAmount([], null, '12.5', null), '12.50', 'a header-only order takes the amount given');
  t.equal(orderAmount([], null, undefined, '7.00'), '7.00');
  t.equal(orderAmount([], null, undefined, null), '0.00');
});
