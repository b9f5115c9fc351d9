import t from 'tap';
import { chooseRate, decompose, PlanOutOfRange, probabilityRate, type StepRate } from '../../src/modules/plans/decompose.js';

const step = (fromStageKey: string, toStageKey: string, rate: string | null): StepRate => ({
  fromStageKey,
  toStageKey,
  rate,
  sampleSize: 100,
  source: 'UNIT',
  sourceUnitId: null,
  belowMinimumSample: false,
});
const funnel = (rates: (string | null)[]) => {
  const keys = ['SUSPECT', 'PROSPECT', 'QUALIFICATION', 'ACCEPTANCE', 'NEGOTIATION', 'WON'];
  return rates.map((r, i) => step(keys[i] as string, keys[i + 1] as string, r));
};
const counts = (target: string, avg: string | null, rates: (string | null)[]) => decompose(target, avg, funnel(rates)).map((r) => r.count);

t.test('exact on hand-computed cases', async (t) => {
  // 2 000 000 ÷ 50 000 = 40 won; ÷ 0.5 = 80; ÷ 0.4 = 200; ÷ 0.25 = 800; ÷ 0.2 = 4 000; ÷ 0.1 = 40 000.
  t.same(decompose('2000000.00', '50000.00', funnel(['0.1000', '0.2000', '0.2500', '0.4000', '0.5000'])), [
    { stageKey: 'SUSPECT', count: 40000 },
    { stageKey: 'PROSPECT', count: 4000 },
    { stageKey: 'QUALIFICATION', count: 800 },
    { stageKey: 'ACCEPTANCE', count: 200 },
    { stageKey: 'NEGOTIATION', count: 80 },
    { stageKey: 'WON', count: 40 },
  ]);
  // Rounding up at every step: 1 000.01 ÷ 333.33 = 3.00003 → 4; 4 ÷ 0.3333 = 12.0012 → 13; 13 ÷ 0.9999 = 13.0013 → 14.
  t.same(counts('1000.01', '333.33', ['1.0000', '1.0000', '1.0000', '0.9999', '0.3333']), [14, 14, 14, 14, 13, 4]);
  // An exact division does not round up.
  t.same(counts('100', '25', ['0.5000', '0.5000', '0.5000', '0.5000', '0.5000']), [128, 64, 32, 16, 8, 4]);
  t.same(counts('1', '1000000', ['1.0000', '1.0000', '1.0000', '1.0000', '1.0000']), [1, 1, 1, 1, 1, 1], 'one won deal covers a small target');
});

t.test('unknown rates and amounts give null counts, never a guess', async (t) => {
  t.same(counts('1000', null, ['0.5000', '0.5000', '0.5000', '0.5000', '0.5000']), [null, null, null, null, null, null]);
  t.same(counts('1000', '0.00', ['0.5000', '0.5000', '0.5000', '0.5000', '0.5000']), [null, null, null, null, null, null]);
  t.same(counts('1000', '100', [null, '0.5000', '0.0000', '0.5000', '0.5000']), [null, null, null, 40, 20, 10], 'a zero rate: nothing above it can be computed');
  t.same(counts('0', '100', ['0.0000', null, '0.5000', '0.5000', '0.5000']), [0, 0, 0, 0, 0, 0], 'nothing to reach needs nothing');
  let thrown: unknown;
  try {
    decompose('9999999999999999.99', '0.01', funnel(['0.0001', '0.0001', '0.0001', '0.0001', '0.0001']));
  } catch (e) {
    thrown = e;
  }
  t.ok(thrown instanceof PlanOutOfRange, 'a count beyond 2^53 − 1 is refused, not rounded');
});

// A seeded generator: the property runs are reproducible.
let s = 20_251_203;
const rnd = () => {
  s = (s * 1_103_515_245 + 12_345) % 2_147_483_648;
  return s / 2_147_483_648;
};
const rate = () => (rnd() < 0.05 ? null : `0.${String(1 + Math.floor(rnd() * 9_999)).padStart(4, '0')}`);
const amount = () => `${Math.floor(rnd() * 10_000_000)}.${String(Math.floor(rnd() * 100)).padStart(2, '0')}`;

t.test('monotone in the target, and sufficient at every step', async (t) => {
  for (let i = 0; i < 500; i++) {
    const rates = Array.from({ length: 5 }, rate);
    const avg = `${1 + Math.floor(rnd() * 100_000)}.00`;
    const [a, b] = [amount(), amount()].sort((x, y) => Number(x) - Number(y)) as [string, string];
    const lo = counts(a, avg, rates);
    const hi = counts(b, avg, rates);
    for (let k = 0; k < lo.length; k++) {
      const [x, y] = [lo[k] ?? null, hi[k] ?? null];
      if (x === null || y === null) {
        if ((x === null) !== (y === null) && x !== 0) t.fail(`null in one only: ${a} ${b} ${rates} ${avg}`);
        continue;
      }
      if (x > y) t.fail(`not monotone at ${k}: ${a}→${x}, ${b}→${y}, rates ${rates}, avg ${avg}`);
    }
    // Sufficient: count(stage) × rate ≥ count(next stage), and won × average ≥ target.
    const r = decompose(b, avg, funnel(rates));
    for (let k = 0; k < 5; k++) {
      const [c, next, q] = [r[k]?.count, r[k + 1]?.count, rates[k]];
      if (c === null || c === undefined || next === null || next === undefined || q === null || q === undefined) continue;
      if (c * Number(q) * 10_000 < next * 10_000 - 1e-6) t.fail(`not sufficient at ${k}`);
    }
    const won = r[5]?.count;
    if (won !== null && won !== undefined && won * Number(avg) < Number(b) - 0.005) t.fail(`won × average below the target: ${won} × ${avg} < ${b}`);
  }
  t.pass('500 random cases');
});

t.test('rates from stage probabilities', async (t) => {
  t.equal(probabilityRate(10, 40), '0.2500');
  t.equal(probabilityRate(40, 70), '0.5714');
  t.equal(probabilityRate(70, 100), '0.7000');
  t.equal(probabilityRate(80, 40), '1.0000', 'never above 1');
  t.equal(probabilityRate(50, 0), null);
});

t.test('choosing a rate: the narrowest scope with enough sample, else the fallback', async (t) => {
  const s0 = { fromStageKey: 'A', toStageKey: 'B' };
  const unit = { advanced: 3, sample: 4, source: 'UNIT' as const, unitId: 'u' };
  const parent = { advanced: 30, sample: 40, source: 'PARENT' as const, unitId: 'p' };
  t.match(chooseRate(s0, [unit, parent], 4, '0.1000'), { rate: '0.7500', sampleSize: 4, source: 'UNIT', sourceUnitId: 'u', belowMinimumSample: false });
  t.match(chooseRate(s0, [unit, parent], 5, '0.1000'), { rate: '0.7500', sampleSize: 40, source: 'PARENT', sourceUnitId: 'p', belowMinimumSample: false });
  t.match(chooseRate(s0, [unit, parent], 50, '0.1000'), { rate: '0.1000', sampleSize: 40, source: 'PIPELINE', sourceUnitId: null, belowMinimumSample: true });
  t.match(chooseRate(s0, [unit, parent], 50, undefined), { rate: '0.7500', sampleSize: 40, source: 'PARENT', belowMinimumSample: true });
  t.match(chooseRate(s0, [{ ...unit, advanced: 0, sample: 0 }], 1, undefined), { rate: null, sampleSize: 0, source: 'NONE', belowMinimumSample: true });
});
