/**
 * Stage gates: pure functions of a stage's gate definition, an opportunity's qualification facts,
 * its amount and the keys of its done key actions. No database, no clock.
 *
 * A gate (the `gates` object of a pipeline stage) is declarative:
 *   facts     every one of these qualification facts must be known
 *   orFacts   an alternative to `facts`: all of these known satisfies the facts requirement too
 *             (domain.md §5: purchase motive and ability to pay when intent is unclear)
 *   judgement a recorded `judgement` satisfies the facts requirement too
 *   actions   key actions (action `key`) that must be DONE on the opportunity
 *   amount    the opportunity must carry an amount greater than zero
 * An empty object is no gate.
 */

export const BOOLEAN_FACTS = ['needDefined', 'decisionMakerKnown', 'budgetKnown', 'timingKnown'] as const;
export const QUALIFICATION_FACTS = [...BOOLEAN_FACTS, 'purchaseMotive', 'paymentCapability', 'judgement'] as const;
export const PAYMENT_CAPABILITIES = ['LOW', 'MEDIUM', 'HIGH'] as const;

export type QualificationFact = (typeof QUALIFICATION_FACTS)[number];
export type Qualification = {
  needDefined?: boolean | undefined;
  decisionMakerKnown?: boolean | undefined;
  budgetKnown?: boolean | undefined;
  timingKnown?: boolean | undefined;
  purchaseMotive?: string | undefined;
  paymentCapability?: (typeof PAYMENT_CAPABILITIES)[number] | undefined;
  judgement?: string | undefined;
};

export type Gate = {
  facts?: QualificationFact[] | undefined;
  orFacts?: QualificationFact[] | undefined;
  judgement?: boolean | undefined;
  actions?: string[] | undefined;
  amount?: boolean | undefined;
};

export type UnmetCriterion = { criterion: string; message: string; stageKey?: string };

export type GateSubject = { qualification: Qualification; amount: string | null; doneActionKeys: readonly string[] };

const FACT_MESSAGES: Record<QualificationFact, string> = {
  needDefined: 'the need is not defined (needDefined)',
  decisionMakerKnown: 'the decision maker and decision relationships are not known (decisionMakerKnown)',
  budgetKnown: 'the budget is not known (budgetKnown)',
  timingKnown: 'the purchase timing is not known (timingKnown)',
  purchaseMotive: 'no purchase motive recorded (purchaseMotive)',
  paymentCapability: 'the ability to pay is not assessed (paymentCapability)',
  judgement: 'no judgement recorded (judgement)',
};

/** A boolean fact is known when true; a text fact when it holds some text; paymentCapability when assessed. */
export function factKnown(q: Qualification, fact: QualificationFact): boolean {
  const v = q[fact];
  if (typeof v === 'boolean') return v;
  return typeof v === 'string' && v.trim().length > 0;
}

// A decimal string is zero when it has no digit other than 0. Money is never turned into a float.
const isPositiveAmount = (amount: string | null): boolean => amount !== null && /[1-9]/.test(amount) && !amount.trim().startsWith('-');

/** Every criterion of `gate` that `subject` does not meet, in the order of the gate's definition. */
export function unmetCriteria(gate: Gate, subject: GateSubject): UnmetCriterion[] {
  const out: UnmetCriterion[] = [];
  const q = subject.qualification;
  const facts = gate.facts ?? [];
  const orFacts = gate.orFacts ?? [];
  const missing = facts.filter((f) => !factKnown(q, f));
  if (missing.length > 0) {
    const altMissing = orFacts.filter((f) => !factKnown(q, f));
    const byAlternative = orFacts.length > 0 && altMissing.length === 0;
    const byJudgement = gate.judgement === true && factKnown(q, 'judgement');
    if (!byAlternative && !byJudgement) {
      const alternatives = [
        ...(orFacts.length ? [`${orFacts.join(' and ')} when intent is unclear`] : []),
        ...(gate.judgement ? ['a recorded judgement'] : []),
      ];
      const suffix = alternatives.length ? ` — or instead ${alternatives.join(', or ')}` : '';
      for (const f of missing) out.push({ criterion: f, message: `${FACT_MESSAGES[f]}${suffix}` });
      // The alternative's own gaps, so a client pursuing it sees what it still lacks.
      for (const f of altMissing) out.push({ criterion: f, message: `${FACT_MESSAGES[f]} (alternative to ${facts.join(', ')})` });
      if (gate.judgement) out.push({ criterion: 'judgement', message: `${FACT_MESSAGES.judgement} (alternative to ${facts.join(', ')})` });
    }
  } else if (facts.length === 0 && orFacts.length > 0) {
    // `orFacts` alone (no primary facts) is simply a list of required facts.
    for (const f of orFacts.filter((x) => !factKnown(q, x))) out.push({ criterion: f, message: FACT_MESSAGES[f] });
  }
  for (const key of gate.actions ?? []) {
    if (!subject.doneActionKeys.includes(key)) out.push({ criterion: `action:${key}`, message: `the key action ${key} is not done` });
  }
  if (gate.amount && !isPositiveAmount(subject.amount)) out.push({ criterion: 'amount', message: 'the opportunity has no amount' });
  return out;
}

export type StageForGates = { id: string; key: string; position: number; terminal: boolean; outcome: string | null; gates: Gate };

/**
 * The gates a move must pass: none when losing (a deal may be lost from anywhere) or moving back;
 * otherwise the target's gate and, when moving forward from an open stage, the gates of the open
 * stages it skips (skipping NEGOTIATION does not skip its criteria).
 */
export function gatesForMove(stages: readonly StageForGates[], from: StageForGates, to: StageForGates): StageForGates[] {
  if (to.outcome === 'LOST') return [];
  const forward = to.position > from.position || (to.terminal && !from.terminal);
  if (!forward && !to.terminal) return [];
  const skipped = from.terminal ? [] : stages.filter((s) => !s.terminal && s.position > from.position && s.position < to.position);
  return [...[...skipped].sort((a, b) => a.position - b.position), to];
}

/** Every unmet criterion of a move, each labelled with the stage whose gate asks for it. */
export function checkMove(stages: readonly StageForGates[], from: StageForGates, to: StageForGates, subject: GateSubject): UnmetCriterion[] {
  return gatesForMove(stages, from, to).flatMap((s) => unmetCriteria(s.gates, subject).map((u) => ({ ...u, stageKey: s.key })));
}

/** The default pipeline's stages and gates (domain.md §5). */
export const DEFAULT_STAGES: { key: string; name: string; probability: number; terminal: boolean; outcome: 'WON' | 'LOST' | null; gates: Gate }[] = [
  { key: 'QUALIFICATION', name: 'Needs identification', probability: 10, terminal: false, outcome: null, gates: {} },
  {
    key: 'ACCEPTANCE',
    name: 'Solution accepted',
    probability: 40,
    terminal: false,
    outcome: null,
    gates: { facts: ['needDefined', 'decisionMakerKnown'], orFacts: ['purchaseMotive', 'paymentCapability'], judgement: true },
  },
  {
    key: 'NEGOTIATION',
    name: 'Negotiation',
    probability: 70,
    terminal: false,
    outcome: null,
    gates: { facts: ['budgetKnown', 'timingKnown'], actions: ['SOLUTION_ACCEPTED'] },
  },
  { key: 'WON', name: 'Won', probability: 100, terminal: true, outcome: 'WON', gates: { amount: true } },
  { key: 'LOST', name: 'Lost', probability: 0, terminal: true, outcome: 'LOST', gates: {} },
];
