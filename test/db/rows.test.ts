import { and, eq, getTableColumns, inArray, sql } from 'drizzle-orm';
import t from 'tap';
import { executeRows, selectRows } from '../../src/db/rows.js';
import { contacts, customers, customerValues, users } from '../../src/db/schema/index.js';
import { buildTestApp, company } from '../helpers/app.js';
import { contact } from '../helpers/factories.js';

// The compiled row mapper answers what drizzle's own mapping answers: the same keys, the same
// values (dates as Date, numerics as text, arrays, JSON, nulls), and the statement is counted.
t.test('selectRows and executeRows answer as the query builder does', async (t) => {
  const app = await buildTestApp();
  t.teardown(() => app.close());
  const c = await company(app);
  const a = await app.customer(c.users.sales, { phones: ['+49 40 1234567'], emails: [`${Date.now()}@example.com`] });
  const b = await app.customer(c.users.sales);
  await contact(app, c.users.sales, a.id, { name: 'Ada' });
  await contact(app, c.users.sales, a.id, { name: 'Bob' });
  const db = app.db;
  const ids = [a.id, b.id];

  const wide = () =>
    db
      .select({ ...getTableColumns(customers), valueClass: customerValues.valueClass, churn: sql<string | null>`${customerValues.churnLevel}` })
      .from(customers)
      .leftJoin(customerValues, eq(customerValues.customerId, customers.id))
      .where(inArray(customers.id, ids))
      .orderBy(customers.id);
  const viaBuilder = await wide();
  const before = app.database.stats.statements;
  const viaMapper = await selectRows(wide());
  t.equal(app.database.stats.statements, before + 1, 'the statement is counted');
  t.strictSame(viaMapper, viaBuilder);
  t.equal(viaMapper.length, 2);
  t.type(viaMapper[0]?.createdAt, Date);
  t.strictSame(Object.keys(viaMapper[0] ?? {}), Object.keys(viaBuilder[0] ?? {}), 'keys in the same order');

  const contactsOf = () => db.select(getTableColumns(contacts)).from(contacts).where(eq(contacts.customerId, a.id)).orderBy(contacts.createdAt, contacts.id);
  t.strictSame(await selectRows(contactsOf()), await contactsOf());
  t.equal((await selectRows(contactsOf())).length, 2);

  // A prepared statement with placeholders, executed twice (its mapper is found by its field list).
  const prepared = db.select({ id: users.id, email: users.email, createdAt: users.createdAt }).from(users).where(and(eq(users.id, sql.placeholder('id')))).prepare('rows_test_user');
  for (const u of [c.users.sales, c.users.admin]) {
    t.strictSame(await executeRows(prepared, { id: u.id }), await prepared.execute({ id: u.id }));
  }

  // A nested selection is left to drizzle's own mapping, with the same answer.
  const nested = () => db.select({ c: { id: customers.id, name: customers.name }, v: { cls: customerValues.valueClass } }).from(customers).leftJoin(customerValues, eq(customerValues.customerId, customers.id)).where(eq(customers.id, a.id));
  t.strictSame(await selectRows(nested()), await nested());
});
