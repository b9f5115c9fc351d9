/**
 * The conversion report against a naive computation: random stage histories (forward, skipped, back,
 * lost, won, reopened) spread over the past months, owned across a branch, another branch and two
 * partners; every persona, random periods and every groupBy. The expected answer is computed here,
 * record by record, from the rules in docs/reports.md ("Conversion"), never from the report's SQL.
 *
 * The histories are written straight into the tables (the API stamps every move with the time it is
 * made, and months of history cannot be made by waiting); the customers come through the API.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import t from 'tap';
import { buildTestApp, company, type User } from '../../helpers/app.js';
import { testPipeline } from '../../helpers/factories.js';

const app = await buildTestApp();
t.teardown(() => app.close());
const pipeline = await testPipeline(app);
const c = await company(app);

// A seeded generator, so a failure can be replayed (the seed is printed).
const seed = Number(process.env.REPORTS_SEED ?? Date.now() % 100_000);
t.comment(`seed ${seed}`);
let state = seed;
const rnd = () => {
  state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
  return state / 2_147_483_648;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

type Stage = { id: string; key: string; order: number; terminal: boolean; outcome: string | null };
const stages = pipeline.stages as unknown as Stage[];
const open = stages.filter((s) => !s.terminal).sort((a, b) => a.order - b.order);
const rank = (s: Stage): number | null => (s.outcome === 'WON' ? Number.MAX_SAFE_INTEGER : s.outcome === 'LOST' ? null : s.order);

const day = 86_400_000;
const now = Date.now();
const owners: { user: User; unitId: string }[] = [
  { user: c.users.sales, unitId: c.branch.id },
  { user: c.users.otherSales, unitId: c.otherBranch.id },
  { user: c.users.partnerASubSales, unitId: c.partnerASub.id },
  { user: c.users.partnerBSales, unitId: c.partnerB.id },
];
const sources = ['EVENT', 'WEBSITE', 'REFERRAL', 'MEDIA'] as const;

type Opp = { id: string; owner: (typeof owners)[number]; source: string; createdAt: number; events: { at: number; stage: Stage }[]; moves: { at: number; from: Stage; to: Stage; seconds: number }[] };
const opps: Opp[] = [];

for (const [i, owner] of owners.entries()) {
  const customer = await app.customer(owner.user, { source: { channel: sources[i] } as never });
  for (let n = 0; n < 12; n++) {
    const createdAt = now - Math.floor(rnd() * 240 * day);
    const first = open[0] as Stage;
    const o: Opp = { id: randomUUID(), owner, source: sources[i] as string, createdAt, events: [{ at: createdAt, stage: first }], moves: [] };
    let at = createdAt;
    let cur = first;
    const steps = Math.floor(rnd() * 6);
    for (let k = 0; k < steps; k++) {
      const gap = 1000 + Math.floor(rnd() * 30 * day);
      if (at + gap >= now - 1000) break;
      const choices = cur.terminal ? open : stages.filter((s) => s.id !== cur.id);
      const to = pick(choices);
      at += gap;
      o.moves.push({ at, from: cur, to, seconds: Math.floor(gap / 1000) });
      o.events.push({ at, stage: to });
      cur = to;
    }
    opps.push(o);
    const status = cur.outcome ?? 'OPEN';
    const last = o.events[o.events.length - 1]?.at ?? createdAt;
    await app.db.execute(sql`INSERT INTO opportunities (id, customer_id, pipeline_id, stage_id, created_stage_id, name, amount, currency, status, stage_entered_at, closed_at, owner_user_id, owner_unit_id, created_by, created_at, updated_at)
      VALUES (${o.id}::uuid, ${customer.id}::uuid, ${pipeline.id}::uuid, ${cur.id}::uuid, ${first.id}::uuid, ${`Deal ${n}`}, ${'1000.00'}, 'EUR', ${status}, ${new Date(last).toISOString()}::timestamptz,
        ${cur.terminal ? new Date(last).toISOString() : null}::timestamptz, ${owner.user.id}::uuid, ${owner.unitId}::uuid, ${owner.user.id}::uuid, ${new Date(createdAt).toISOString()}::timestamptz, now())`);
    for (const m of o.moves) {
      await app.db.execute(sql`INSERT INTO stage_transitions (opportunity_id, customer_id, from_stage_id, to_stage_id, reason, seconds_in_from_stage, actor_id, at)
        VALUES (${o.id}::uuid, ${customer.id}::uuid, ${m.from.id}::uuid, ${m.to.id}::uuid, 'history', ${m.seconds}, ${owner.user.id}::uuid, ${new Date(m.at).toISOString()}::timestamptz)`);
    }
  }
}

type GroupBy = 'unit' | 'user' | 'partner' | 'source' | undefined;
const groupKey = (o: Opp, g: GroupBy): string | null => {
  switch (g) {
    case 'unit':
      return o.owner.unitId;
    case 'user':
      return o.owner.user.id;
    case 'partner':
      return o.owner.unitId === c.partnerASub.id ? c.partnerA.id : o.owner.unitId === c.partnerB.id ? c.partnerB.id : null;
    case 'source':
      return o.source;
    default:
      return null;
  }
};
const days = (s: number | null) => (s === null ? null : Math.round((s / 86_400) * 100) / 100);
const rate = (a: number, b: number) => (b > 0 ? (Math.round((a / b) * 10_000) / 10_000).toFixed(4) : null);
const median = (xs: number[]) => {
  if (!xs.length) return null;
  const s = [...xs].sort((a, b) => a - b);
  const m = (s.length - 1) / 2;
  return ((s[Math.floor(m)] as number) + (s[Math.ceil(m)] as number)) / 2;
};
const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);

function naive(visible: Opp[], g: GroupBy, from: number, to: number) {
  const groups = new Map<string | null, ReturnType<typeof emptyGroup>>();
  function emptyGroup() {
    return {
      steps: open.map((s, i) => ({ fromStageKey: s.key, toStageKey: open[i + 1]?.key ?? 'WON', entered: 0, advanced: 0, lost: 0, won: 0, decided: 0, times: [] as number[] })),
      won: 0,
      lost: 0,
      cycles: [] as number[],
      backward: 0,
      reopened: 0,
      seen: false,
    };
  }
  const groupOf = (o: Opp) => {
    const k = groupKey(o, g);
    if (!groups.has(k)) groups.set(k, emptyGroup());
    return groups.get(k) as ReturnType<typeof emptyGroup>;
  };
  for (const o of visible) {
    if (o.createdAt >= to) continue;
    const evs = o.events.filter((e) => e.at < to);
    const final = evs[evs.length - 1]?.stage;
    for (const [i, s] of open.entries()) {
      const reached = evs.filter((e) => (rank(e.stage) ?? -1) >= s.order).map((e) => e.at);
      const reachedAt = reached.length ? Math.min(...reached) : null;
      if (reachedAt === null || reachedAt < from || reachedAt >= to) continue;
      const st = groupOf(o).steps[i] as ReturnType<typeof emptyGroup>['steps'][number];
      const advanced = evs.some((e) => (rank(e.stage) ?? -1) > s.order);
      st.entered++;
      if (advanced) st.advanced++;
      else if (final?.outcome === 'LOST') st.lost++;
      if (final?.outcome === 'WON') st.won++;
      if (final?.terminal) st.decided++;
    }
    for (const m of o.moves) {
      if (m.at < from || m.at >= to) continue;
      const grp = groupOf(o);
      if (!m.from.terminal) grp.steps[open.findIndex((s) => s.id === m.from.id)]?.times.push(m.seconds);
      if (!m.from.terminal && !m.to.terminal && m.to.order < m.from.order) grp.backward++;
      if (m.from.terminal) grp.reopened++;
    }
    const cur = o.events[o.events.length - 1] as Opp['events'][number];
    if (cur.stage.terminal && cur.at >= from && cur.at < to) {
      const grp = groupOf(o);
      if (cur.stage.outcome === 'WON') {
        grp.won++;
        grp.cycles.push((cur.at - o.createdAt) / 1000);
      } else grp.lost++;
    }
  }
  if (!g && groups.size === 0) groups.set(null, emptyGroup());
  return new Map(
    [...groups].map(([k, x]) => [
      k,
      {
        steps: x.steps.map(({ times, won, decided, ...s }) => ({
          ...s,
          open: s.entered - s.advanced - s.lost,
          conversionRate: rate(s.advanced, s.advanced + s.lost),
          sampleSize: s.advanced + s.lost,
          wonByEnd: won,
          winRateFromStage: rate(won, decided),
          meanDaysInStage: days(mean(times)),
          medianDaysInStage: days(median(times)),
          timeSampleSize: times.length,
        })),
        wonCount: x.won,
        lostCount: x.lost,
        winRate: rate(x.won, x.won + x.lost),
        meanCycleDays: days(mean(x.cycles)),
        backwardMoves: x.backward,
        reopenings: x.reopened,
      },
    ]),
  );
}

const personas: [User, (o: Opp) => boolean][] = [
  [c.users.admin, () => true],
  [c.users.regionManager, () => true],
  [c.users.branchManager, (o) => o.owner.unitId === c.branch.id],
  [c.users.partnerAManager, (o) => o.owner.unitId === c.partnerASub.id],
  [c.users.partnerBManager, (o) => o.owner.unitId === c.partnerB.id],
];

t.test('conversion equals the naive computation for every persona, period and grouping', async (t) => {
  for (let round = 0; round < 4; round++) {
    const a = now - Math.floor(rnd() * 250 * day);
    const b = round === 0 ? now : a + Math.floor(rnd() * 200 * day);
    const [from, to] = [Math.min(a, b), Math.min(Math.max(a, b), now)];
    for (const [who, sees] of personas) {
      for (const g of [undefined, 'unit', 'user', 'partner', 'source'] as GroupBy[]) {
        const q = `pipelineId=${pipeline.id}&from=${new Date(from).toISOString()}&to=${new Date(to).toISOString()}${g ? `&groupBy=${g}` : ''}`;
        const r = await app.rest(who, 'GET', `/v1/reports/conversion?${q}`);
        if (r.status !== 200) t.fail(r.raw);
        const expected = naive(opps.filter(sees), g, from, to);
        const got = new Map((r.body.groups as { group: { key: string | null } | null }[]).map(({ group, ...rest }) => [group?.key ?? null, rest]));
        t.same([...got.keys()].sort(), [...expected.keys()].sort(), `groups: ${who.roles} ${g} seed ${seed}`);
        for (const [k, v] of expected) t.same(got.get(k), v, `${who.roles} ${g} ${k} seed ${seed}`);
      }
    }
  }
});

// The forecast's stage rates measure, over the last twelve months (every history here is younger), the
// share of the deals that reached each stage and stand WON among those that stand WON or LOST.
t.test('forecast stage rates equal the naive won / decided for every persona', async (t) => {
  for (const [who, sees] of personas) {
    const r = await app.rest(who, 'GET', `/v1/reports/forecast?pipelineId=${pipeline.id}&minSample=1`);
    if (r.status !== 200) t.fail(r.raw);
    const expected = open.map((s) => {
      let won = 0;
      let decided = 0;
      for (const o of opps.filter(sees)) {
        if (!o.events.some((e) => (rank(e.stage) ?? -1) >= s.order)) continue;
        const final = (o.events[o.events.length - 1] as Opp['events'][number]).stage;
        if (final.terminal) decided++;
        if (final.outcome === 'WON') won++;
      }
      return decided > 0 ? [s.key, decided, 'HISTORY', rate(won, decided)] : [s.key, 0, 'PIPELINE'];
    });
    const got = (r.body.stageRates as { stageKey: string; rate: string; sampleSize: number; source: string }[]).map((x) =>
      x.source === 'HISTORY' ? [x.stageKey, x.sampleSize, x.source, x.rate] : [x.stageKey, x.sampleSize, x.source],
    );
    t.same(got, expected, `${who.roles} seed ${seed}`);
  }
});
