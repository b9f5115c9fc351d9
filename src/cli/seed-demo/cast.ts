// Who works at the demo company and where: the organisation plan and the logins worth knowing.

export const DEMO_MARKER = 'Demo Region North';
const MAIL = 'demo.keel.dev';

// A place a unit works from: customers of its people are local to it.
export type Place = { city: string; state: string; country: 'DE' | 'AT'; dial: string; area: string; postal: string };

type StaffPlan = { manager?: string; sales?: string[]; service?: string; marketing?: string[] };
type BranchPlan = Place & StaffPlan;
type RegionPlan = { name: string; manager: string; branches: BranchPlan[] };
export type PartnerPlan = Place & {
  name: string;
  type: 'AGENT' | 'DISTRIBUTOR' | 'RESELLER' | 'SERVICE_PROVIDER';
  manager: string;
  sales: string[];
  sub?: Place & { name: string; sales: string[] };
};

const de = (city: string, state: string, area: string, postal: string): Place => ({ city, state, country: 'DE', dial: '+49', area, postal });
const at = (city: string, state: string, area: string, postal: string): Place => ({ city, state, country: 'AT', dial: '+43', area, postal });

export const REGIONS: RegionPlan[] = [
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

export const PARTNERS: PartnerPlan[] = [
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

export const HQ_PEOPLE = { executive: 'Helena Fischer', marketing: ['Sarah Koch', 'Noah Braun'] };
export const INTEGRATION = { email: `erp.integration@${MAIL}`, name: 'ERP connector' };

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
