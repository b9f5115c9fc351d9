// Each customer's story up to the lifecycle stage it is meant to reach, told through the services:
// contact history, the lead stages, deals (whose opening and win move the customer on by the
// domain's own rules), the last manual steps, and care actions for existing customers.
import { isBefore, LEAD_STAGES, LIFECYCLE_STAGES, type LifecycleStage, stageRank } from '../../modules/customers/index.js';
import type { Backdating } from './backdate.js';
import type { SeedContext, SeededCustomer } from './context.js';
import { dealsFor, seedDeal } from './opportunities.js';
import { DAY } from './random.js';
import { ACTION_TITLES, OUTCOMES, SUBJECTS } from './words.js';

const REASONS: Record<LifecycleStage, string> = {
  SUSPECT: 'Back to the start',
  PROSPECT: 'Showed interest',
  OPPORTUNITY: 'Qualified: need and decision maker known',
  CUSTOMER: 'First order',
  USER: 'Delivered and in service',
};

export async function seedHistory(ctx: SeedContext, c: SeededCustomer, actorId: string, dated: Backdating): Promise<void> {
  const { rng, services, summary } = ctx;
  const ago = (days: number) => new Date(ctx.now - Math.round(days * DAY));
  const actor = await ctx.as(actorId);
  const history = 20 + rng.int(0, 340); // days since the first touch
  let stage: LifecycleStage = LIFECYCLE_STAGES[0];
  // The dates of this customer's lifecycle moves, in the order the moves are made.
  const moves: Date[] = [];
  const move = async (to: LifecycleStage, at: Date, reason = REASONS[to]) => {
    await services.lifecycle.transition(actor, c.id, { to, reason });
    moves.push(at);
    stage = to;
  };

  // Contact history on most customers, over the last months.
  if (rng.chance(0.85)) {
    const n = rng.int(1, 6);
    for (let k = 0; k < n; k++) {
      const channel = rng.weighted([['PHONE', 5], ['EMAIL', 5], ['VISIT', 2], ['MEETING', 2], ['EVENT', 1], ['WEB', 1]] as const);
      await services.contactHistory.record(actor, c.id, {
        channel,
        direction: channel === 'WEB' ? 'INBOUND' : rng.chance(0.7) ? 'OUTBOUND' : 'INBOUND',
        occurredAt: ago(rng.int(1, Math.min(history, 180)) + rng.next()).toISOString(),
        subject: rng.pick(SUBJECTS[channel] ?? ['Contact']),
        outcome: rng.pick(OUTCOMES),
        contactId: c.contactIds.length && rng.chance(0.8) ? rng.pick(c.contactIds) : null,
      });
      summary.interactions++;
    }
  }

  // The lead stages by hand, early in the history.
  const leads = LIFECYCLE_STAGES.filter((s) => LEAD_STAGES.has(s) && stageRank(s) > stageRank(stage) && stageRank(s) <= stageRank(c.target));
  for (const [k, s] of leads.entries()) await move(s, ago(history * (1 - (k + 1) / (leads.length + 2))));

  // Deals, only for customers a salesperson owns (the pool has none). Opening one makes the customer
  // an OPPORTUNITY and winning one a CUSTOMER: the service moves it, the seed notes when.
  let last = moves[moves.length - 1] ?? ago(history);
  if (c.ownerUserId) {
    for (const plan of dealsFor(ctx, c)) {
      const deal = await seedDeal(ctx, c, actor, plan, history, dated);
      if (isBefore(stage, 'OPPORTUNITY')) {
        moves.push(deal.openedAt);
        stage = 'OPPORTUNITY';
      }
      if (deal.won && isBefore(stage, 'CUSTOMER')) {
        moves.push(deal.closedAt ?? deal.openedAt);
        stage = 'CUSTOMER';
      }
      const end = deal.closedAt ?? deal.openedAt;
      if (end > last) last = end;
    }
  }

  // The rest of the way by hand: on to the target, or back to nurturing after a lost deal.
  const midway = () => new Date(last.getTime() + (ctx.now - last.getTime()) / 2);
  if (isBefore(c.target, stage)) {
    await move(c.target, midway(), 'Deal lost: back to nurturing');
  } else {
    for (const s of LIFECYCLE_STAGES.filter((x) => stageRank(x) > stageRank(stage) && stageRank(x) <= stageRank(c.target))) {
      last = midway();
      await move(s, last);
    }
  }
  dated.lifecycle.push({ customerId: c.id, times: moves });

  // Care for existing customers: an occasional open action on the customer itself.
  if (c.ownerUserId && (c.target === 'CUSTOMER' || c.target === 'USER') && rng.chance(0.35)) {
    const [title, key] = rng.pick(ACTION_TITLES[c.target] ?? []);
    const due = rng.chance(0.2) ? null : new Date(ctx.now + Math.round((rng.int(-3, 30) + rng.next()) * DAY)).toISOString();
    await services.actions.createForCustomer(actor, c.id, { title, key, dueAt: due, value: rng.int(1, 4), urgency: rng.int(1, 3) });
    summary.actions++;
  }
}
