import fc from 'fast-check';
import t from 'tap';
import { classOf, classSize, churnLevelOf, costPoints, DEFAULT_MODEL, INDICATORS, type Inputs, saturating, scoreOf } from '../../src/modules/value/scoring.js';

const inputs = fc.record({
  revenue: fc.double({ min: 0, max: 1e12, noNaN: true }),
  expectedSales: fc.double({ min: 0, max: 1e12, noNaN: true }),
  referenceLevel: fc.integer({ min: 0, max: 5 }),
  creditStatus: fc.constantFrom('GOOD', 'WATCH', 'BLOCKED', null),
  cost: fc.double({ min: 0, max: 1e12, noNaN: true }),
});
const weights = fc
  .array(fc.integer({ min: 0, max: 100 }), { minLength: 4, maxLength: 4 })
  .map((xs) => {
    // Four cut points of 0–100 give five weights summing to 100.
    const cuts = [...xs].sort((a, b) => a - b);
    const w = [cuts[0]!, cuts[1]! - cuts[0]!, cuts[2]! - cuts[1]!, cuts[3]! - cuts[2]!, 100 - cuts[3]!];
    return Object.fromEntries(INDICATORS.map((k, i) => [k, w[i]!])) as typeof DEFAULT_MODEL.weights;
  });

t.test('the default weights sum to 100', async (t) => {
  t.equal(Object.values(DEFAULT_MODEL.weights).reduce((s, x) => s + x, 0), 100);
});

t.test('normalisation: 0 at nothing, 50 at the half point, below 100 always', async (t) => {
  t.equal(saturating(0, 1000), 0);
  t.equal(saturating(1000, 1000), 50);
  t.ok(saturating(1e15, 1000) <= 100);
  t.equal(costPoints(0, 1000), 100);
  t.equal(costPoints(1000, 1000), 50);
});

t.test('a worked example: each part and the score', async (t) => {
  const { score, parts } = scoreOf(DEFAULT_MODEL, { revenue: 50_000, expectedSales: 0, referenceLevel: 5, creditStatus: 'GOOD', cost: 5_000 });
  const by = Object.fromEntries(parts.map((p) => [p.indicator, p]));
  t.equal(by.revenue?.normalised, 50);
  t.equal(by.revenue?.contribution, 22.5);
  t.equal(by.expectedSales?.contribution, 0);
  t.equal(by.referenceEffect?.contribution, 10);
  t.equal(by.credit?.contribution, 10);
  t.equal(by.cost?.contribution, 7.5);
  t.equal(score, 50);
  t.match(by.revenue?.explanation, /Ordered 50,000 in the last 12 months/);
});

t.test('property: bounded 0–100, whatever the inputs and weights summing to 100', async () => {
  fc.assert(
    fc.property(inputs, weights, (i: Inputs, w) => {
      const { score, parts } = scoreOf({ ...DEFAULT_MODEL, weights: w }, i);
      return score >= 0 && score <= 100 && parts.every((p) => p.normalised >= 0 && p.normalised <= 100);
    }),
  );
});

t.test('property: the score is the sum of the contributions (to rounding)', async () => {
  fc.assert(
    fc.property(inputs, weights, (i: Inputs, w) => {
      const { score, parts } = scoreOf({ ...DEFAULT_MODEL, weights: w }, i);
      return Math.abs(parts.reduce((s, p) => s + p.contribution, 0) - score) <= 0.03;
    }),
  );
});

t.test('property: monotone in revenue (more revenue never lowers the score), falling in cost', async () => {
  fc.assert(
    fc.property(inputs, weights, fc.double({ min: 0, max: 1e9, noNaN: true }), (i: Inputs, w, more) => {
      const m = { ...DEFAULT_MODEL, weights: w };
      return scoreOf(m, { ...i, revenue: i.revenue + more }).score >= scoreOf(m, i).score && scoreOf(m, { ...i, cost: i.cost + more }).score <= scoreOf(m, i).score;
    }),
  );
});

t.test('property: a weight of 100 on one indicator makes the score that part', async () => {
  fc.assert(
    fc.property(inputs, fc.constantFrom(...INDICATORS), (i: Inputs, ind) => {
      const w = Object.fromEntries(INDICATORS.map((k) => [k, k === ind ? 100 : 0])) as typeof DEFAULT_MODEL.weights;
      const { score, parts } = scoreOf({ ...DEFAULT_MODEL, weights: w }, i);
      return Math.abs(score - (parts.find((p) => p.indicator === ind)?.normalised ?? -1)) <= 0.01;
    }),
  );
});

t.test('classes against cut-offs; class sizes; churn levels', async (t) => {
  t.equal(classOf(80, { aMin: 70, cMax: 20 }), 'A');
  t.equal(classOf(70, { aMin: 70, cMax: 20 }), 'A');
  t.equal(classOf(20, { aMin: 70, cMax: 20 }), 'C');
  t.equal(classOf(50, { aMin: 70, cMax: 20 }), 'B');
  t.equal(classOf(50, { aMin: null, cMax: null }), 'B', 'before any full run everyone is B');
  t.equal(classSize(100, 5), 5);
  t.equal(classSize(10, 5), 1, 'at least one when the share is above 0');
  t.equal(classSize(10, 0), 0);
  t.equal(churnLevelOf(0, DEFAULT_MODEL.churn), 'NONE');
  t.equal(churnLevelOf(1, DEFAULT_MODEL.churn), 'WATCH');
  t.equal(churnLevelOf(2, DEFAULT_MODEL.churn), 'HIGH');
});
