import { sql } from 'drizzle-orm';
import type tap from 'tap';
import type { TestApp, User } from './app.js';
import { gqlPaths, problemOf } from './problems.js';

// The checks every sync read (api.md §1 Sync; docs/integration.md "Sync reads") must pass, the same
// for every list: test/modules/integration/sync-reads*.test.ts run them on each list of a mutable resource.

export type Row = { id: string; updatedAt: string };
export type SyncSpec = {
  /** The REST list, narrowed to the test's records; `qs` is appended (starts with `&`). */
  rest: (qs: string) => string;
  /** The GraphQL list's ids with these extra filter fields and arguments (absent: the list has no GraphQL door). */
  gql?: (filter: string, args: string) => string;
  /** Where the ids sit in the GraphQL answer. */
  gqlRows?: (data: any) => Row[];
  reader: User;
  /** The table and column the list's updatedAt reads. */
  table: string;
  column: string;
  /** Whether the list is answered whole (org units, roles, pipelines): no cursor walk; rows around ours are left out. */
  whole?: boolean;
};
type Tap = Parameters<Parameters<typeof tap.test>[0]>[0];

export const ids = (rows: Row[]): string[] => rows.map((r) => r.id);
export const enc = encodeURIComponent;

export function syncChecker(app: TestApp) {
  let ours: Set<string> | undefined;
  const own = (list: string[]) => (ours ? list.filter((id) => ours?.has(id)) : list);
  const ancient = (): Date => new Date(Date.UTC(1995, 0, 1) + Math.floor(Math.random() * 86_400_000 * 300));
  const minus1 = (d: Date) => new Date(d.getTime() - 1).toISOString();

  async function setUpdated(s: SyncSpec, recordIds: string[], at: Date): Promise<void> {
    await app.db.execute(sql`UPDATE ${sql.identifier(s.table)} SET ${sql.identifier(s.column)} = ${at.toISOString()}::timestamptz WHERE id = ANY(${`{${recordIds.join(',')}}`}::uuid[])`);
  }

  /** Walks a REST list one row a page, following nextCursor. */
  async function walk(s: SyncSpec, qs: string): Promise<string[]> {
    const out: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res = await app.rest(s.reader, 'GET', s.rest(`${qs}&limit=1${cursor ? `&cursor=${enc(cursor)}` : ''}`));
      if (res.status !== 200) throw new Error(res.raw);
      out.push(...ids(res.body.data));
      cursor = res.body.nextCursor;
      if (!cursor) break;
    }
    return out;
  }

  /**
   * Two records `a` and `b` given the same updatedAt (a tie) come in id order page by page; a change to
   * `a` after that instant shows up and unchanged `b` does not; counts; descending order; both doors;
   * bad values answer 400 naming the field; a cursor belongs to its sort.
   */
  async function syncChecks(t: Tap, s: SyncSpec, a: string, b: string, change: () => Promise<string>): Promise<void> {
    const tie = ancient();
    await setUpdated(s, [a, b], tie);
    ours = undefined;
    const byId = [a, b].sort();

    // Ties on updatedAt are ordered by id, across pages.
    if (s.whole) {
      const all = ids((await app.rest(s.reader, 'GET', s.rest(`&sort=updatedAt&updatedAfter=${enc(minus1(tie))}`))).body.data);
      const at = all.indexOf(byId[0] ?? '');
      t.same(all.slice(at, at + 2), byId, 'a tie on updatedAt is ordered by id');
      ours = new Set([a, b]);
    } else {
      t.same(await walk(s, `&sort=updatedAt&updatedAfter=${enc(minus1(tie))}`), byId, 'a tie on updatedAt is ordered by id, across pages');
      const counted = await app.rest(s.reader, 'GET', s.rest(`&sort=updatedAt&updatedAfter=${enc(minus1(tie))}&count=true`));
      t.equal(counted.body.totalCount, 2, 'count=true counts the sync read');
    }

    // A change after the cursor shows up; the unchanged record does not.
    // `change` answers the id of what changed: `a` edited, or (records never edited) a new record.
    const changed = await change();
    const unchanged = byId.filter((id) => id !== changed);
    const after = await app.rest(s.reader, 'GET', s.rest(`&sort=updatedAt&updatedAfter=${enc(tie.toISOString())}`));
    t.equal(after.status, 200, after.raw);
    t.same(own(ids(after.body.data)), [changed], 'only the change, after the instant the unchanged record was last changed');
    t.ok(after.body.data.every((r: Row) => Date.parse(r.updatedAt) > tie.getTime()), 'its updatedAt is after the cursor');
    const desc = await app.rest(s.reader, 'GET', s.rest(`&sort=-updatedAt&updatedAfter=${enc(minus1(tie))}`));
    t.same(own(ids(desc.body.data)), [changed, ...[...unchanged].reverse()], 'newest change first with -updatedAt');

    // The other door, the same names.
    if (s.gql && s.gqlRows) {
      const g = await app.gql(s.reader, s.gql(`updatedAfter: "${tie.toISOString()}"`, 'sort: "updatedAt"'));
      t.same(g.errors, undefined, JSON.stringify(g.errors));
      t.same(own(ids(s.gqlRows(g.data))), [changed], 'GraphQL: the same sync read');
      const gAll = await app.gql(s.reader, s.gql(`updatedAfter: "${minus1(tie)}"`, 'sort: "updatedAt"'));
      t.same(own(ids(s.gqlRows(gAll.data))), [...unchanged, changed], 'GraphQL: oldest change first');
      const gBad = await app.gql(s.reader, s.gql('', 'sort: "nope"'));
      t.same(gqlPaths(gBad), ['sort'], 'GraphQL names sort');
      const gBadDate = await app.gql(s.reader, s.gql('updatedAfter: "0000-01-01T00:00:00Z"', ''));
      t.ok(gBadDate.errors?.length, 'GraphQL refuses a date out of range');
    }

    // Bad values name the field.
    t.equal(problemOf(await app.rest(s.reader, 'GET', s.rest('&updatedAfter=yesterday')), 400, ['updatedAfter']), null);
    t.equal(problemOf(await app.rest(s.reader, 'GET', s.rest('&updatedAfter=0000-01-01T00:00:00Z')), 400, ['updatedAfter']), null);
    t.equal(problemOf(await app.rest(s.reader, 'GET', s.rest('&sort=name')), 400, ['sort']), null);
    if (!s.whole) {
      // A cursor belongs to its sort.
      const first = await app.rest(s.reader, 'GET', s.rest(`&sort=updatedAt&updatedAfter=${enc(minus1(tie))}&limit=1`));
      t.ok(first.body.nextCursor);
      t.equal(problemOf(await app.rest(s.reader, 'GET', s.rest(`&sort=-updatedAt&cursor=${enc(first.body.nextCursor)}`)), 400, ['cursor']), null);
    }
  }

  return { syncChecks, walk };
}
