import type { HttpRequest } from '../load.js';

// The peer's side of the benchmark: the same S1, S2 and S6 requests as GraphQL operations of
// PostGraphile (Amber preset names), and the check that both servers answer the same before any
// throughput is compared.

// The app's customer fields (its REST answer) and the peer's columns that carry them.
const CUSTOMER_FIELDS: Record<string, string[]> = {
  id: ['rowId'],
  kind: ['kind'],
  name: ['name'],
  registrationId: ['registrationId'],
  phones: ['phones'],
  emails: ['emails'],
  website: ['website'],
  industry: ['industry'],
  region: ['region'],
  address: ['address'],
  roles: ['roles'],
  lifecycleStage: ['lifecycleStage'],
  status: ['status'],
  source: ['sourceChannel', 'sourceCampaign', 'sourceReferrerCustomerId', 'sourceDetail'],
  creditStatus: ['creditStatus'],
  creditLimit: ['creditLimit'],
  creditCurrency: ['creditCurrency'],
  // The computed value fields live in customer_values (one row per customer), read by its relation.
  valueClass: ['customerValueByCustomerId { valueClass }'],
  valueScore: ['customerValueByCustomerId { score }'],
  churnRisk: ['customerValueByCustomerId { churnLevel }'],
  externalIds: ['externalIds'],
  ownerUserId: ['ownerUserId'],
  ownerUnitId: ['ownerUnitId'],
  mergedIntoId: ['mergedIntoId'],
  version: ['version'],
  createdAt: ['createdAt'],
  updatedAt: ['updatedAt'],
};

/**
 * The columns a persona reads: the app's customer fields minus those its roles hide. PostGraphile
 * has no per-caller field hiding short of a role per persona class; a client asks only for what it
 * may see, so the peer does the same work the app does for that persona.
 */
export function customerSelection(hidden: Set<string>): string {
  return Object.entries(CUSTOMER_FIELDS)
    .filter(([field]) => !hidden.has(`customer.${field}`))
    .flatMap(([, cols]) => cols)
    .join(' ');
}

// Keel's orders: lists newest first (createdAt, id), contacts oldest first, interactions newest first.
const S1 = (sel: string) => `query S1($id: UUID!) { customerByRowId(rowId: $id) { ${sel} } }`;
const S2 = (sel: string) =>
  `query S2 { allCustomers(first: 50, condition: { lifecycleStage: "CUSTOMER", status: "ACTIVE" }, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) { nodes { ${sel} } pageInfo { hasNextPage } } }`;
export const PEER_S6 = `query S6 { allCustomers(first: 50, condition: { status: "ACTIVE" }, orderBy: [CREATED_AT_DESC, ROW_ID_DESC]) { edges { node {
  rowId name
  contactsByCustomerId(orderBy: [CREATED_AT_ASC, ROW_ID_ASC]) { nodes { rowId name } }
  userByOwnerUserId { rowId name }
  interactionsByCustomerId(first: 5, orderBy: [OCCURRED_AT_DESC, ROW_ID_DESC]) { edges { node { rowId channel occurredAt } } }
} } } }`;

export type PeerRequests = { S1: (id: string) => HttpRequest; S2: () => HttpRequest; S6: () => HttpRequest };

export function peerRequests(token: string, hidden: Set<string>): PeerRequests {
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const sel = customerSelection(hidden);
  const post = (query: string, variables?: Record<string, unknown>): HttpRequest => ({ method: 'POST', path: '/graphql', headers, body: JSON.stringify({ query, ...(variables ? { variables } : {}) }) });
  const s2 = post(S2(sel));
  const s6 = post(PEER_S6);
  return { S1: (id) => post(S1(sel), { id }), S2: () => s2, S6: () => s6 };
}

// ---------------------------------------------------------------- equality

type Fetched = { status: number; json: unknown };

async function send(base: string, r: HttpRequest): Promise<Fetched> {
  const res = await fetch(`${base}${r.path}`, { method: r.method, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}) });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json };
}

type GqlData<T> = { data?: T; errors?: { message: string }[] };

function dataOf<T>(who: string, f: Fetched): T {
  const g = f.json as GqlData<T>;
  if (f.status !== 200 || g.errors?.length || !g.data) throw new Error(`${who} answered ${f.status}: ${JSON.stringify(f.json).slice(0, 300)}`);
  return g.data;
}

// S6 reduced to ids: each customer with its contact ids, owner id and last interactions' ids.
type S6Ids = { id: string; contacts: string[]; owner: string | null; interactions: string[] }[];

type AppS6 = {
  customers: { edges: { node: { id: string; contacts: { id: string }[]; owner: { id: string } | null; interactions: { edges: { node: { id: string } }[] } } }[] };
};
type PeerS6 = {
  allCustomers: {
    edges: {
      node: {
        rowId: string;
        contactsByCustomerId: { nodes: { rowId: string }[] };
        userByOwnerUserId: { rowId: string } | null;
        interactionsByCustomerId: { edges: { node: { rowId: string } }[] };
      };
    }[];
  };
};

const appS6Ids = (d: AppS6): S6Ids =>
  d.customers.edges.map(({ node: n }) => ({ id: n.id, contacts: n.contacts.map((c) => c.id), owner: n.owner?.id ?? null, interactions: n.interactions.edges.map((e) => e.node.id) }));
const peerS6Ids = (d: PeerS6): S6Ids =>
  d.allCustomers.edges.map(({ node: n }) => ({
    id: n.rowId,
    contacts: n.contactsByCustomerId.nodes.map((c) => c.rowId),
    owner: n.userByOwnerUserId?.rowId ?? null,
    interactions: n.interactionsByCustomerId.edges.map((e) => e.node.rowId),
  }));

export type EqualityInput = {
  persona: string;
  appUrl: string;
  peerUrl: string;
  // The app's own requests for the persona (REST S1/S2 with its token, GraphQL S6).
  app: { S1: (id: string) => HttpRequest; S2: HttpRequest; S6: HttpRequest };
  peer: PeerRequests;
  sampleIds: string[];
};

/** Differences between the app's and the peer's answers for one persona; empty when they agree. */
export async function compareWithPeer(x: EqualityInput): Promise<string[]> {
  const diffs: string[] = [];
  const where = (what: string) => `${x.persona} ${what}`;
  let visible = 0;
  for (const id of x.sampleIds) {
    const a = await send(x.appUrl, x.app.S1(id));
    const p = dataOf<{ customerByRowId: { rowId: string } | null }>('peer', await send(x.peerUrl, x.peer.S1(id)));
    const appSees = a.status === 200;
    if (a.status !== 200 && a.status !== 404) diffs.push(where(`S1 ${id}: the app answered ${a.status}`));
    else if (appSees !== (p.customerByRowId?.rowId === id)) diffs.push(where(`S1 ${id}: app ${appSees ? 'sees' : 'does not see'} it, peer ${p.customerByRowId ? 'sees' : 'does not see'} it`));
    if (appSees) visible++;
  }
  const a2 = await send(x.appUrl, x.app.S2);
  const appPage = a2.status === 200 ? (a2.json as { data: { id: string }[] }).data.map((r) => r.id) : [];
  const peerPage = dataOf<{ allCustomers: { nodes: { rowId: string }[] } }>('peer', await send(x.peerUrl, x.peer.S2())).allCustomers.nodes.map((r) => r.rowId);
  if (a2.status !== 200) diffs.push(where(`S2: the app answered ${a2.status}`));
  else if (JSON.stringify(appPage) !== JSON.stringify(peerPage)) diffs.push(where(`S2 page differs: app ${appPage.length} ids [${appPage.slice(0, 3).join(', ')}…], peer ${peerPage.length} [${peerPage.slice(0, 3).join(', ')}…]`));
  const appS6 = appS6Ids(dataOf<AppS6>('app', await send(x.appUrl, x.app.S6)));
  const peerS6 = peerS6Ids(dataOf<PeerS6>('peer', await send(x.peerUrl, x.peer.S6())));
  if (appS6.length !== peerS6.length) diffs.push(where(`S6: app ${appS6.length} customers, peer ${peerS6.length}`));
  appS6.forEach((c, i) => {
    const q = peerS6[i];
    if (q && JSON.stringify(c) !== JSON.stringify(q)) diffs.push(where(`S6 row ${i}: app ${JSON.stringify(c)} vs peer ${JSON.stringify(q)}`));
  });
  // A sample that nobody sees would not test the rule (ids unknown to the database are in every sample).
  if (diffs.length === 0 && visible === 0) diffs.push(where(`S1: none of the ${x.sampleIds.length} sampled ids is visible, not a test of the rule`));
  return diffs;
}
