import { getTableColumns, getTableName, sql, type SQL } from 'drizzle-orm';
import type { PgTable } from 'drizzle-orm/pg-core';
import { type Executor, queryRows } from './client.js';

// Many rows of one table in one INSERT with one parameter: the rows as a JSON array, read back by
// jsonb_populate_recordset. A VALUES list of a bulk batch (500 rows of 30 columns) is 15 000 parameters that
// the driver encodes and the server parses and plans at every statement; one jsonb parameter costs neither.
// Rows are keyed by the table's property names (as drizzle's insert takes them); a column a row leaves
// undefined takes its default, so rows are grouped by the columns they give (one statement per group, one in
// the usual case of rows built by the same code).

type Row = Record<string, unknown>;

function groups(table: PgTable, rows: readonly Row[]): { names: string[]; json: Row[] }[] {
  const cols = getTableColumns(table);
  const out = new Map<string, { names: string[]; json: Row[] }>();
  for (const row of rows) {
    const keys = Object.keys(cols).filter((k) => row[k] !== undefined);
    const sig = keys.join(',');
    let g = out.get(sig);
    if (!g) out.set(sig, (g = { names: keys.map((k) => cols[k]!.name), json: [] }));
    g.json.push(Object.fromEntries(keys.map((k) => [cols[k]!.name, row[k]])));
  }
  return [...out.values()];
}

/** The INSERT statements of `rows` (one per group of given columns), each ending before any ON CONFLICT / RETURNING. */
export function jsonInsertStatements(table: PgTable, rows: readonly Row[]): SQL[] {
  const name = sql.identifier(getTableName(table));
  return groups(table, rows).map(({ names, json }) => {
    const list = sql.raw(names.map((n) => `"${n.replaceAll('"', '""')}"`).join(', '));
    return sql`INSERT INTO ${name} (${list}) SELECT ${list} FROM jsonb_populate_recordset(NULL::${name}, ${JSON.stringify(json)}::jsonb)`;
  });
}

/**
 * Inserts the rows; with `onConflictDoNothing`, a row a unique constraint refuses is skipped. Answers how many
 * rows went in.
 */
export async function insertJsonRows(ex: Executor, table: PgTable, rows: readonly Row[], opts: { onConflictDoNothing?: boolean } = {}): Promise<number> {
  let n = 0;
  for (const insert of jsonInsertStatements(table, rows)) {
    const conflict = opts.onConflictDoNothing ? sql` ON CONFLICT DO NOTHING` : sql``;
    const [r] = await queryRows<{ n: number }>(ex, sql`WITH ins AS (${insert}${conflict} RETURNING 1) SELECT count(*)::int AS n FROM ins`);
    n += r?.n ?? 0;
  }
  return n;
}
