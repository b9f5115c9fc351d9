// Rule matching and the pick as pure functions over random inputs (fast-check, fixed seed).
import fc from 'fast-check';
import t from 'tap';
import { type Candidate, firstMatch, type Lead, matches, pickUser, type RuleMatch, type Strategy } from '../../src/modules/allocation/matching.js';

const SEED = 20_261_203;
const text = fc.constantFrom('South', 'north', ' South ', 'Machinery', 'retail', 'RETAIL');
const lead: fc.Arbitrary<Lead> = fc.record({
  region: fc.option(text, { nil: null }),
  industry: fc.option(text, { nil: null }),
  source: fc.option(fc.constantFrom('EVENT', 'WEBSITE', 'PARTNER'), { nil: null }),
  kind: fc.constantFrom('ORGANIZATION', 'PERSON'),
  lifecycleStage: fc.constantFrom('SUSPECT', 'PROSPECT', 'CUSTOMER'),
});
const match: fc.Arbitrary<RuleMatch> = fc.record(
  {
    region: text,
    industry: text,
    source: fc.constantFrom('EVENT', 'WEBSITE', 'PARTNER'),
    kind: fc.constantFrom('ORGANIZATION', 'PERSON'),
    lifecycleStage: fc.constantFrom('SUSPECT', 'PROSPECT', 'CUSTOMER'),
  },
  { requiredKeys: [] },
);
const rules = fc.array(fc.record({ id: fc.uuid(), order: fc.integer({ min: 0, max: 5 }), active: fc.boolean(), match }), { maxLength: 8 });
const norm = (v: string | null | undefined) => (v ?? '').trim().toLowerCase();

t.test('matches: a rule matches exactly when every criterion it names equals the lead’s', async (t) => {
  fc.assert(
    fc.property(match, lead, (m, l) => {
      const expected =
        (m.region === undefined || norm(m.region) === norm(l.region)) &&
        (m.industry === undefined || norm(m.industry) === norm(l.industry)) &&
        (m.source === undefined || m.source === l.source) &&
        (m.kind === undefined || m.kind === l.kind) &&
        (m.lifecycleStage === undefined || m.lifecycleStage === l.lifecycleStage);
      return matches(m, l) === expected;
    }),
    { seed: SEED, numRuns: 2000 },
  );
  t.pass('2000 random rule/lead pairs');
});

t.test('firstMatch: an active matching rule, and no active matching rule comes before it; null only when none matches', async (t) => {
  fc.assert(
    fc.property(rules, lead, (rs, l) => {
      const got = firstMatch(rs, l);
      const candidates = rs.filter((r) => r.active && matches(r.match, l));
      if (got === null) return candidates.length === 0;
      if (!got.active || !matches(got.match, l)) return false;
      return candidates.every((r) => r.order > got.order || (r.order === got.order && r.id >= got.id));
    }),
    { seed: SEED, numRuns: 2000 },
  );
  t.pass('2000 random rule lists');
});

const candidates: fc.Arbitrary<Candidate[]> = fc.uniqueArray(fc.record({ id: fc.uuid(), load: fc.integer({ min: 0, max: 6 }) }), { selector: (c) => c.id, maxLength: 6 });
const strategy = fc.constantFrom<Strategy>('FIXED', 'ROUND_ROBIN', 'LEAST_LOADED');

t.test('pickUser: always a candidate with room, null exactly when everyone is full', async (t) => {
  fc.assert(
    fc.property(strategy, candidates, fc.option(fc.uuid(), { nil: null }), fc.option(fc.integer({ min: 1, max: 6 }), { nil: null }), (s, cs, last, cap) => {
      const got = pickUser(s, cs, last, cap);
      const open = cs.filter((c) => cap === null || c.load < cap);
      if (got === null) return open.length === 0;
      const picked = open.find((c) => c.id === got);
      if (!picked) return false;
      if (s === 'LEAST_LOADED') return open.every((c) => c.load >= picked.load);
      return true;
    }),
    { seed: SEED, numRuns: 2000 },
  );
  t.pass('2000 random picks');
});

t.test('round robin: n picks over n candidates without capacity serve each exactly once', async (t) => {
  fc.assert(
    fc.property(candidates.filter((cs) => cs.length > 0), fc.option(fc.uuid(), { nil: null }), (cs, start) => {
      let last = start;
      const served: string[] = [];
      for (let i = 0; i < cs.length; i++) {
        last = pickUser('ROUND_ROBIN', cs, last, null);
        if (last === null) return false;
        served.push(last);
      }
      return new Set(served).size === cs.length;
    }),
    { seed: SEED, numRuns: 1000 },
  );
  t.pass('1000 random teams');
});
