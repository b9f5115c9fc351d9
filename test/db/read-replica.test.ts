// DATABASE_READ_URL: reports read the replica while it is within its lag bound, the primary
// otherwise (unreachable replica included). A database that is not in recovery counts as caught up,
// so the test points the replica URL at the same database under another application_name.
import { sql } from 'drizzle-orm';
import t from 'tap';
import { createDatabase, queryRows } from '../../src/db/client.js';
import { freePort } from '../helpers/processes.js';

const url = process.env.DATABASE_URL;
const withName = (u: string, name: string) => `${u}${u.includes('?') ? '&' : '?'}application_name=${name}`;
const whoAnswers = async (db: Parameters<typeof queryRows>[0]) =>
  (await queryRows<{ name: string }>(db, sql`SELECT current_setting('application_name') AS name`))[0]?.name;

t.test('reports on a read replica within its lag bound', { skip: url ? false : 'needs PostgreSQL (DATABASE_URL)' }, async (t) => {
  const database = await createDatabase({ url: withName(url!, 'keel-primary'), readUrl: withName(url!, 'keel-replica'), readMaxLagMs: 5000, poolSize: 2 });
  t.teardown(() => database.close());
  t.ok(database.readDb, 'a reader exists');
  t.equal(await whoAnswers(database.readDb!), 'keel-replica', 'a caught-up replica serves the reads');
  t.equal(await whoAnswers(database.db), 'keel-primary', 'everything else stays on the primary');
  const inTx = await database.readDb!.transaction(async (tx) => whoAnswers(tx));
  t.equal(inTx, 'keel-replica', 'a transaction of the reader runs on the replica too');
});

t.test('an unreachable replica sends the reports to the primary', { skip: url ? false : 'needs PostgreSQL (DATABASE_URL)' }, async (t) => {
  const gone = new URL(url!);
  gone.port = String(await freePort());
  const database = await createDatabase({ url: withName(url!, 'keel-primary'), readUrl: gone.toString(), readMaxLagMs: 5000, poolSize: 2, connectTimeoutMs: 1000 });
  t.teardown(() => database.close());
  t.equal(await whoAnswers(database.readDb!), 'keel-primary', 'the primary answers');
});

t.test('a replica further behind than the bound is not read', { skip: url ? false : 'needs PostgreSQL (DATABASE_URL)' }, async (t) => {
  // A negative bound cannot be configured; -1 stands for "any lag is too much" here.
  const database = await createDatabase({ url: withName(url!, 'keel-primary'), readUrl: withName(url!, 'keel-replica'), readMaxLagMs: -1, poolSize: 2 });
  t.teardown(() => database.close());
  t.equal(await whoAnswers(database.readDb!), 'keel-primary', 'the primary answers');
});
