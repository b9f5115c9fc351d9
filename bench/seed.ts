import { createHash } from 'node:crypto';
import type pg from 'pg';

// Deterministic bench data: the org tree and the users are built here (a few thousand rows), the
// bulk (customers, contacts, interactions, opportunities, transitions) in SQL from generate_series,
// with every "random" choice a hash of the row number, so a given scale is the same data every run.

export type ScaleName = 'tiny' | 'default' | 'large';
export type Scale = { customers: number; interactions: number; opportunities: number; users: number; shares: number };

export const SCALES: Record<ScaleName, Scale> = {
  tiny: { customers: 400, interactions: 2_000, opportunities: 200, users: 300, shares: 10 },
  default: { customers: 100_000, interactions: 500_000, opportunities: 20_000, users: 2_000, shares: 500 },
  large: { customers: 1_000_000, interactions: 5_000_000, opportunities: 200_000, users: 5_000, shares: 5_000 },
};

// A deterministic uuid from a key: md5 with the version (4) and variant (8) digits set, so it is a
// valid RFC 9562 uuid like the app's own; the same as pg_temp.bench_uuid(text) in bulkSql.
export function uuidOf(key: string): string {
  const h = createHash('md5').update(key).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20)}`;
}

type UnitSeed = { id: string; name: string; kind: string; partnerType: string | null; parentId: string; path: string };
type UserSeed = { id: string; email: string; name: string; unitId: string; kind: 'HUMAN' | 'SERVICE'; role: string; group: number | null };

// Owner groups of customers (see the CASE in customersSql): the big partner's salespeople, other
// partners' salespeople, branch salespeople, and marketing's pool (a unit, no user).
const GROUP_BIG_PARTNER = 0;
const GROUP_OTHER_PARTNERS = 1;
const GROUP_BRANCHES = 2;
const GROUP_POOL = 3;

export const REGIONS = 5;
export const BRANCHES_PER_REGION = 8;
export const DEPARTMENTS = 10;
export const PARTNERS = 30;

export type Personas = {
  partnerSales: string;
  partnerManager: string;
  regionManager: string;
  admin: string;
  // A partner salesperson of another partner in another region: what the first three must not see.
  foreignSales: string;
};

export type OrgSeed = { units: UnitSeed[]; users: UserSeed[]; personas: Personas; poolUnitId: string; marketingUserId: string };

const PARTNER_TYPES = ['AGENT', 'DISTRIBUTOR', 'RESELLER', 'SERVICE_PROVIDER'];

export function buildOrg(rootId: string, rootPath: string, adminId: string, scale: Scale): OrgSeed {
  const units: UnitSeed[] = [];
  const add = (key: string, name: string, kind: string, parent: { id: string; path: string }, partnerType: string | null = null) => {
    const id = uuidOf(`unit:${key}`);
    const u = { id, name, kind, partnerType, parentId: parent.id, path: `${parent.path}${id}/` };
    units.push(u);
    return u;
  };
  const root = { id: rootId, path: rootPath };
  const regions = Array.from({ length: REGIONS }, (_, r) => add(`region:${r}`, `Bench Region ${r + 1}`, 'REGION', root));
  const branches = regions.flatMap((reg, r) => Array.from({ length: BRANCHES_PER_REGION }, (_, b) => add(`branch:${r}:${b}`, `Bench Branch ${r + 1}.${b + 1}`, 'BRANCH', reg)));
  const departments = Array.from({ length: DEPARTMENTS }, (_, d) => add(`dept:${d}`, d === 0 ? 'Bench Marketing' : `Bench Department ${d + 1}`, 'DEPARTMENT', root));
  const partners = Array.from({ length: PARTNERS }, (_, p) =>
    add(`partner:${p}`, p === 0 ? 'Bench Big Partner' : `Bench Partner ${p + 1}`, 'PARTNER', regions[p % REGIONS]!, PARTNER_TYPES[p % PARTNER_TYPES.length]!),
  );
  // The first four partners have two sub-units, the others one: 120 units with the root.
  const partnerSubs = partners.map((pu, p) => Array.from({ length: p < 4 ? 2 : 1 }, (_, s) => add(`partner:${p}:sub:${s}`, `${pu.name} Sub ${s + 1}`, 'DEPARTMENT', pu)));

  const users: UserSeed[] = [];
  let n = 0;
  const user = (unitId: string, role: string, group: number | null = null, kind: 'HUMAN' | 'SERVICE' = 'HUMAN') => {
    n++;
    const u = { id: uuidOf(`user:${n}`), email: `${role.replace('_', '-')}.${n}@bench.keel.dev`, name: `Bench ${role} ${n}`, unitId, kind, role, group };
    users.push(u);
    return u;
  };
  user(rootId, 'executive');
  user(rootId, 'integration', null, 'SERVICE');
  const regionManagers = regions.map((r) => user(r.id, 'manager'));
  for (const b of branches) user(b.id, 'manager');
  for (const d of departments) user(d.id, 'manager');
  for (const b of branches) user(b.id, 'service');
  const marketing = Array.from({ length: 10 }, () => user(departments[0]!.id, 'marketing'));
  const partnerManagers = partners.map((p) => user(p.id, 'partner_manager'));
  const rest = Math.max(scale.users - users.length, 60);
  const bigUnits = [partners[0]!, ...partnerSubs[0]!];
  const otherPartnerUnits = partners.slice(1).flatMap((p, i) => [p, ...partnerSubs[i + 1]!]);
  const big = Array.from({ length: Math.round(rest * 0.1) }, (_, i) => user(bigUnits[i % bigUnits.length]!.id, 'partner_sales', GROUP_BIG_PARTNER));
  const others = Array.from({ length: Math.round(rest * 0.3) }, (_, i) => user(otherPartnerUnits[i % otherPartnerUnits.length]!.id, 'partner_sales', GROUP_OTHER_PARTNERS));
  const remaining = rest - big.length - others.length;
  Array.from({ length: remaining }, (_, i) => user(branches[i % branches.length]!.id, 'sales', GROUP_BRANCHES));

  // A salesperson of partner 1 (region 2): outside the big partner and outside region 1.
  const foreign = others.find((u) => u.unitId === partners[1]!.id)!;
  return {
    units,
    users,
    personas: { partnerSales: big[0]!.id, partnerManager: partnerManagers[0]!.id, regionManager: regionManagers[0]!.id, admin: adminId, foreignSales: foreign.id },
    poolUnitId: departments[0]!.id,
    marketingUserId: marketing[0]!.id,
  };
}

// Name parts: plain ASCII words, none of them a legal suffix, so the app's folding is lower().
export const WORDS_1 = [
  'Nordhafen', 'Elbtal', 'Alpen', 'Rhein', 'Baltic', 'Sunrise', 'Granite', 'Harbor', 'Meridian', 'Summit',
  'Falcon', 'Cedar', 'Atlas', 'Orion', 'Vega', 'Polar', 'Delta', 'Sierra', 'Tundra', 'Aurora',
  'Coral', 'Maple', 'Willow', 'Quartz', 'Cobalt', 'Amber', 'Onyx', 'Zenith', 'Horizon', 'Pioneer',
  'Beacon', 'Crescent', 'Everest', 'Glacier', 'Lumen', 'Nimbus', 'Oasis', 'Prairie', 'Redwood', 'Solstice',
];
const WORDS_2 = [
  'Logistik', 'Logistics', 'Bau', 'Maschinen', 'Foods', 'Textiles', 'Energy', 'Systems', 'Trading', 'Medical',
  'Chemicals', 'Automotive', 'Electronics', 'Packaging', 'Metals', 'Plastics', 'Furniture', 'Printing', 'Optics', 'Robotics',
];
// Each one is in the app's list of legal suffixes: normalizeName drops it.
const SUFFIXES = ['', ' GmbH', ' Ltd', ' Inc', ' AG', ' SA', ' Corp'];

const arr = (xs: string[]) => `ARRAY[${xs.map((x) => `'${x}'`).join(',')}]`;

// The phone a seeded customer `i` has (as written), for the phone search scenario.
export function phoneOf(i: number): string {
  return `+49 ${30 + (i % 60)} ${1_000_000 + i}`;
}

export async function insertOrg(client: pg.ClientBase, org: OrgSeed): Promise<void> {
  const u = org.units;
  await client.query(
    `INSERT INTO org_units (id, name, kind, partner_type, parent_id, path, created_at, updated_at)
     SELECT * , timestamptz '2022-01-01T00:00:00Z', timestamptz '2022-01-01T00:00:00Z'
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[])`,
    [u.map((x) => x.id), u.map((x) => x.name), u.map((x) => x.kind), u.map((x) => x.partnerType), u.map((x) => x.parentId), u.map((x) => x.path)],
  );
  const us = org.users;
  await client.query(
    `INSERT INTO users (id, email, name, unit_id, kind, created_at, updated_at)
     SELECT *, timestamptz '2022-01-01T00:00:00Z', timestamptz '2022-01-01T00:00:00Z'
     FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::text[])`,
    [us.map((x) => x.id), us.map((x) => x.email), us.map((x) => x.name), us.map((x) => x.unitId), us.map((x) => x.kind)],
  );
  await client.query(
    `INSERT INTO user_roles (user_id, role_id) SELECT x.uid, r.id FROM unnest($1::uuid[], $2::text[]) AS x(uid, rname) JOIN roles r ON r.name = x.rname`,
    [us.map((x) => x.id), us.map((x) => x.role)],
  );
  // Owner groups for the bulk SQL: (group, k) → owner user and unit.
  await client.query(`CREATE TEMP TABLE bench_owner (grp int, k int, user_id uuid, unit_id uuid)`);
  const owners = us.filter((x) => x.group !== null);
  const groups = [GROUP_BIG_PARTNER, GROUP_OTHER_PARTNERS, GROUP_BRANCHES];
  const rows = groups.flatMap((g) => owners.filter((x) => x.group === g).map((x, k) => ({ g, k, user: x.id as string | null, unit: x.unitId })));
  rows.push({ g: GROUP_POOL, k: 0, user: null, unit: org.poolUnitId });
  await client.query(`INSERT INTO bench_owner SELECT * FROM unnest($1::int[], $2::int[], $3::uuid[], $4::uuid[])`, [
    rows.map((r) => r.g),
    rows.map((r) => r.k),
    rows.map((r) => r.user),
    rows.map((r) => r.unit),
  ]);
  await client.query(`CREATE TEMP TABLE bench_group AS SELECT grp, count(*)::int AS cnt FROM bench_owner GROUP BY grp`);
}

// The statements that fill the bulk tables, in order. `$` placeholders are not used: every value is a constant.
export function bulkSql(scale: Scale, org: OrgSeed): { label: string; sql: string }[] {
  const C = scale.customers;
  // Spread creation over one year whatever the scale; newest customer = highest row number.
  const step = 31_536_000 / C;
  const h = (expr: string, salt: number) => `pg_temp.bench_h(${expr}, ${salt})`;
  const cust = (expr: string) => `pg_temp.bench_uuid('customer:' || (${expr}))`;
  return [
    {
      label: 'hash function',
      sql: `CREATE FUNCTION pg_temp.bench_h(i bigint, salt int) RETURNS bigint LANGUAGE sql IMMUTABLE AS
            $$ SELECT hashint8($1 * 1000003 + $2)::bigint & 2147483647 $$`,
    },
    {
      label: 'uuid function',
      sql: `CREATE FUNCTION pg_temp.bench_uuid(k text) RETURNS uuid LANGUAGE sql IMMUTABLE AS
            $$ SELECT overlay(overlay(md5($1) placing '4' from 13) placing '8' from 17)::uuid $$`,
    },
    {
      label: `customers (${C})`,
      sql: `INSERT INTO customers (id, kind, name, name_norm, registration_id, registration_norm, phones, phones_norm, emails, emails_norm,
              search_text, website, industry, region, address, roles, lifecycle_stage, status, source_channel,
              owner_user_id, owner_unit_id, created_by, created_at, updated_at)
            SELECT ${cust('s.i')}, s.kind, s.name, s.fold_norm, s.reg, upper(replace(s.reg, ' ', '')),
              s.phones, s.phones_norm, ARRAY[s.email], ARRAY[s.email],
              concat_ws(' ', s.fold, array_to_string(s.phones_norm, ' '), s.email, lower(replace(s.reg, ' ', ''))),
              'https://' || lower(s.w1) || s.i || '.example', s.w2, 'Region ' || (1 + s.i % 5), jsonb_build_object('city', 'City ' || (s.i % 300)),
              ARRAY['BUYER'], s.stage, s.status, s.source,
              o.user_id, o.unit_id, o.user_id, s.created, s.created + make_interval(mins => (${h('s.i', 9)} % 10000)::int)
            FROM (
              SELECT i, w1, w2,
                CASE WHEN ${h('i', 4)} % 10 = 0 THEN 'PERSON' ELSE 'ORGANIZATION' END AS kind,
                w1 || ' ' || w2 || ' ' || i || suf AS name,
                lower(w1 || ' ' || w2 || ' ' || i || suf) AS fold,
                lower(w1 || ' ' || w2 || ' ' || i) AS fold_norm,
                CASE WHEN i % 2 = 0 THEN 'DE ' || lpad(i::text, 9, '0') END AS reg,
                CASE WHEN i % 5 = 0 THEN ARRAY['+49 ' || (30 + i % 60) || ' ' || (1000000 + i), '+49 170 ' || (2000000 + i)]
                     ELSE ARRAY['+49 ' || (30 + i % 60) || ' ' || (1000000 + i)] END AS phones,
                CASE WHEN i % 5 = 0 THEN ARRAY['49' || (30 + i % 60) || (1000000 + i), '49170' || (2000000 + i)]
                     ELSE ARRAY['49' || (30 + i % 60) || (1000000 + i)] END AS phones_norm,
                'info@' || lower(w1) || i || '.example' AS email,
                (ARRAY['SUSPECT','SUSPECT','SUSPECT','PROSPECT','PROSPECT','PROSPECT','OPPORTUNITY','OPPORTUNITY','CUSTOMER','CUSTOMER','CUSTOMER','USER'])[1 + ${h('i', 5)} % 12] AS stage,
                CASE WHEN ${h('i', 6)} % 100 < 3 THEN 'FROZEN' ELSE 'ACTIVE' END AS status,
                (ARRAY['MEDIA','WEBSITE','EVENT','REFERRAL','SALES_PROSPECTING','PARTNER','IMPORT','OTHER'])[1 + ${h('i', 7)} % 8] AS source,
                CASE WHEN ${h('i', 1)} % 100 < 30 THEN ${GROUP_BIG_PARTNER} WHEN ${h('i', 1)} % 100 < 35 THEN ${GROUP_POOL}
                     WHEN ${h('i', 1)} % 100 < 60 THEN ${GROUP_OTHER_PARTNERS} ELSE ${GROUP_BRANCHES} END AS grp,
                timestamptz '2024-01-01T00:00:00Z' + make_interval(secs => i * ${step}) AS created
              FROM (SELECT i, (${arr(WORDS_1)})[1 + ${h('i', 3)} % ${WORDS_1.length}] AS w1,
                           (${arr(WORDS_2)})[1 + ${h('i', 10)} % ${WORDS_2.length}] AS w2,
                           (${arr(SUFFIXES)})[1 + ${h('i', 11)} % ${SUFFIXES.length}] AS suf
                    FROM generate_series(1, ${C}) AS i) AS words
            ) AS s
            JOIN bench_group g ON g.grp = s.grp
            JOIN bench_owner o ON o.grp = s.grp AND o.k = ${h('s.i', 2)} % g.cnt`,
    },
    {
      label: 'contacts',
      sql: `INSERT INTO contacts (id, customer_id, name, title, decision_role, phones, emails, created_at, updated_at)
            SELECT pg_temp.bench_uuid('contact:' || i || ':' || n), ${cust('i')}, 'Contact ' || i || '-' || n,
              (ARRAY['CEO','Buyer','Engineer','Assistant'])[1 + ${h('i', 22)} % 4],
              (ARRAY['DECISION_MAKER','INFLUENCER','USER','GATEKEEPER','TECHNICAL','OTHER'])[1 + (${h('i', 21)} + n) % 6],
              ARRAY['+49 171 ' || (3000000 + i)], ARRAY['contact' || n || '.' || i || '@mail.example'],
              timestamptz '2024-01-01T00:00:00Z' + make_interval(secs => i * ${step} + n), timestamptz '2024-01-01T00:00:00Z' + make_interval(secs => i * ${step} + n)
            FROM generate_series(1, ${C}) AS i CROSS JOIN generate_series(1, 2) AS n
            WHERE n = 1 OR i % 3 = 0`,
    },
    {
      label: `interactions (${scale.interactions})`,
      sql: `INSERT INTO interactions (id, customer_id, channel, direction, occurred_at, subject, outcome, actor_id, created_at, updated_at)
            SELECT pg_temp.bench_uuid('interaction:' || j), c.id,
              (ARRAY['PHONE','EMAIL','VISIT','MEETING','SMS','WEB','EVENT','LETTER','FAX','MEDIA','OTHER'])[1 + ${h('j', 31)} % 11],
              CASE WHEN ${h('j', 32)} % 2 = 0 THEN 'OUTBOUND' ELSE 'INBOUND' END,
              c.created_at + make_interval(mins => (${h('j', 33)} % 400000)::int),
              'Touch point ' || j, 'ok',
              COALESCE(c.owner_user_id, '${org.marketingUserId}'::uuid),
              c.created_at + make_interval(mins => (${h('j', 33)} % 400000)::int),
              c.created_at + make_interval(mins => (${h('j', 33)} % 400000)::int)
            FROM generate_series(1, ${scale.interactions}) AS j
            JOIN customers c ON c.id = ${cust(`1 + ${h('j', 30)} % ${C}`)}`,
    },
    {
      label: 'default pipeline (when the bootstrap made none)',
      sql: `DO $$
            DECLARE pid uuid;
            BEGIN
              IF NOT EXISTS (SELECT 1 FROM pipelines WHERE is_default) THEN
                INSERT INTO pipelines (name, is_default) VALUES ('Default', true) RETURNING id INTO pid;
                INSERT INTO pipeline_stages (pipeline_id, key, name, position, probability, terminal, outcome) VALUES
                  (pid, 'QUALIFICATION', 'Qualification', 1, 10, false, NULL),
                  (pid, 'ACCEPTANCE', 'Acceptance', 2, 30, false, NULL),
                  (pid, 'NEGOTIATION', 'Negotiation', 3, 60, false, NULL),
                  (pid, 'WON', 'Won', 4, 100, true, 'WON'),
                  (pid, 'LOST', 'Lost', 5, 0, true, 'LOST');
              END IF;
            END $$`,
    },
    {
      label: `opportunities (${scale.opportunities})`,
      // Every deal is created in QUALIFICATION (those elsewhere got there by the one transition below).
      sql: `INSERT INTO opportunities (id, customer_id, pipeline_id, stage_id, created_stage_id, name, amount, currency, expected_close_date, status, qualification,
              stage_entered_at, owner_user_id, owner_unit_id, created_by, created_at, updated_at)
            SELECT pg_temp.bench_uuid('opportunity:' || k), c.id, p.id, st.id, q.id, 'Deal ' || k, (1000 + ${h('k', 41)} % 100000)::numeric(18,2), 'EUR',
              date '2025-01-01' + (${h('k', 42)} % 365)::int,
              CASE st.key WHEN 'WON' THEN 'WON' WHEN 'LOST' THEN 'LOST' ELSE 'OPEN' END,
              '{"needDefined":true,"decisionMakerKnown":true,"budgetKnown":true,"timingKnown":true}'::jsonb,
              c.created_at, c.owner_user_id, c.owner_unit_id, c.owner_user_id, c.created_at, c.created_at
            FROM (SELECT k, CASE WHEN ${h('k', 43)} % 100 < 80 THEN 'QUALIFICATION' WHEN ${h('k', 43)} % 100 < 88 THEN 'ACCEPTANCE'
                                  WHEN ${h('k', 43)} % 100 < 93 THEN 'NEGOTIATION' WHEN ${h('k', 43)} % 100 < 97 THEN 'WON' ELSE 'LOST' END AS stage_key
                  FROM generate_series(1, ${scale.opportunities}) AS k) AS s
            JOIN customers c ON c.id = ${cust(`1 + ${h('s.k', 40)} % ${C}`)}
            JOIN pipelines p ON p.is_default
            JOIN pipeline_stages st ON st.pipeline_id = p.id AND st.key = s.stage_key
            JOIN pipeline_stages q ON q.pipeline_id = p.id AND q.key = 'QUALIFICATION'`,
    },
    {
      label: 'stage transitions',
      sql: `INSERT INTO stage_transitions (opportunity_id, customer_id, from_stage_id, to_stage_id, reason, seconds_in_from_stage, actor_id, at)
            SELECT o.id, o.customer_id, q.id, o.stage_id, NULL, 86400, COALESCE(o.owner_user_id, '${org.marketingUserId}'::uuid), o.created_at + interval '1 day'
            FROM opportunities o JOIN pipeline_stages q ON q.pipeline_id = o.pipeline_id AND q.key = 'QUALIFICATION'
            WHERE o.stage_id <> q.id`,
    },
    {
      label: 'lifecycle transitions',
      sql: `INSERT INTO lifecycle_transitions (customer_id, from_stage, to_stage, reason, cause, actor_id, at)
            SELECT c.id, 'SUSPECT', c.lifecycle_stage, 'qualified', 'MANUAL', COALESCE(c.owner_user_id, '${org.marketingUserId}'::uuid), c.created_at + interval '2 days'
            FROM customers c WHERE c.lifecycle_stage <> 'SUSPECT' AND ${h("('x' || substr(c.id::text, 1, 7))::bit(28)::int", 50)} % 5 = 0`,
    },
    {
      label: `shares (${scale.shares})`,
      sql: `INSERT INTO shares (resource_type, resource_id, to_unit_id, created_by)
            SELECT 'customer', ${cust(`1 + ${h('s', 60)} % ${C}`)}, (SELECT id FROM org_units WHERE kind = 'PARTNER' ORDER BY name OFFSET (s % 29) + 1 LIMIT 1),
              '${org.personas.admin}'::uuid
            FROM generate_series(1, ${scale.shares}) AS s`,
    },
  ];
}

/**
 * What the analytics benchmark (bench/analytics.ts) adds on top of bulkSql, on its own database:
 * ERP orders (about three per buying customer over the last 15 months, one in twenty cancelled, a
 * falling rhythm for one buyer in ten), costs for one buyer in four, a reference effect for one
 * customer in a thousand, and the pipeline's and the interactions' dates moved so each ends yesterday
 * (bulkSql writes 2024–2025 dates; the reports ask about the last two quarters and the next three
 * months, churn about the days since the last contact). Closed deals get the `closed_at` of their
 * closing transition. Set-based and deterministic as above; the
 * benchmark runs it once per database (it adds rows only where there are no orders yet).
 */
export function analyticsSql(scale: Scale, org: OrgSeed): { label: string; sql: string }[] {
  const h = (expr: string, salt: number) => `pg_temp.bench_h(${expr}, ${salt})`;
  const key = `('x' || substr(c.id::text, 1, 7))::bit(28)::int`;
  // Whole days from the seed's pipeline dates to now, so the newest deal was created yesterday.
  const shift = `(SELECT make_interval(days => (current_date - max(created_at)::date)::int - 1) FROM opportunities)`;
  return [
    {
      label: 'hash function',
      sql: `CREATE OR REPLACE FUNCTION pg_temp.bench_h(i bigint, salt int) RETURNS bigint LANGUAGE sql IMMUTABLE AS
            $$ SELECT hashint8($1 * 1000003 + $2)::bigint & 2147483647 $$`,
    },
    {
      label: `orders (about 3 per buying customer of ${scale.customers})`,
      sql: `INSERT INTO orders (customer_id, number, status, ordered_at, confirmed_at, cancelled_at, amount, currency, owner_user_id, owner_unit_id, created_by, created_at, updated_at)
            SELECT c.id, 'B-' || ${key} || '-' || n, s.status, s.at,
              CASE WHEN s.status = 'CONFIRMED' THEN s.at + interval '3 days' END, CASE WHEN s.status = 'CANCELLED' THEN s.at + interval '1 day' END,
              s.amount, 'EUR', c.owner_user_id, c.owner_unit_id, '${org.personas.admin}'::uuid, s.at, s.at
            FROM customers c CROSS JOIN generate_series(1, 1 + ${h(key, 70)} % 5) AS n
            CROSS JOIN LATERAL (SELECT
                CASE WHEN ${h(`${key} + n`, 71)} % 20 = 0 THEN 'CANCELLED' ELSE 'CONFIRMED' END AS status,
                -- One buyer in ten has stopped ordering in the last quarter (a falling rhythm).
                now() - make_interval(days => (CASE WHEN ${h(key, 72)} % 10 = 0 THEN 100 + ${h(`${key} + n`, 73)} % 350 ELSE ${h(`${key} + n`, 73)} % 450 END)::int) AS at,
                -- Skewed: most orders are small, a few large (a pyramid needs a long tail).
                (50 + power(${h(`${key} + n`, 74)} % 1000, 3) / 4000.0)::numeric(18,2) AS amount) s
            WHERE c.lifecycle_stage IN ('CUSTOMER', 'USER')`,
    },
    {
      label: 'costs (one buyer in four)',
      sql: `INSERT INTO customer_costs (customer_id, kind, amount, currency, incurred_at, actor_id)
            SELECT c.id, (ARRAY['MARKETING','SALES','SERVICE'])[1 + ${h(key, 80)} % 3], (20 + ${h(key, 81)} % 5000)::numeric(18,2), 'EUR',
              now() - make_interval(days => (${h(key, 82)} % 300)::int), '${org.personas.admin}'::uuid
            FROM customers c WHERE c.lifecycle_stage IN ('CUSTOMER', 'USER') AND ${h(key, 83)} % 4 = 0`,
    },
    {
      label: 'reference effects (one customer in a thousand)',
      sql: `INSERT INTO reference_effects (customer_id, level, reason, actor_id)
            SELECT c.id, 1 + ${h(key, 90)} % 5, 'bench reference', '${org.personas.admin}'::uuid
            FROM customers c WHERE ${h(key, 91)} % 1000 = 0`,
    },
    {
      label: 'pipeline history moved to end today',
      sql: `WITH d AS (SELECT ${shift} AS by)
            UPDATE opportunities o SET created_at = o.created_at + d.by, updated_at = o.updated_at + d.by, stage_entered_at = o.stage_entered_at + d.by,
              expected_close_date = (o.expected_close_date + d.by)::date FROM d`,
    },
    {
      label: 'stage transitions moved with their deals',
      sql: `UPDATE stage_transitions t SET at = o.created_at + interval '1 day' FROM opportunities o WHERE o.id = t.opportunity_id`,
    },
    {
      // Same whole-day shift as the pipeline's, but from the interactions' own newest date: each
      // customer's interactions run up to 278 days past its creation, so the pipeline's offset would
      // put most of them in the future (which the API refuses and which would clear every "no contact"
      // signal). The newest interaction falls yesterday; every row moves by one interval.
      label: 'interactions moved to end yesterday',
      // Every row gets a new version: the secondary indexes are dropped first and built again after,
      // in the same transaction (building five indexes once is far cheaper than 5 M index inserts each).
      sql: `DO $$
            DECLARE defs text[]; names text[]; def text; nm text; shift interval;
            BEGIN
              SELECT array_agg(i.indexdef), array_agg(quote_ident(i.indexname)) INTO defs, names
                FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = 'interactions'
                AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conname = i.indexname);
              FOREACH nm IN ARRAY coalesce(names, '{}') LOOP EXECUTE 'DROP INDEX ' || nm; END LOOP;
              SELECT make_interval(days => (current_date - max(occurred_at)::date)::int - 1) INTO shift FROM interactions;
              -- The customers' last contacts move by the same interval: one update of their table instead of the trigger's recomputation.
              ALTER TABLE interactions DISABLE TRIGGER interactions_last_contact_updated;
              UPDATE interactions i SET occurred_at = i.occurred_at + shift, created_at = i.created_at + shift, updated_at = i.updated_at + shift;
              UPDATE customer_last_contact SET last_at = last_at + shift;
              ALTER TABLE interactions ENABLE TRIGGER interactions_last_contact_updated;
              FOREACH def IN ARRAY coalesce(defs, '{}') LOOP EXECUTE def; END LOOP;
            END $$`,
    },
    {
      label: 'closed deals closed at their closing transition',
      sql: `UPDATE opportunities o SET stage_entered_at = t.at, closed_at = CASE WHEN o.status IN ('WON', 'LOST') THEN t.at END
            FROM stage_transitions t WHERE t.opportunity_id = o.id`,
    },
  ];
}
