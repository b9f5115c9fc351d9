import { AppError, fieldError } from '../../lib/errors.js';

// The pure rules of an order (domain.md §8): the order-to-cash chain moves forward only, each step
// keeps its time, and money is exact decimal arithmetic on strings — never a float.

export const ORDER_STATUSES = ['ORDERED', 'PAID', 'SHIPPED', 'CONFIRMED', 'CANCELLED'] as const;
export type OrderStatus = (typeof ORDER_STATUSES)[number];

// The chain; CANCELLED is reachable from any step before CONFIRMED and ends the order.
const CHAIN: readonly OrderStatus[] = ['ORDERED', 'PAID', 'SHIPPED', 'CONFIRMED'];

export const STEP_FIELDS = {
  ORDERED: 'orderedAt',
  PAID: 'paidAt',
  SHIPPED: 'shippedAt',
  CONFIRMED: 'confirmedAt',
  CANCELLED: 'cancelledAt',
} as const satisfies Record<OrderStatus, string>;
export type StepField = (typeof STEP_FIELDS)[OrderStatus];
export const STEP_FIELD_NAMES = Object.values(STEP_FIELDS) as StepField[];
export type StepTimes = Partial<Record<StepField, Date | null>>;

const rank = (s: OrderStatus): number => (s === 'CANCELLED' ? -1 : CHAIN.indexOf(s));

/** Whether an order may move from `from` to `to` (the same status is no move, and allowed). */
export function canMove(from: OrderStatus, to: OrderStatus): boolean {
  if (from === to) return true;
  if (from === 'CANCELLED' || from === 'CONFIRMED') return false;
  if (to === 'CANCELLED') return true;
  return rank(to) > rank(from);
}

/** The steps whose times an order at `status` may carry: the chain up to it; a cancelled order, the steps before CONFIRMED. */
function allowedSteps(status: OrderStatus): Set<StepField> {
  if (status === 'CANCELLED') return new Set<StepField>(['orderedAt', 'paidAt', 'shippedAt', 'cancelledAt']);
  return new Set(CHAIN.slice(0, rank(status) + 1).map((s) => STEP_FIELDS[s]));
}

/**
 * The status and step times after a create (`current` null) or an update. The new status's own time
 * defaults to `now`; times given for steps not reached are refused, naming the field; a move backward
 * (or out of CONFIRMED or CANCELLED) is refused with ORDER_STATUS_BACKWARD.
 */
export function planStatus(
  current: { status: OrderStatus; times: StepTimes } | null,
  wanted: { status?: OrderStatus | undefined; times: StepTimes },
  now: Date,
): { status: OrderStatus; times: Record<StepField, Date | null> } {
  const from = current?.status ?? null;
  const to = wanted.status ?? from ?? 'ORDERED';
  if (from && !canMove(from, to)) {
    const why = from === 'CONFIRMED' || from === 'CANCELLED' ? `a ${from.toLowerCase()} order takes no further status` : `${to} comes before ${from}`;
    throw new AppError('ORDER_STATUS_BACKWARD', `the order status moves forward only (ORDERED → PAID → SHIPPED → CONFIRMED, or CANCELLED before CONFIRMED): ${why}`, {
      extra: { currentStatus: from, requestedStatus: to },
    });
  }
  const before = current?.times ?? {};
  const allowed = allowedSteps(to);
  for (const f of STEP_FIELD_NAMES) {
    const v = wanted.times[f];
    if (v === undefined) continue;
    if (!allowed.has(f)) throw fieldError('VALIDATION_FAILED', f, `the order has not reached that step (status ${to})`);
    if (v === null && (f === STEP_FIELDS[to] || f === 'orderedAt')) throw fieldError('VALIDATION_FAILED', f, 'the time of a step the order has reached cannot be removed');
  }
  const times = Object.fromEntries(STEP_FIELD_NAMES.map((f) => [f, wanted.times[f] !== undefined ? wanted.times[f] : (before[f] ?? null)])) as Record<StepField, Date | null>;
  const own = STEP_FIELDS[to];
  if (times[own] === null) times[own] = now;
  if (times.orderedAt === null) times.orderedAt = now;
  return { status: to, times };
}

// ---- money and quantities: decimal strings, exact ------------------------------------------------

const SCALE = { money: 2, quantity: 4 } as const;
// numeric(18,2): at most 16 integer digits.
const MAX_MONEY = 10n ** 18n - 1n;

function toUnits(v: string, scale: number): bigint {
  const [int = '0', frac = ''] = v.split('.');
  return BigInt(int) * 10n ** BigInt(scale) + BigInt((frac + '0'.repeat(scale)).slice(0, scale) || '0');
}

function fromUnits(units: bigint, scale: number): string {
  const neg = units < 0n;
  const abs = neg ? -units : units;
  const base = 10n ** BigInt(scale);
  const int = (abs / base).toString();
  const frac = (abs % base).toString().padStart(scale, '0');
  return `${neg ? '-' : ''}${int}${scale > 0 ? `.${frac}` : ''}`;
}

/** Money as the API answers it: two decimals ("1500.00"). */
export const canonicalMoney = (v: string): string => fromUnits(toUnits(v, SCALE.money), SCALE.money);

/** A quantity as the API answers it: no trailing zeros ("2", "0.5"). */
export function canonicalQuantity(v: string): string {
  const s = fromUnits(toUnits(v, SCALE.quantity), SCALE.quantity);
  return s.replace(/\.?0+$/, '');
}

export type LineInput = { product: string; productLine?: string | null | undefined; quantity: string; unitPrice: string; amount?: string | undefined };
export type Line = { product: string; productLine: string | null; quantity: string; unitPrice: string; amount: string };

/** quantity × unit price, rounded half up to the cent. */
export function lineAmount(quantity: string, unitPrice: string): string {
  const raw = toUnits(quantity, SCALE.quantity) * toUnits(unitPrice, SCALE.money); // scale 6
  const div = 10n ** 4n;
  return fromUnits((raw + div / 2n) / div, SCALE.money);
}

/**
 * The lines as stored (each amount given — a discounted line — or computed) and the order's total,
 * their sum. A total past numeric(18,2) is refused, naming `lines`.
 */
export function priceLines(lines: readonly LineInput[]): { lines: Line[]; total: string } {
  let total = 0n;
  const out = lines.map((l, i) => {
    const amount = l.amount !== undefined ? canonicalMoney(l.amount) : lineAmount(l.quantity, l.unitPrice);
    if (toUnits(amount, SCALE.money) > MAX_MONEY) throw fieldError('VALIDATION_FAILED', `lines.${i}.amount`, 'quantity × unitPrice exceeds 16 integer digits');
    total += toUnits(amount, SCALE.money);
    return { product: l.product, productLine: l.productLine ?? null, quantity: canonicalQuantity(l.quantity), unitPrice: canonicalMoney(l.unitPrice), amount };
  });
  if (total > MAX_MONEY) throw fieldError('VALIDATION_FAILED', 'lines', 'the total of the lines exceeds 16 integer digits');
  return { lines: out, total: fromUnits(total, SCALE.money) };
}

/**
 * The order's amount: the sum of its lines when it has any (an amount given must agree with it),
 * else the amount given, else what it was (or zero).
 */
export function orderAmount(lines: readonly Line[] | null, total: string | null, given: string | undefined, before: string | null): string {
  if (lines && lines.length > 0 && total !== null) {
    if (given !== undefined && canonicalMoney(given) !== total) throw fieldError('VALIDATION_FAILED', 'amount', `must equal the sum of the lines' amounts (${total}), or be left out`);
    return total;
  }
  if (given !== undefined) return canonicalMoney(given);
  return before ?? '0.00';
}
