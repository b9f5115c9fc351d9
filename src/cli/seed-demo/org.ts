// The organisation: HQ people, marketing, three regions with branches, four partners with their
// staff, created as the admin through the org service.
import type { OrgUnitDto, UserDto } from '../../modules/org/index.js';
import { demoEmail, HQ_PEOPLE, INTEGRATION, type PartnerPlan, PARTNERS, type Place, REGIONS } from './cast.js';
import type { SeedContext } from './context.js';

// Who owns a share of the customers (weighted), and who creates them.
export type Owner = { kind: 'user'; user: UserDto; place: Place; partner: boolean; weight: number } | { kind: 'pool'; creator: UserDto; unit: OrgUnitDto; weight: number };
export type Branch = { unit: OrgUnitDto; place: Place; manager?: UserDto };
// `erp`: the ERP connector, which alone writes the fields the ERP owns (external ids, credit).
export type SeededOrg = { owners: Owner[]; branches: Branch[]; partners: OrgUnitDto[]; marketers: UserDto[]; marketingUnit: OrgUnitDto; erp: UserDto };

export async function seedOrg(ctx: SeedContext, root: OrgUnitDto): Promise<SeededOrg> {
  const { services, admin, summary } = ctx;
  const unit = async (name: string, kind: 'REGION' | 'BRANCH' | 'DEPARTMENT' | 'PARTNER', parent: OrgUnitDto, partnerType?: PartnerPlan['type']) => {
    summary.units++;
    return services.org.createUnit(admin, { name, kind, parentId: parent.id, ...(partnerType ? { partnerType } : {}) });
  };
  const user = async (name: string, role: string, at: OrgUnitDto, email = demoEmail(name, role), kind: 'HUMAN' | 'SERVICE' = 'HUMAN') => {
    summary.users++;
    return services.org.createUser(admin, { email, name, unitId: at.id, roles: [role], kind });
  };

  const owners: Owner[] = [];
  await user(HQ_PEOPLE.executive, 'executive', root);
  const erp = await user(INTEGRATION.name, 'integration', root, INTEGRATION.email, 'SERVICE');
  const marketingUnit = await unit('Marketing', 'DEPARTMENT', root);
  const marketers: UserDto[] = [];
  for (const m of HQ_PEOPLE.marketing) marketers.push(await user(m, 'marketing', marketingUnit));

  const branches: Branch[] = [];
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
      for (const s of names) owners.push({ kind: 'user', user: await user(s, 'partner_sales', at), place, partner: true, weight: 6 });
    }
  }
  // Marketing's nurturing pool: owned by the department, no user.
  const marketer = marketers[0];
  if (!marketer) throw new Error('the demo company has no marketer');
  owners.push({ kind: 'pool', creator: marketer, unit: marketingUnit, weight: 30 });
  return { owners, branches, partners, marketers, marketingUnit, erp };
}
