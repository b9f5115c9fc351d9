import t from 'tap';
import { firstMatch, type Lead, matches, pickUser } from '../../src/modules/allocation/matching.js';

const lead: Lead = { region: 'South', industry: 'Machinery', source: 'EVENT', kind: 'ORGANIZATION', lifecycleStage: 'SUSPECT' };

t.test('matches: every named criterion, free text trimmed and case-insensitive', async (t) => {
  t.ok(matches({}, lead), 'no criterion: every lead');
  t.ok(matches({ region: ' south ', source: 'EVENT' }, lead));
  t.notOk(matches({ region: 'North' }, lead));
  t.notOk(matches({ source: 'WEBSITE' }, lead));
  t.notOk(matches({ kind: 'PERSON' }, lead));
  t.notOk(matches({ lifecycleStage: 'PROSPECT' }, lead));
  t.ok(matches({ industry: 'machinery', kind: 'ORGANIZATION', lifecycleStage: 'SUSPECT' }, lead));
  t.notOk(matches({ region: 'South' }, { ...lead, region: null }), 'a lead without a region matches no region rule');
});

t.test('firstMatch: active rules by order, then id', async (t) => {
  const rules = [
    { id: 'b', order: 2, active: true, match: {} },
    { id: 'a', order: 1, active: false, match: {} },
    { id: 'c', order: 1, active: true, match: { region: 'North' } },
    { id: 'd', order: 2, active: true, match: { source: 'EVENT' } },
  ];
  t.equal(firstMatch(rules, lead)?.id, 'b', 'the inactive and the non-matching are skipped; b before d by id');
  t.equal(firstMatch([], lead), null);
});

t.test('pickUser: round robin wraps and skips the full; least loaded; capacity', async (t) => {
  const cs = [
    { id: 'u1', load: 0 },
    { id: 'u3', load: 5 },
    { id: 'u2', load: 1 },
  ];
  t.equal(pickUser('ROUND_ROBIN', cs, null, null), 'u1');
  t.equal(pickUser('ROUND_ROBIN', cs, 'u1', null), 'u2');
  t.equal(pickUser('ROUND_ROBIN', cs, 'u3', null), 'u1', 'wraps');
  t.equal(pickUser('ROUND_ROBIN', cs, 'u1', 5), 'u2');
  t.equal(pickUser('ROUND_ROBIN', cs, 'u2', 5), 'u1', 'u3 is full: skipped');
  t.equal(pickUser('ROUND_ROBIN', cs, 'gone', null), 'u1', 'a cursor on a user who left still moves on');
  t.equal(pickUser('LEAST_LOADED', cs, null, null), 'u1');
  t.equal(pickUser('LEAST_LOADED', [{ id: 'x', load: 2 }, { id: 'w', load: 2 }], null, null), 'w', 'ties by id');
  t.equal(pickUser('LEAST_LOADED', cs, null, 1), 'u1');
  t.equal(pickUser('LEAST_LOADED', [{ id: 'x', load: 3 }], null, 3), null, 'everyone at capacity: nobody (the pool)');
  t.equal(pickUser('FIXED', cs, null, null), 'u1');
  t.equal(pickUser('ROUND_ROBIN', [], null, null), null);
  // Fairness: n picks over k people give each n/k.
  const counts = new Map<string, number>();
  let last: string | null = null;
  for (let i = 0; i < 21; i++) {
    last = pickUser('ROUND_ROBIN', cs, last, null);
    counts.set(last!, (counts.get(last!) ?? 0) + 1);
  }
  t.same([...counts.values()], [7, 7, 7]);
});
