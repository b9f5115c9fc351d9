// Deals: opportunities in the bootstrap's default pipeline, walked stage by stage through the
// opportunities service so every gate is met the way a salesperson would meet it — qualification
// facts recorded, the required key action done, an amount before a win — with the owner's next
// steps as open key actions. Dates are set back afterwards by backdate.ts.
import type { Principal } from '../../lib/access.js';
import type { SeedContext, SeededCustomer } from './context.js';
import type { Backdating } from './backdate.js';
import { DAY } from './random.js';
import { ACTION_TITLES, COMPETITORS, LOST_REASONS, PRODUCTS } from './words.js';

const OPEN_STAGES = ['QUALIFICATION', 'ACCEPTANCE', 'NEGOTIATION'] as const;
type OpenStage = (typeof OPEN_STAGES)[number];
// How a deal ends up: still open at a stage, won, or lost after reaching some stages.
export type DealPlan = { open: OpenStage } | { won: true } | { lost: true };

/** The deals a customer's story needs: what it reaches decides whether it bought. */
export function dealsFor(ctx: SeedContext, c: SeededCustomer): DealPlan[] {
  const { rng } = ctx;
  const plans: DealPlan[] = [];
  if (c.target === 'OPPORTUNITY') plans.push({ open: rng.weighted([['QUALIFICATION', 4], ['ACCEPTANCE', 3], ['NEGOTIATION', 3]] as const) });
  if (c.target === 'CUSTOMER' || c.target === 'USER') plans.push({ won: true });
  if ((c.target === 'PROSPECT' || c.target === 'OPPORTUNITY' || c.target === 'USER') && rng.chance(0.2)) plans.push({ lost: true });
  return plans;
}

export type DealOutcome = { openedAt: Date; closedAt: Date | null; won: boolean; lost: boolean };

/**
 * One deal from opening to where its plan ends, as the customer's owner. A deal left at
 * QUALIFICATION went to ACCEPTANCE once and came back when its decision maker changed, so every
 * opportunity has a stage history.
 */
export async function seedDeal(ctx: SeedContext, c: SeededCustomer, owner: Principal, plan: DealPlan, history: number, dated: Backdating): Promise<DealOutcome> {
  const { rng, services, summary } = ctx;
  const ago = (days: number) => new Date(ctx.now - Math.round(days * DAY));
  const reached = 'won' in plan ? 3 : 'lost' in plan ? rng.int(1, 3) : Math.max(2, OPEN_STAGES.indexOf(plan.open) + 1);
  const path: string[] = [...OPEN_STAGES.slice(0, reached)];
  if ('won' in plan) path.push('WON');
  if ('lost' in plan) path.push('LOST');
  if ('open' in plan && plan.open === 'QUALIFICATION') path.push('QUALIFICATION');
  const started = Math.min(rng.int(20, 200), Math.max(2, history * 0.6));
  const times = path.map((_, k) => ago(started - (started * k) / path.length - rng.next()));
  const closed = 'won' in plan || 'lost' in plan;
  const clearIntent = 'open' in plan && plan.open === 'QUALIFICATION' ? true : rng.chance(0.8);

  const opp = await services.opportunities.create(owner, {
    customerId: c.id,
    name: `${rng.pick(PRODUCTS)} ${(times[0] as Date).getUTCFullYear()}`,
    amount: `${rng.int(8, 400) * 250}.00`,
    currency: 'EUR',
    expectedCloseDate: new Date(closed ? (times[times.length - 1] as Date).getTime() : ctx.now + rng.int(10, 120) * DAY).toISOString().slice(0, 10),
    qualification: { needDefined: rng.chance(0.5), ...(rng.chance(0.2) ? { judgement: 'Experienced account manager: strong fit, decision this quarter' } : {}) },
  });
  summary.opportunities++;
  const completions: { id: string; at: Date }[] = [];
  // A key action done on the way, dated shortly before the move it enabled.
  const done = async (title: string, key: string, before: Date) => {
    const a = await services.actions.createForOpportunity(owner, opp.id, { title, key, value: 3, urgency: 3 });
    await services.actions.update(owner, a.id, { status: 'DONE' });
    completions.push({ id: a.id, at: new Date(before.getTime() - 3_600_000) });
    summary.actions++;
  };

  for (let k = 1; k < path.length; k++) {
    const to = path[k] as string;
    const at = times[k] as Date;
    if (to === 'ACCEPTANCE') {
      // The acceptance gate: need and decision maker known, or, when intent is unclear, motive and ability to pay.
      if (clearIntent) await done('Identify the decision maker', 'DECISION_MAKER_KNOWN', at);
      await services.opportunities.update(owner, opp.id, {
        qualification: clearIntent ? { needDefined: true, decisionMakerKnown: true } : { needDefined: true, purchaseMotive: 'Replacement of worn equipment', paymentCapability: rng.pick(['MEDIUM', 'HIGH'] as const) },
      });
    }
    if (to === 'NEGOTIATION') {
      await done('Get the solution accepted by the customer', 'SOLUTION_ACCEPTED', at);
      await services.opportunities.update(owner, opp.id, { qualification: { budgetKnown: true, timingKnown: true } });
    }
    if (to === 'LOST') {
      await services.opportunities.transition(owner, opp.id, { toStageKey: to, lostReason: rng.pick(LOST_REASONS), ...(rng.chance(0.7) ? { competitor: rng.pick(COMPETITORS) } : {}) });
    } else if (to === 'QUALIFICATION') {
      await services.opportunities.transition(owner, opp.id, { toStageKey: to, reason: 'A new managing director: the decision relationships are open again' });
      await services.opportunities.update(owner, opp.id, { qualification: { decisionMakerKnown: false } });
    } else {
      await services.opportunities.transition(owner, opp.id, { toStageKey: to });
    }
  }

  // Open deals carry their next steps on the owner's agenda, some of them overdue.
  if (!closed) {
    const titles = ACTION_TITLES[path[path.length - 1] as string] ?? [];
    const n = rng.int(1, 2);
    for (let k = 0; k < n; k++) {
      const [title, key] = rng.pick(titles);
      await services.actions.createForOpportunity(owner, opp.id, {
        title,
        key,
        dueAt: new Date(ctx.now + Math.round((rng.int(-6, 14) + rng.next()) * DAY)).toISOString(),
        value: rng.int(2, 5),
        urgency: rng.int(1, 5),
      });
      summary.actions++;
    }
  }
  dated.opportunities.push({ id: opp.id, times, closed });
  dated.completions.push(...completions);
  return { openedAt: times[0] as Date, closedAt: closed ? (times[times.length - 1] as Date) : null, won: 'won' in plan, lost: 'lost' in plan };
}
