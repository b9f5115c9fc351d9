// Customers and their contact persons, spread over the owners, created by the people who own them
// through the customers service. Every customer starts at the initial lifecycle stage; the history
// (history.ts, opportunities.ts) then moves it to the stage it is meant to reach.
import { AppError } from '../../lib/errors.js';
import { type CreateContactInput, type CreateCustomerInput, type LifecycleStage, normalizeEmail, normalizeName, normalizePhone, normalizeRegistrationId } from '../../modules/customers/index.js';
import type { Place } from './cast.js';
import type { SeedContext, SeededCustomer } from './context.js';
import type { SeededOrg } from './org.js';
import { slug } from './random.js';
import { CAMPAIGNS, type Channel, type ContactRole, FIRST, INDUSTRIES, LAST, PERSON_INDUSTRIES, PREFIX, STREETS, SUFFIX, TITLES } from './words.js';

export async function seedCustomers(ctx: SeedContext, org: SeededOrg, total: number): Promise<SeededCustomer[]> {
  const { rng, services, summary } = ctx;
  // Names, phones, emails and registration ids never collide.
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
  const byOwner = new Map<string, string[]>();
  const created: SeededCustomer[] = [];

  for (let i = 0; i < total; i++) {
    const owner = rng.weighted(org.owners.map((o) => [o, o.weight] as const));
    const pool = owner.kind === 'pool';
    const partner = owner.kind === 'user' && owner.partner;
    const place = owner.kind === 'user' ? owner.place : rng.pick(org.branches).place;
    const creator = await ctx.as(owner.kind === 'user' ? owner.user.id : owner.creator.id);
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

    // The stage the customer's story reaches; the pool holds leads only.
    const target: LifecycleStage = pool
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
    const emails = person ? [`${slug(first)}.${slug(last)}${rng.int(1, 99)}@mail.example`] : rng.chance(0.35) ? [`info@${domain}`, `purchasing@${domain}`] : [`info@${domain}`];
    // Commercial register numbers as each country writes them.
    const registrationId = person || !rng.chance(0.7) ? undefined : place.country === 'AT' ? `FN ${rng.int(100000, 599999)}${rng.pick([...'abdfghikmpstvwxyz'])}` : `HRB ${rng.int(10000, 299999)}`;
    const buyer = target === 'CUSTOMER' || target === 'USER';
    const input: CreateCustomerInput = {
      kind: person ? 'PERSON' : 'ORGANIZATION',
      name,
      phones: person ? [uniquePhone(place, true)] : rng.chance(0.3) ? [uniquePhone(place), uniquePhone(place)] : [uniquePhone(place)],
      emails: emails.filter((e) => !taken.emails.has(normalizeEmail(e))),
      industry,
      region: place.state,
      address: { line1: `${rng.pick(STREETS)} ${rng.int(1, 180)}`, city: place.city, postalCode: `${place.postal}${rng.digits(5 - place.postal.length - (place.country === 'AT' ? 1 : 0))}`, country: place.country },
      roles: rng.weighted([[['BUYER'], 85], [['BUYER', 'SUPPLIER'], 6], [['DISTRIBUTOR'], 3], [['COMPETITOR'], 3], [['BUYER', 'PARTNER'], 3]] as const).slice(),
      source: {
        channel,
        ...(campaigns && rng.chance(0.7) ? { campaign: rng.pick(campaigns) } : {}),
        ...(referrer ? { referrerCustomerId: referrer, detail: 'Recommended by an existing customer' } : {}),
      },
      ...(person ? {} : { website: `https://www.${domain}` }),
      ...(registrationId && !taken.regs.has(normalizeRegistrationId(registrationId)) ? { registrationId } : {}),
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
    // What the ERP knows of a buyer (its id there, its credit) comes from the ERP connector: the only caller allowed to write it.
    if (buyer) {
      const credit = partner ? {} : { creditStatus: rng.weighted([['GOOD', 80], ['WATCH', 15], ['BLOCKED', 5]] as const) };
      await services.customers.update(await ctx.as(org.erp.id), customerId, { externalIds: { erp: `D${100000 + i}` }, ...credit });
    }

    // Contact persons: who decides, who influences, who keeps the door.
    const contacts: CreateContactInput[] = [];
    if (person) {
      contacts.push({ name, decisionRole: 'DECISION_MAKER', title: 'Owner', phones: input.phones ?? [], emails: input.emails ?? [] });
    } else {
      const n = rng.weighted([[1, 35], [2, 40], [3, 25]]);
      for (let k = 0; k < n; k++) {
        const role: ContactRole =
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
    const contactIds: string[] = [];
    for (const c of contacts) {
      contactIds.push((await services.customers.createContact(creator, customerId, c)).id);
      summary.contacts++;
    }
    created.push({
      id: customerId,
      ownerUnitId: owner.kind === 'user' ? owner.user.unitId : owner.unit.id,
      ownerUserId: owner.kind === 'user' ? owner.user.id : null,
      creatorId: creator.userId,
      target,
      partner,
      contactIds,
    });
  }
  return created;
}
