import { pathToFileURL } from 'node:url';
import { asc, eq, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../app.js';
import { DataDirBusyError } from '../db/embedded-lock.js';
import { ConfigError, loadConfig } from '../config.js';
import { createDatabase, type Db, queryRows } from '../db/client.js';
import { actions, handoffs, interactions, lifecycleTransitions, opportunities, pipelines, pipelineStages, stageTransitions } from '../db/schema/index.js';
import { migrateAndBootstrap } from '../db/migrate.js';
import type { Principal } from '../lib/access.js';
import { AppError } from '../lib/errors.js';
import type { CreateContactInput, CreateCustomerInput } from '../modules/customers/customers.schemas.js';
import { normalizeEmail, normalizeName, normalizePhone, normalizeRegistrationId } from '../modules/customers/normalize.js';
import type { OrgUnitDto, UserDto } from '../modules/org/org.schemas.js';
import { loadPrincipal } from '../modules/org/principal.repository.js';
import { askRunningServer } from '../plugins/local-control.js';

// `npm run seed:demo`: a believable small company on the configured database, the same on every
// fresh database (fixed seed), created through the services so every rule, derived column, audit
// row and event is the real thing.

export const DEMO_MARKER = 'Demo Region North';
const MAIL = 'demo.keel.dev';
// Arbitrary but fixed, distinct from the migration lock: two seeders on one database take turns.
const SEED_LOCK_KEY = 7_305_002;

// mulberry32: a few lines of deterministic PRNG, enough for demo data.
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)] as T;
  const weighted = <T>(xs: readonly (readonly [T, number])[]): T => {
    let r = next() * xs.reduce((s, [, w]) => s + w, 0);
    for (const [v, w] of xs) if ((r -= w) < 0) return v;
    return (xs[xs.length - 1] as readonly [T, number])[0];
  };
  const digits = (n: number) => Array.from({ length: n }, () => int(0, 9)).join('');
  return { next, int, pick, weighted, digits, chance: (p: number) => next() < p };
}

// A place a unit works from: customers of its people are local to it.
type Place = { city: string; state: string; country: 'DE' | 'AT'; dial: string; area: string; postal: string };

type StaffPlan = { manager?: string; sales?: string[]; service?: string; marketing?: string[] };
type BranchPlan = Place & StaffPlan;
type RegionPlan = { name: string; manager: string; branches: BranchPlan[] };
type PartnerPlan = Place & {
  name: string;
  type: 'AGENT' | 'DISTRIBUTOR' | 'RESELLER' | 'SERVICE_PROVIDER';
  manager: string;
  sales: string[];
  sub?: Place & { name: string; sales: string[] };
};

const de = (city: string, state: string, area: string, postal: string): Place => ({ city, state, country: 'DE', dial: '+49', area, postal });
const at = (city: string, state: string, area: string, postal: string): Place => ({ city, state, country: 'AT', dial: '+43', area, postal });

const REGIONS: RegionPlan[] = [
  {
    name: 'Demo Region North',
    manager: 'Jan Petersen',
    branches: [
      { ...de('Hamburg', 'Hamburg', '40', '20'), manager: 'Lukas Brandt', sales: ['Maria Schneider', 'Felix Wagner'], service: 'Anna Keller' },
      { ...de('Bremen', 'Bremen', '421', '28'), manager: 'Greta Janssen', sales: ['Ole Hansen', 'Ida Lorenz'] },
      { ...de('Hanover', 'Lower Saxony', '511', '30'), manager: 'Henrik Meyer', sales: ['Paula Krüger', 'Emil Busch'], service: 'Theo Albers' },
    ],
  },
  {
    name: 'Demo Region South',
    manager: 'Clara Huber',
    branches: [
      { ...de('Munich', 'Bavaria', '89', '80'), manager: 'Anton Bauer', sales: ['Sophie Maier', 'Leon Gruber'], service: 'Rosa Winkler' },
      { ...de('Stuttgart', 'Baden-Württemberg', '711', '70'), manager: 'Marie Schwarz', sales: ['Jakob Wolf', 'Lena Schäfer'] },
      { ...de('Nuremberg', 'Bavaria', '911', '90'), manager: 'Karl Hofmann', sales: ['Ella Roth', 'Moritz Frank'] },
    ],
  },
  {
    name: 'Demo Region East',
    manager: 'David Richter',
    branches: [
      { ...de('Berlin', 'Berlin', '30', '10'), manager: 'Nina Schulz', sales: ['Tom Neumann', 'Laura Zimmermann'], service: 'Kemal Aydin' },
      { ...de('Leipzig', 'Saxony', '341', '04'), manager: 'Frieda Vogel', sales: ['Max Lehmann', 'Ines Krause'] },
    ],
  },
];

const PARTNERS: PartnerPlan[] = [
  { ...de('Cologne', 'North Rhine-Westphalia', '221', '50'), name: 'Rheinland Trade Agents', type: 'AGENT', manager: 'Eva Schmitz', sales: ['Marco Esposito', 'Lisa Kramer'] },
  {
    ...at('Vienna', 'Vienna', '1', '1'),
    name: 'Alpen Distribution',
    type: 'DISTRIBUTOR',
    manager: 'Vera Steiner',
    sales: ['Samuel Berger', 'Zofia Nowak'],
    sub: { ...at('Graz', 'Styria', '316', '8'), name: 'Alpen Distribution Graz', sales: ['Piotr Kowalski'] },
  },
  { ...de('Frankfurt', 'Hesse', '69', '60'), name: 'Main Valley Resellers', type: 'RESELLER', manager: 'Carla Weber', sales: ['Finn Becker', 'Aylin Demir'] },
  { ...de('Dortmund', 'North Rhine-Westphalia', '231', '44'), name: 'ServiTec Field Services', type: 'SERVICE_PROVIDER', manager: 'Erik Lang', sales: ['Julia Pohl'] },
];

const HQ_PEOPLE = { executive: 'Helena Fischer', marketing: ['Sarah Koch', 'Noah Braun'] };
const INTEGRATION = { email: `erp.integration@${MAIL}`, name: 'ERP connector' };

// name.role@demo.keel.dev, ASCII only.
export function demoEmail(fullName: string, role: string): string {
  const first = (fullName.split(' ')[0] ?? fullName)
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase();
  return `${first}.${role.replaceAll('_', '-')}@${MAIL}`;
}

// The logins worth knowing, printed after seeding (and when the data is already there).
export const keyLogins = (adminEmail: string): { email: string; role: string; unit: string }[] => [
  { email: adminEmail, role: 'admin', unit: 'Headquarters' },
  { email: demoEmail(HQ_PEOPLE.executive, 'executive'), role: 'executive', unit: 'Headquarters' },
  { email: demoEmail('Jan Petersen', 'manager'), role: 'manager', unit: 'Demo Region North' },
  { email: demoEmail('Lukas Brandt', 'manager'), role: 'manager', unit: 'Hamburg Branch' },
  { email: demoEmail('Maria Schneider', 'sales'), role: 'sales', unit: 'Hamburg Branch' },
  { email: demoEmail('Anna Keller', 'service'), role: 'service', unit: 'Hamburg Branch' },
  { email: demoEmail('Sarah Koch', 'marketing'), role: 'marketing', unit: 'Marketing' },
  { email: demoEmail('Vera Steiner', 'partner_manager'), role: 'partner_manager', unit: 'Alpen Distribution' },
  { email: demoEmail('Piotr Kowalski', 'partner_sales'), role: 'partner_sales', unit: 'Alpen Distribution Graz' },
  { email: demoEmail('Marco Esposito', 'partner_sales'), role: 'partner_sales', unit: 'Rheinland Trade Agents' },
  { email: INTEGRATION.email, role: 'integration', unit: 'Headquarters' },
];

const FIRST = ['Andreas', 'Birgit', 'Christian', 'Daniela', 'Elke', 'Frank', 'Gabriele', 'Heike', 'Ingo', 'Jörg', 'Katrin', 'Lars', 'Monika', 'Nils', 'Olaf', 'Petra', 'Ralf', 'Sabine', 'Stefan', 'Tanja', 'Ulrich', 'Uwe', 'Wiebke', 'Yvonne', 'Zeynep', 'Markus', 'Claudia', 'Thomas', 'Susanne', 'Michael', 'Kerstin', 'Matthias', 'Anja', 'Dirk', 'Silke', 'Jens', 'Martina', 'Holger', 'Nadine', 'Sven'];
const LAST = ['Müller', 'Schmidt', 'Schneider', 'Fischer', 'Weber', 'Meyer', 'Wagner', 'Becker', 'Schulz', 'Hoffmann', 'Koch', 'Bauer', 'Richter', 'Klein', 'Wolf', 'Schröder', 'Neumann', 'Schwarz', 'Zimmermann', 'Braun', 'Krüger', 'Hofmann', 'Hartmann', 'Lange', 'Schmitt', 'Werner', 'Krause', 'Meier', 'Lehmann', 'Köhler', 'Herrmann', 'Walter', 'König', 'Mayer', 'Huber', 'Kaiser', 'Fuchs', 'Peters', 'Lang', 'Seidel', 'Möller', 'Weiß', 'Jung', 'Hahn', 'Vogel', 'Friedrich', 'Keller', 'Günther', 'Frank', 'Berger'];
const PREFIX = ['Hansa', 'Nordwind', 'Alster', 'Elbe', 'Weser', 'Isar', 'Spree', 'Rhein', 'Brandt', 'Keller', 'Hoffmann', 'Becker', 'Vogel', 'Sommer', 'Falke', 'Adler', 'Linden', 'Eichen', 'Bergmann', 'Stern', 'Kranich', 'Löwen', 'Wagner', 'Schuster', 'Krüger', 'Fischer', 'Baltic', 'Alpina', 'Nova', 'Delta', 'Kompass', 'Polaris', 'Merkur', 'Atlas', 'Orion', 'Vulkan', 'Greif', 'Hafen', 'Küsten', 'Harz'];
const INDUSTRIES: Record<string, readonly string[]> = {
  Manufacturing: ['Precision Parts', 'Metallbau', 'Maschinenbau', 'Fertigungstechnik', 'Kunststofftechnik'],
  Construction: ['Bau', 'Hochbau', 'Tiefbau', 'Haustechnik'],
  Logistics: ['Logistik', 'Spedition', 'Freight', 'Lagerhaus'],
  'Food & Beverage': ['Feinkost', 'Brauerei', 'Backwaren', 'Molkerei'],
  Healthcare: ['Medizintechnik', 'Pflegedienste', 'Klinikbedarf', 'Laborservice'],
  Retail: ['Handelshaus', 'Baumarkt', 'Fachhandel', 'Retail Group'],
  Automotive: ['Autoteile', 'Fahrzeugbau', 'Karosseriewerk'],
  Energy: ['Energietechnik', 'Solar', 'Wärmesysteme'],
  Agriculture: ['Agrar', 'Landhandel', 'Gartenbau'],
  Hospitality: ['Hotels', 'Gastronomie', 'Catering'],
  Education: ['Bildungszentrum', 'Akademie'],
};
const PERSON_INDUSTRIES = ['Agriculture', 'Construction', 'Hospitality', 'Retail'];
const SUFFIX = [['GmbH', 55], ['GmbH & Co. KG', 20], ['AG', 8], ['KG', 7], ['e.K.', 6], ['SE', 2]] as const;
const STREETS = ['Hauptstraße', 'Bahnhofstraße', 'Industriestraße', 'Hafenstraße', 'Am Markt', 'Gewerbering', 'Lindenallee', 'Schillerstraße', 'Mühlenweg', 'Carl-Benz-Straße', 'Gutenbergring', 'Am Güterbahnhof'];
const TITLES: Record<CreateContactInputRole, readonly string[]> = {
  DECISION_MAKER: ['Managing Director', 'Owner', 'Head of Purchasing', 'Plant Manager', 'CEO'],
  INFLUENCER: ['Head of Operations', 'Project Manager', 'Controller'],
  USER: ['Workshop Lead', 'Site Supervisor', 'Shift Manager'],
  GATEKEEPER: ['Office Manager', 'Executive Assistant', 'Purchasing Assistant'],
  TECHNICAL: ['IT Lead', 'Maintenance Engineer', 'Technical Director'],
  OTHER: ['Accounts Payable', 'Assistant'],
};
type CreateContactInputRole = NonNullable<CreateContactInput['decisionRole']>;
type Stage = NonNullable<CreateCustomerInput['lifecycleStage']>;
type Channel = NonNullable<CreateCustomerInput['source']>['channel'];

const CAMPAIGNS: Partial<Record<Channel, readonly string[]>> = {
  MEDIA: ['Trade journal ad spring', 'Radio spot north'],
  WEBSITE: ['Product finder', 'Quote request form', 'Search ads pumps'],
  EVENT: ['Hannover Messe', 'bauma Munich', 'Regional open house'],
  PARTNER: ['Partner lead programme'],
};

const ascii = (s: string) =>
  s
    .replaceAll('ä', 'ae')
    .replaceAll('ö', 'oe')
    .replaceAll('ü', 'ue')
    .replaceAll('ß', 'ss')
    .replaceAll('Ä', 'Ae')
    .replaceAll('Ö', 'Oe')
    .replaceAll('Ü', 'Ue')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '');
const slug = (s: string) =>
  ascii(s)
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');

// Who owns a share of the customers, and who creates them.
type Owner = { kind: 'user'; user: UserDto; place: Place; partner: boolean; weight: number } | { kind: 'pool'; creator: UserDto; unit: OrgUnitDto; weight: number };

export type SeedSummary = {
  created: boolean;
  units: number;
  users: number;
  customers: number;
  contacts: number;
  frozen: number;
  shares: number;
  interactions: number;
  opportunities: number;
  actions: number;
  handoffs: number;
  ms: number;
};

/** Seeds the demo company through `app.services`; does nothing when the marker unit exists. */
export async function seedDemo(app: FastifyInstance, opts: { customers?: number; seed?: number } = {}): Promise<SeedSummary> {
  const started = Date.now();
  const { database, services } = app;
  const db = database.db;
  const rng = prng(opts.seed ?? 20_240_601);
  const total = opts.customers ?? 300;
  const summary: SeedSummary = { created: false, units: 0, users: 0, customers: 0, contacts: 0, frozen: 0, shares: 0, interactions: 0, opportunities: 0, actions: 0, handoffs: 0, ms: 0 };

  return database.withLock(SEED_LOCK_KEY, async () => {
    const [marker] = await queryRows<{ id: string }>(db, sql`SELECT id FROM org_units WHERE name = ${DEMO_MARKER} LIMIT 1`);
    if (marker) return { ...summary, ms: Date.now() - started };

    const principal = async (userId: string): Promise<Principal> => {
      const p = await loadPrincipal(db, userId);
      if (!p) throw new Error(`user ${userId} vanished while seeding`);
      return p;
    };
    // The bootstrap admin (ADMIN_EMAIL) when it still is one, else any active admin.
    const [adminRow] = await queryRows<{ id: string }>(
      db,
      sql`SELECT u.id FROM users u JOIN user_roles ur ON ur.user_id = u.id JOIN roles r ON r.id = ur.role_id
          WHERE r.name = 'admin' AND u.active ORDER BY (lower(u.email) = lower(${app.config.adminEmail})) DESC, u.created_at LIMIT 1`,
    );
    if (!adminRow) throw new Error('no active admin user: run `npm run migrate` first');
    const admin = await principal(adminRow.id);
    const root = (await services.org.listUnits(admin)).find((u) => u.parentId === null);
    if (!root) throw new Error('no headquarters unit');

    const unit = async (name: string, kind: 'REGION' | 'BRANCH' | 'DEPARTMENT' | 'PARTNER', parent: OrgUnitDto, partnerType?: PartnerPlan['type']) => {
      summary.units++;
      return services.org.createUnit(admin, { name, kind, parentId: parent.id, ...(partnerType ? { partnerType } : {}) });
    };
    const user = async (name: string, role: string, at: OrgUnitDto, email = demoEmail(name, role), kind: 'HUMAN' | 'SERVICE' = 'HUMAN') => {
      summary.users++;
      return services.org.createUser(admin, { email, name, unitId: at.id, roles: [role], kind });
    };

    // The organisation: HQ people, marketing, three regions with branches, four partners.
    const owners: Owner[] = [];
    await user(HQ_PEOPLE.executive, 'executive', root);
    await user(INTEGRATION.name, 'integration', root, INTEGRATION.email, 'SERVICE');
    const marketingUnit = await unit('Marketing', 'DEPARTMENT', root);
    const marketers: UserDto[] = [];
    for (const m of HQ_PEOPLE.marketing) marketers.push(await user(m, 'marketing', marketingUnit));

    const branches: { unit: OrgUnitDto; place: Place; manager?: UserDto }[] = [];
    for (const r of REGIONS) {
      const region = await unit(r.name, 'REGION', root);
      await user(r.manager, 'manager', region);
      for (const b of r.branches) {
        const branch = await unit(`${b.city} Branch`, 'BRANCH', region);
        const manager = b.manager ? await user(b.manager, 'manager', branch) : undefined;
        branches.push({ unit: branch, place: b, ...(manager ? { manager } : {}) });
        if (manager) owners.push({ kind: 'user', user: manager, place: b, partner: false, weight: 1 });
        for (const s of b.sales ?? []) owners.push({ kind: 'user', user: await user(s, 'sales', branch), place: b, partner: false, weight: 10 });
        if (b.service) await user(b.service, 'service', branch);
      }
    }
    const partners: OrgUnitDto[] = [];
    for (const pp of PARTNERS) {
      const partner = await unit(pp.name, 'PARTNER', root, pp.type);
      partners.push(partner);
      const manager = await user(pp.manager, 'partner_manager', partner);
      owners.push({ kind: 'user', user: manager, place: pp, partner: true, weight: 1 });
      const groups: [string[], OrgUnitDto, Place][] = [[pp.sales, partner, pp]];
      if (pp.sub) groups.push([pp.sub.sales, await unit(pp.sub.name, 'DEPARTMENT', partner), pp.sub]);
      for (const [names, at, place] of groups) {
        for (const s of names) {
          owners.push({ kind: 'user', user: await user(s, 'partner_sales', at), place, partner: true, weight: 6 });
        }
      }
    }
    // Marketing's nurturing pool: owned by the department, no user.
    owners.push({ kind: 'pool', creator: marketers[0] as UserDto, unit: marketingUnit, weight: 30 });

    // Customers, spread over owners; names, phones, emails and registration ids never collide.
    const taken = { names: new Set<string>(), phones: new Set<string>(), emails: new Set<string>(), regs: new Set<string>() };
    const uniquePhone = (place: Place, mobile = false) => {
      for (;;) {
        const number = mobile ? `${place.dial} ${place.country === 'DE' ? rng.pick(['151', '160', '170', '176']) : '664'} ${rng.digits(7)}` : `${place.dial} ${place.area} ${rng.digits(place.area.length > 2 ? 6 : 7)}`;
        if (!taken.phones.has(normalizePhone(number))) {
          taken.phones.add(normalizePhone(number));
          return number;
        }
      }
    };
    const principals = new Map<string, Principal>();
    const principalOf = async (id: string) => {
      let p = principals.get(id);
      if (!p) principals.set(id, (p = await principal(id)));
      return p;
    };
    const byOwner = new Map<string, string[]>();
    const created: SeededCustomer[] = [];

    for (let i = 0; i < total; i++) {
      const owner = rng.weighted(owners.map((o) => [o, o.weight] as const));
      const pool = owner.kind === 'pool';
      const partner = owner.kind === 'user' && owner.partner;
      const place = owner.kind === 'user' ? owner.place : rng.pick(branches).place;
      const creator = await principalOf(owner.kind === 'user' ? owner.user.id : owner.creator.id);
      const ownerKey = owner.kind === 'user' ? owner.user.id : owner.unit.id;
      const person = rng.chance(0.12);

      // A unique name (and with it a domain) for this customer.
      let name = '';
      let domain = '';
      let industry = '';
      let first = '';
      let last = '';
      for (let attempt = 0; ; attempt++) {
        // Past a few collisions the city, then a number, keeps names unique however many are asked for.
        const qualifier = attempt > 10 ? `${place.city} ${attempt}` : attempt > 3 ? place.city : '';
        if (person) {
          first = rng.pick(FIRST);
          last = rng.pick(LAST);
          name = attempt > 10 ? `${first} ${rng.pick(FIRST).charAt(0)}. ${last} ${attempt}` : `${first} ${last}`;
          industry = rng.pick(PERSON_INDUSTRIES);
        } else {
          industry = rng.pick(Object.keys(INDUSTRIES));
          const core = `${rng.pick(PREFIX)} ${rng.pick(INDUSTRIES[industry] ?? ['Handel'])}`;
          name = `${core}${qualifier ? ` ${qualifier}` : ''} ${rng.weighted(SUFFIX)}`;
          domain = `${slug(core)}${qualifier ? `-${slug(qualifier)}` : ''}.example`;
        }
        if (!taken.names.has(normalizeName(name)) && (person || !taken.emails.has(`info@${domain}`))) break;
      }
      taken.names.add(normalizeName(name));

      const stage: Stage = pool
        ? rng.weighted([['SUSPECT', 1], ['PROSPECT', 1]])
        : rng.weighted([['SUSPECT', 12], ['PROSPECT', 18], ['OPPORTUNITY', 25], ['CUSTOMER', 25], ['USER', 20]]);
      const channel: Channel = pool
        ? rng.weighted([['WEBSITE', 4], ['EVENT', 3], ['MEDIA', 2]])
        : partner
          ? rng.weighted([['PARTNER', 6], ['SALES_PROSPECTING', 2], ['REFERRAL', 1], ['EVENT', 1]])
          : rng.weighted([['SALES_PROSPECTING', 35], ['REFERRAL', 15], ['WEBSITE', 15], ['EVENT', 15], ['IMPORT', 10], ['MEDIA', 5], ['OTHER', 5]]);
      const earlier = byOwner.get(ownerKey) ?? [];
      const referrer = channel === 'REFERRAL' && earlier.length ? rng.pick(earlier) : undefined;
      const campaigns = CAMPAIGNS[channel];
      const emails = person
        ? [`${slug(first)}.${slug(last)}${rng.int(1, 99)}@mail.example`]
        : rng.chance(0.35)
          ? [`info@${domain}`, `purchasing@${domain}`]
          : [`info@${domain}`];
      // Commercial register numbers as each country writes them.
      const registrationId = person || !rng.chance(0.7) ? undefined : place.country === 'AT' ? `FN ${rng.int(100000, 599999)}${rng.pick([...'abdfghikmpstvwxyz'])}` : `HRB ${rng.int(10000, 299999)}`;
      const input: CreateCustomerInput = {
        kind: person ? 'PERSON' : 'ORGANIZATION',
        name,
        phones: person ? [uniquePhone(place, true)] : rng.chance(0.3) ? [uniquePhone(place), uniquePhone(place)] : [uniquePhone(place)],
        emails: emails.filter((e) => !taken.emails.has(normalizeEmail(e))),
        industry,
        region: place.state,
        address: { line1: `${rng.pick(STREETS)} ${rng.int(1, 180)}`, city: place.city, postalCode: `${place.postal}${rng.digits(5 - place.postal.length - (place.country === 'AT' ? 1 : 0))}`, country: place.country },
        roles: rng.weighted([[['BUYER'], 85], [['BUYER', 'SUPPLIER'], 6], [['DISTRIBUTOR'], 3], [['COMPETITOR'], 3], [['BUYER', 'PARTNER'], 3]] as const).slice(),
        lifecycleStage: stage,
        source: {
          channel,
          ...(campaigns && rng.chance(0.7) ? { campaign: rng.pick(campaigns) } : {}),
          ...(referrer ? { referrerCustomerId: referrer, detail: 'Recommended by an existing customer' } : {}),
        },
        ...(person ? {} : { website: `https://www.${domain}` }),
        ...(registrationId && !taken.regs.has(normalizeRegistrationId(registrationId)) ? { registrationId } : {}),
        ...((stage === 'CUSTOMER' || stage === 'USER') && !partner ? { creditStatus: rng.weighted([['GOOD', 80], ['WATCH', 15], ['BLOCKED', 5]]) } : {}),
        ...(stage === 'CUSTOMER' || stage === 'USER' ? { externalIds: { erp: `D${100000 + i}` } } : {}),
        ...(owner.kind === 'pool' ? { ownerUnitId: owner.unit.id } : {}),
      };
      for (const e of input.emails ?? []) taken.emails.add(normalizeEmail(e));
      if (input.registrationId) taken.regs.add(normalizeRegistrationId(input.registrationId));

      let customerId: string;
      try {
        customerId = (await services.customers.create(creator, input)).id;
      } catch (err) {
        // A database that already holds other customers may collide with a generated one: skip it.
        if (err instanceof AppError && err.code === 'DUPLICATE_CUSTOMER') continue;
        throw err;
      }
      summary.customers++;
      byOwner.set(ownerKey, [...earlier, customerId]);
      created.push({ id: customerId, ownerUnitId: owner.kind === 'user' ? owner.user.unitId : owner.unit.id, ownerUserId: owner.kind === 'user' ? owner.user.id : null, creatorId: creator.userId, stage, partner });

      // Contact persons: who decides, who influences, who keeps the door.
      const contacts: CreateContactInput[] = [];
      if (person) {
        contacts.push({ name, decisionRole: 'DECISION_MAKER', title: 'Owner', phones: input.phones ?? [], emails: input.emails ?? [] });
      } else {
        const n = rng.weighted([[1, 35], [2, 40], [3, 25]]);
        for (let k = 0; k < n; k++) {
          const role: CreateContactInputRole =
            k === 0 ? rng.weighted([['DECISION_MAKER', 7], ['INFLUENCER', 2], ['GATEKEEPER', 1]]) : rng.weighted([['INFLUENCER', 3], ['USER', 2], ['TECHNICAL', 2], ['GATEKEEPER', 2], ['OTHER', 1]]);
          const cf = rng.pick(FIRST);
          const cl = rng.pick(LAST);
          contacts.push({
            name: `${cf} ${cl}`,
            title: rng.pick(TITLES[role]),
            decisionRole: role,
            phones: [`${place.dial} ${place.area} ${rng.digits(place.area.length > 2 ? 6 : 7)}-${rng.int(10, 99)}`],
            emails: [`${slug(cf)}.${slug(cl)}@${domain}`],
          });
        }
      }
      for (const c of contacts) {
        await services.customers.createContact(creator, customerId, c);
        summary.contacts++;
      }
    }

    const frozen = new Set<string>();
    // A few dormant customers frozen, so status filters have something to show.
    for (const c of created) {
      if (!rng.chance(0.04)) continue;
      await services.customers.setFrozen(admin, c.id, true, 'Dormant: no contact for 18 months');
      frozen.add(c.id);
      summary.frozen++;
    }

    // Joint deals: the Hamburg branch manager shares one of the branch's customers with each partner,
    // which may then read it (a share grants reading only).
    const hamburg = branches[0];
    const jointDeals = created.filter((c) => c.ownerUnitId === hamburg?.unit.id && !frozen.has(c.id));
    for (const [i, partner] of partners.entries()) {
      const deal = jointDeals[i];
      if (!hamburg?.manager || !deal) continue;
      await services.org.createShare(await principalOf(hamburg.manager.id), { resourceType: 'customer', resourceId: deal.id, toUnitId: partner.id });
      summary.shares++;
    }

    // The sales process around those customers: contact history, lifecycle history, opportunities
    // with their stage history, key actions and a pending handoff, inserted directly.
    Object.assign(summary, await seedSalesProcess(db, rng, { customers: created, marketers, marketingUnitId: marketingUnit.id, adminId: admin.userId }));
    return { ...summary, created: true, ms: Date.now() - started };
  });
}

type SeededCustomer = { id: string; ownerUnitId: string; ownerUserId: string | null; creatorId: string; stage: Stage; partner: boolean };
type Rng = ReturnType<typeof prng>;

// The default pipeline of api.md §2a, created here only when the bootstrap has not made one.
const DEFAULT_STAGES = [
  { key: 'QUALIFICATION', name: 'Needs identification', probability: 10, outcome: null },
  { key: 'ACCEPTANCE', name: 'Customer acceptance', probability: 30, outcome: null },
  { key: 'NEGOTIATION', name: 'Negotiation', probability: 60, outcome: null },
  { key: 'WON', name: 'Won', probability: 100, outcome: 'WON' },
  { key: 'LOST', name: 'Lost', probability: 0, outcome: 'LOST' },
] as const;

async function defaultPipeline(db: Db): Promise<{ id: string; stages: Map<string, string> }> {
  const read = async () => {
    const [p] = await db.select({ id: pipelines.id }).from(pipelines).where(eq(pipelines.isDefault, true));
    if (!p) return null;
    const stages = await db.select({ id: pipelineStages.id, key: pipelineStages.key }).from(pipelineStages).where(eq(pipelineStages.pipelineId, p.id)).orderBy(asc(pipelineStages.position));
    return { id: p.id, stages: new Map(stages.map((x) => [x.key, x.id])) };
  };
  const existing = await read();
  if (existing) return existing;
  try {
    await db.transaction(async (tx) => {
      const [p] = await tx.insert(pipelines).values({ name: 'Standard sales', isDefault: true }).returning({ id: pipelines.id });
      if (!p) throw new Error('pipeline insert returned nothing');
      await tx.insert(pipelineStages).values(
        DEFAULT_STAGES.map((st, i) => ({ pipelineId: p.id, key: st.key, name: st.name, position: i + 1, probability: st.probability, terminal: st.outcome !== null, outcome: st.outcome })),
      );
    });
  } catch (err) {
    // A bootstrap running at the same time made it first (one default pipeline: unique index).
    const made = await read();
    if (made) return made;
    throw err;
  }
  const made = await read();
  if (!made) throw new Error('no default pipeline after creating it');
  return made;
}

const LIFECYCLE_ORDER: readonly Stage[] = ['SUSPECT', 'PROSPECT', 'OPPORTUNITY', 'CUSTOMER', 'USER'];
const SUBJECTS: Record<string, readonly string[]> = {
  PHONE: ['Follow-up call', 'Clarified delivery times', 'Asked about the quote', 'Call with purchasing'],
  EMAIL: ['Sent product sheet', 'Quote follow-up', 'Answered technical question', 'Meeting confirmation'],
  VISIT: ['Site visit', 'Plant tour and needs review', 'Visit with the technical director'],
  MEETING: ['Solution presentation', 'Price negotiation', 'Quarterly review'],
  EVENT: ['Met at the trade fair', 'Open house visit'],
  WEB: ['Downloaded the brochure', 'Used the product finder'],
};
const OUTCOMES = ['Positive, next step agreed', 'Needs internal alignment', 'Waiting for budget approval', 'Asked for a revised offer', 'No decision yet'];
const PRODUCTS = ['Pump series P200', 'Compressor line K7', 'Conveyor retrofit', 'Service contract', 'Spare parts framework', 'Control cabinet upgrade', 'Filtration units'];
const COMPETITORS = ['Nordpumpen AG', 'Südtech GmbH', 'EuroFlow SE', 'Lowcost Imports'];
const LOST_REASONS = ['Price too high', 'Chose a competitor', 'Project postponed', 'No budget this year'];
const ACTION_TITLES: Record<string, readonly (readonly [string, string | null])[]> = {
  QUALIFICATION: [['Identify the decision maker', 'DECISION_MAKER_KNOWN'], ['Workshop on requirements', 'NEED_DEFINED'], ['Site survey', null]],
  ACCEPTANCE: [['Present the solution', null], ['Get the solution accepted by the customer', 'SOLUTION_ACCEPTED'], ['Send the technical proposal', null]],
  NEGOTIATION: [['Send the final quote', 'FINAL_QUOTE_SENT'], ['Negotiate payment terms', null], ['Confirm delivery schedule', null]],
  CUSTOMER: [['Schedule commissioning', null], ['Check satisfaction after delivery', null]],
  USER: [['Annual service visit', null], ['Offer the maintenance contract renewal', null], ['Ask for a reference', null]],
};

const DAY = 86_400_000;

/**
 * History and pipeline for the seeded customers, inserted directly and deterministically from `rng`
 * (times relative to now): interactions on most customers; lifecycle transitions leading to each
 * customer's stage; opportunities at every stage of the default pipeline with matching
 * qualification facts and stage history (WON for customers, some LOST); open key actions on the
 * salespeople's agendas, some overdue; one pending handoff from marketing to a salesperson.
 */
async function seedSalesProcess(db: Db, rng: Rng, ctx: { customers: SeededCustomer[]; marketers: UserDto[]; marketingUnitId: string; adminId: string }) {
  const now = Date.now();
  const ago = (days: number) => new Date(now - Math.round(days * DAY));
  const out = { interactions: 0, opportunities: 0, actions: 0, handoffs: 0 };
  const pipeline = await defaultPipeline(db);
  const stageId = (key: string) => {
    const id = pipeline.stages.get(key);
    if (!id) throw new Error(`the default pipeline has no stage ${key}`);
    return id;
  };
  const ids = ctx.customers.map((c) => c.id);
  const contactRows = ids.length ? await queryRows<{ id: string; customer_id: string }>(db, sql`SELECT id, customer_id FROM contacts WHERE customer_id = ANY(${sql.param(ids)}::uuid[]) ORDER BY customer_id, created_at, id`) : [];
  const contactsOf = new Map<string, string[]>();
  for (const r of contactRows) contactsOf.set(r.customer_id, [...(contactsOf.get(r.customer_id) ?? []), r.id]);
  const marketer = ctx.marketers[0];

  const interactionRows: (typeof interactions.$inferInsert)[] = [];
  const lifecycleRows: (typeof lifecycleTransitions.$inferInsert)[] = [];
  const actionRows: (typeof actions.$inferInsert)[] = [];

  for (const c of ctx.customers) {
    // Who worked the customer: its owner, or marketing for the pool.
    const actor = c.ownerUserId ?? marketer?.id ?? ctx.adminId;
    const history = 20 + rng.int(0, 340); // days since the first touch
    // Lifecycle: one transition per step from SUSPECT to the customer's stage, spread over its history.
    const steps = LIFECYCLE_ORDER.indexOf(c.stage);
    for (let k = 1; k <= steps; k++) {
      const from = LIFECYCLE_ORDER[k - 1] as Stage;
      const to = LIFECYCLE_ORDER[k] as Stage;
      lifecycleRows.push({
        customerId: c.id,
        fromStage: from,
        toStage: to,
        reason: to === 'PROSPECT' ? 'Showed interest' : to === 'OPPORTUNITY' ? 'Qualified: need and decision maker known' : to === 'CUSTOMER' ? 'First order' : 'Delivered and in service',
        cause: to === 'CUSTOMER' ? 'ORDER' : to === 'OPPORTUNITY' ? 'OPPORTUNITY' : 'MANUAL',
        actorId: actor,
        at: ago(history - (history * k) / (steps + 1)),
      });
    }
    // Contact history on most customers, over the last months.
    if (rng.chance(0.85)) {
      const n = rng.int(1, 6);
      const contactIds = contactsOf.get(c.id) ?? [];
      for (let k = 0; k < n; k++) {
        const channel = rng.weighted([['PHONE', 5], ['EMAIL', 5], ['VISIT', 2], ['MEETING', 2], ['EVENT', 1], ['WEB', 1]] as const);
        interactionRows.push({
          customerId: c.id,
          contactId: contactIds.length && rng.chance(0.8) ? rng.pick(contactIds) : null,
          channel,
          direction: channel === 'WEB' ? 'INBOUND' : rng.chance(0.7) ? 'OUTBOUND' : 'INBOUND',
          occurredAt: ago(rng.int(1, Math.min(history, 180)) + rng.next()),
          subject: rng.pick(SUBJECTS[channel] ?? ['Contact']),
          notes: null,
          outcome: rng.pick(OUTCOMES),
          actorId: actor,
        });
      }
    }
  }

  // Opportunities: only for customers a salesperson owns (the pool has none).
  for (const c of ctx.customers) {
    if (!c.ownerUserId) continue;
    const plans: { final: string; lost?: boolean }[] = [];
    if (c.stage === 'OPPORTUNITY') plans.push({ final: rng.weighted([['QUALIFICATION', 4], ['ACCEPTANCE', 3], ['NEGOTIATION', 3]] as const) });
    if (c.stage === 'CUSTOMER' || c.stage === 'USER') plans.push({ final: 'WON' });
    if ((c.stage === 'PROSPECT' || c.stage === 'OPPORTUNITY' || c.stage === 'USER') && rng.chance(0.2)) plans.push({ final: 'LOST', lost: true });
    for (const plan of plans) {
      // The path through the pipeline: open stages up to the final one (a lost deal dies at some stage).
      const openKeys = ['QUALIFICATION', 'ACCEPTANCE', 'NEGOTIATION'];
      const reached = plan.final === 'WON' ? 3 : plan.lost ? rng.int(1, 3) : openKeys.indexOf(plan.final) + 1;
      const path = [...openKeys.slice(0, reached), ...(plan.final === 'WON' || plan.lost ? [plan.final] : [])];
      const started = rng.int(20, 200);
      const times = path.map((_, k) => ago(started - (started * k) / path.length - rng.next()));
      const last = path[path.length - 1] as string;
      const atLeast = (key: string) => openKeys.indexOf(key) <= reached - 1 || last === 'WON';
      const clearIntent = rng.chance(0.8);
      const qualification = {
        needDefined: atLeast('ACCEPTANCE') || rng.chance(0.5),
        decisionMakerKnown: atLeast('ACCEPTANCE') ? clearIntent : rng.chance(0.3),
        budgetKnown: reached >= 3,
        timingKnown: reached >= 3,
        ...(atLeast('ACCEPTANCE') && !clearIntent ? { purchaseMotive: 'Replacement of worn equipment', paymentCapability: rng.pick(['MEDIUM', 'HIGH'] as const) } : {}),
        ...(rng.chance(0.2) ? { judgement: 'Experienced account manager: strong fit, decision this quarter' } : {}),
      };
      const amount = `${rng.int(8, 400) * 250}.00`;
      const closed = last === 'WON' || last === 'LOST';
      const [o] = await db
        .insert(opportunities)
        .values({
          customerId: c.id,
          pipelineId: pipeline.id,
          stageId: stageId(last),
          name: `${rng.pick(PRODUCTS)} ${new Date(times[0] ?? now).getUTCFullYear()}`,
          amount,
          currency: 'EUR',
          expectedCloseDate: new Date(closed ? (times[times.length - 1] ?? new Date(now)).getTime() : now + rng.int(10, 120) * DAY).toISOString().slice(0, 10),
          status: last === 'WON' ? 'WON' : last === 'LOST' ? 'LOST' : 'OPEN',
          qualification,
          lostReason: last === 'LOST' ? rng.pick(LOST_REASONS) : null,
          competitor: last === 'LOST' && rng.chance(0.7) ? rng.pick(COMPETITORS) : null,
          stageEnteredAt: times[times.length - 1] ?? new Date(now),
          closedAt: closed ? (times[times.length - 1] ?? null) : null,
          ownerUserId: c.ownerUserId,
          ownerUnitId: c.ownerUnitId,
          createdBy: c.ownerUserId,
          createdAt: times[0] ?? new Date(now),
        })
        .returning({ id: opportunities.id, lostReason: opportunities.lostReason, competitor: opportunities.competitor });
      if (!o) throw new Error('opportunity insert returned nothing');
      out.opportunities++;
      await db.insert(stageTransitions).values(
        path.map((key, k) => ({
          opportunityId: o.id,
          customerId: c.id,
          fromStageId: k === 0 ? null : stageId(path[k - 1] as string),
          toStageId: stageId(key),
          reason: k === 0 ? 'Opened' : null,
          lostReason: key === 'LOST' ? o.lostReason : null,
          competitor: key === 'LOST' ? o.competitor : null,
          secondsInFromStage: k === 0 ? null : Math.round(((times[k] as Date).getTime() - (times[k - 1] as Date).getTime()) / 1000),
          actorId: c.ownerUserId as string,
          at: times[k] as Date,
        })),
      );
      // Open deals carry their next steps on the owner's agenda, some of them overdue.
      if (!closed) {
        const titles = ACTION_TITLES[last] ?? [];
        const n = rng.int(1, 2);
        for (let k = 0; k < n; k++) {
          const [title, key] = rng.pick(titles);
          actionRows.push({
            opportunityId: o.id,
            customerId: c.id,
            title,
            key,
            dueAt: new Date(now + Math.round((rng.int(-6, 14) + rng.next()) * DAY)),
            value: rng.int(2, 5),
            urgency: rng.int(1, 5),
            assigneeId: c.ownerUserId,
            ownerUnitId: c.ownerUnitId,
            createdBy: c.ownerUserId,
          });
        }
        // What got done already at earlier stages.
        if (reached > 1) {
          actionRows.push({ opportunityId: o.id, customerId: c.id, title: 'Identify the decision maker', key: 'DECISION_MAKER_KNOWN', status: 'DONE', completedAt: times[1] ?? null, value: 3, urgency: 3, assigneeId: c.ownerUserId, ownerUnitId: c.ownerUnitId, createdBy: c.ownerUserId });
        }
      }
    }
    // Care for existing customers: an occasional open action on the customer itself.
    if ((c.stage === 'CUSTOMER' || c.stage === 'USER') && rng.chance(0.35)) {
      const [title, key] = rng.pick(ACTION_TITLES[c.stage] ?? []);
      actionRows.push({ customerId: c.id, title, key, dueAt: rng.chance(0.2) ? null : new Date(now + Math.round((rng.int(-3, 30) + rng.next()) * DAY)), value: rng.int(1, 4), urgency: rng.int(1, 3), assigneeId: c.ownerUserId, ownerUnitId: c.ownerUnitId, createdBy: c.ownerUserId });
    }
  }

  for (let i = 0; i < interactionRows.length; i += 500) await db.insert(interactions).values(interactionRows.slice(i, i + 500));
  for (let i = 0; i < lifecycleRows.length; i += 500) await db.insert(lifecycleTransitions).values(lifecycleRows.slice(i, i + 500));
  for (let i = 0; i < actionRows.length; i += 500) await db.insert(actions).values(actionRows.slice(i, i + 500));
  out.interactions = interactionRows.length;
  out.actions = actionRows.length;

  // One lead from marketing's pool handed to a Hamburg salesperson, due tomorrow.
  const [receiver] = await queryRows<{ id: string; unit_id: string }>(db, sql`SELECT id, unit_id FROM users WHERE lower(email) = ${demoEmail('Maria Schneider', 'sales')}`);
  const lead = ctx.customers.find((c) => c.ownerUserId === null && c.stage === 'PROSPECT');
  if (receiver && lead && marketer) {
    await db.insert(handoffs).values({
      customerId: lead.id,
      fromUserId: marketer.id,
      fromUnitId: ctx.marketingUnitId,
      toUserId: receiver.id,
      toUnitId: receiver.unit_id,
      dueAt: new Date(now + 20 * 3_600_000),
      status: 'PENDING',
      note: 'Qualified at the trade fair: budget approved, decision this quarter',
    });
    out.handoffs++;
  }
  return out;
}

function printLogins(adminEmail: string): void {
  const rows = keyLogins(adminEmail);
  const w = [Math.max(5, ...rows.map((r) => r.email.length)), Math.max(4, ...rows.map((r) => r.role.length))];
  console.log('\nKey logins');
  console.log(`  ${'email'.padEnd(w[0] ?? 0)}  ${'role'.padEnd(w[1] ?? 0)}  unit`);
  for (const r of rows) console.log(`  ${r.email.padEnd(w[0] ?? 0)}  ${r.role.padEnd(w[1] ?? 0)}  ${r.unit}`);
  console.log(`\nGet a token:  TOKEN=$(npm run --silent token -- ${demoEmail('Maria Schneider', 'sales')})`);
  console.log('Then:         curl -H "Authorization: Bearer $TOKEN" http://127.0.0.1:3000/v1/customers');
}

// Seeds through this process, or, while a server holds the embedded directory, asks that server to
// seed itself (over its control socket): the Quick start's order, start then seed, works as written.
async function seedSomewhere(config: ReturnType<typeof loadConfig>): Promise<{ s: SeedSummary; kind: string }> {
  let database;
  try {
    database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 2 });
  } catch (err) {
    if (!(err instanceof DataDirBusyError)) throw err;
    const reply = await askRunningServer(config, 'seed-demo', {});
    if (!reply) throw err;
    if (reply.status !== 200) throw new Error((reply.body as { error?: string }).error ?? `the running server answered ${reply.status}`);
    return { s: reply.body as SeedSummary, kind: 'embedded database, through the running server' };
  }
  let app: FastifyInstance | undefined;
  try {
    await migrateAndBootstrap(database, config.adminEmail);
    app = await buildApp(config, { database, migrate: false, logger: false });
    return { s: await seedDemo(app), kind: `${database.kind} database` };
  } finally {
    await app?.close();
    await database.close();
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const { s, kind } = await seedSomewhere(config);
  if (!s.created) {
    console.log(`demo data already present (unit "${DEMO_MARKER}" exists); nothing changed`);
  } else {
    console.log(
      `demo company created in ${(s.ms / 1000).toFixed(1)} s: ${s.units} units, ${s.users} users, ${s.customers} customers ` +
        `(${s.frozen} frozen), ${s.contacts} contact persons, ${s.shares} shares, ${s.interactions} interactions, ` +
        `${s.opportunities} opportunities, ${s.actions} key actions, ${s.handoffs} pending handoff (${kind})`,
    );
  }
  printLogins(config.adminEmail);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await main();
  } catch (err) {
    // Refusals before anything was written say only why; a failure half-way also says what it left.
    const before = err instanceof ConfigError || err instanceof DataDirBusyError;
    console.error(before ? (err as Error).message : `seeding failed: ${(err as Error).message}`);
    if (!before) console.error('the database may now hold a partial demo company; seed a fresh database');
    process.exit(1);
  }
}
