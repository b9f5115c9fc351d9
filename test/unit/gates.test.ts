import t from 'tap';
import { checkMove, DEFAULT_STAGES, factKnown, type GateSubject, gatesForMove, type StageForGates, unmetCriteria } from '../../src/modules/opportunities/gates.js';

const stages: StageForGates[] = DEFAULT_STAGES.map((s, i) => ({ id: s.key, key: s.key, position: i + 1, terminal: s.terminal, outcome: s.outcome, gates: s.gates }));
const stage = (key: string): StageForGates => {
  const s = stages.find((x) => x.key === key);
  if (!s) throw new Error(key);
  return s;
};
const gate = (key: string) => stage(key).gates;
const subject = (over: Partial<GateSubject> = {}): GateSubject => ({ qualification: {}, amount: null, doneActionKeys: [], ...over });
const names = (u: { criterion: string }[]) => u.map((x) => x.criterion);

t.test('facts: booleans must be true, texts non-blank', async (t) => {
  t.equal(factKnown({ needDefined: true }, 'needDefined'), true);
  t.equal(factKnown({ needDefined: false }, 'needDefined'), false);
  t.equal(factKnown({}, 'needDefined'), false);
  t.equal(factKnown({ purchaseMotive: '  ' }, 'purchaseMotive'), false);
  t.equal(factKnown({ purchaseMotive: 'replace old line' }, 'purchaseMotive'), true);
  t.equal(factKnown({ paymentCapability: 'LOW' }, 'paymentCapability'), true);
});

t.test('ACCEPTANCE: needDefined and decisionMakerKnown', async (t) => {
  t.same(unmetCriteria(gate('ACCEPTANCE'), subject({ qualification: { needDefined: true, decisionMakerKnown: true } })), [], 'both known: met');
  const u = unmetCriteria(gate('ACCEPTANCE'), subject({ qualification: { needDefined: true } }));
  t.same(names(u), ['decisionMakerKnown', 'purchaseMotive', 'paymentCapability', 'judgement'], 'the missing fact, then what the alternatives lack');
  t.match(u[0]?.message, /decision maker/);
  t.match(u[0]?.message, /purchaseMotive and paymentCapability when intent is unclear/);
  t.same(names(unmetCriteria(gate('ACCEPTANCE'), subject())), ['needDefined', 'decisionMakerKnown', 'purchaseMotive', 'paymentCapability', 'judgement'], 'nothing known: every criterion by name');
});

t.test('ACCEPTANCE either/or: purchase motive and ability to pay when intent is unclear', async (t) => {
  t.same(unmetCriteria(gate('ACCEPTANCE'), subject({ qualification: { purchaseMotive: 'capacity', paymentCapability: 'HIGH' } })), [], 'the alternative branch suffices');
  t.same(names(unmetCriteria(gate('ACCEPTANCE'), subject({ qualification: { purchaseMotive: 'capacity' } }))), ['needDefined', 'decisionMakerKnown', 'paymentCapability', 'judgement'], 'half an alternative is no alternative');
  t.same(unmetCriteria(gate('ACCEPTANCE'), subject({ qualification: { needDefined: true, decisionMakerKnown: true, paymentCapability: 'LOW' } })), [], 'the primary branch alone suffices');
});

t.test('ACCEPTANCE: a recorded judgement suffices', async (t) => {
  t.same(unmetCriteria(gate('ACCEPTANCE'), subject({ qualification: { judgement: 'Known buyer, budget approved verbally' } })), []);
  t.same(names(unmetCriteria(gate('ACCEPTANCE'), subject({ qualification: { judgement: ' ' } }))).includes('judgement'), true, 'a blank judgement is none');
});

t.test('NEGOTIATION: budget, timing and the SOLUTION_ACCEPTED key action', async (t) => {
  t.same(names(unmetCriteria(gate('NEGOTIATION'), subject())), ['budgetKnown', 'timingKnown', 'action:SOLUTION_ACCEPTED']);
  t.same(names(unmetCriteria(gate('NEGOTIATION'), subject({ qualification: { budgetKnown: true, timingKnown: true } }))), ['action:SOLUTION_ACCEPTED']);
  t.same(unmetCriteria(gate('NEGOTIATION'), subject({ qualification: { budgetKnown: true, timingKnown: true }, doneActionKeys: ['SOLUTION_ACCEPTED'] })), []);
  t.same(names(unmetCriteria(gate('NEGOTIATION'), subject({ qualification: { budgetKnown: true, timingKnown: false, judgement: 'trust me' }, doneActionKeys: ['SOLUTION_ACCEPTED'] }))), ['timingKnown'], 'a judgement does not replace NEGOTIATION facts');
});

t.test('WON: an amount above zero', async (t) => {
  t.same(names(unmetCriteria(gate('WON'), subject())), ['amount']);
  t.same(names(unmetCriteria(gate('WON'), subject({ amount: '0.00' }))), ['amount'], 'zero is no amount');
  t.same(unmetCriteria(gate('WON'), subject({ amount: '0.01' })), []);
  t.same(unmetCriteria(gate('WON'), subject({ amount: '1500.00' })), []);
});

t.test('LOST and QUALIFICATION have no gate', async (t) => {
  t.same(unmetCriteria(gate('LOST'), subject()), []);
  t.same(unmetCriteria(gate('QUALIFICATION'), subject()), []);
});

t.test('custom gates', async (t) => {
  t.same(names(unmetCriteria({ facts: ['budgetKnown'], actions: ['DEMO_DONE', 'SITE_VISIT'], amount: true }, subject({ doneActionKeys: ['SITE_VISIT'] }))), ['budgetKnown', 'action:DEMO_DONE', 'amount']);
  t.same(names(unmetCriteria({ orFacts: ['purchaseMotive'] }, subject())), ['purchaseMotive'], 'orFacts alone are simply required');
  t.same(unmetCriteria({ facts: ['timingKnown'], judgement: true }, subject({ qualification: { judgement: 'ok' } })), [], 'judgement as the only alternative');
  t.same(names(unmetCriteria({ facts: ['timingKnown'], judgement: true }, subject())), ['timingKnown', 'judgement']);
  t.same(unmetCriteria({}, subject()), [], 'an empty gate is none');
});

t.test('moves: which gates apply', async (t) => {
  const keys = (from: string, to: string) => gatesForMove(stages, stage(from), stage(to)).map((s) => s.key);
  t.same(keys('QUALIFICATION', 'ACCEPTANCE'), ['ACCEPTANCE']);
  t.same(keys('QUALIFICATION', 'NEGOTIATION'), ['ACCEPTANCE', 'NEGOTIATION'], 'skipping a stage does not skip its gate');
  t.same(keys('QUALIFICATION', 'WON'), ['ACCEPTANCE', 'NEGOTIATION', 'WON']);
  t.same(keys('NEGOTIATION', 'LOST'), [], 'a deal may be lost from anywhere');
  t.same(keys('QUALIFICATION', 'LOST'), []);
  t.same(keys('NEGOTIATION', 'QUALIFICATION'), [], 'moving back passes no gate');
  t.same(keys('LOST', 'NEGOTIATION'), [], 'reopening into an open stage passes no gate');
  t.same(keys('LOST', 'WON'), ['WON'], 'reopening straight into WON needs the amount');
  const unmet = checkMove(stages, stage('QUALIFICATION'), stage('NEGOTIATION'), subject({ qualification: { judgement: 'ok', budgetKnown: true } }));
  t.same(unmet.map((u) => `${u.stageKey}:${u.criterion}`), ['NEGOTIATION:timingKnown', 'NEGOTIATION:action:SOLUTION_ACCEPTED'], 'each unmet criterion names its stage');
});
