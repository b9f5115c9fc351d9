import { Column, fillPlaceholders, is, SQL, Subquery } from 'drizzle-orm';
import { NodePgPreparedQuery } from 'drizzle-orm/node-postgres';

// Reading many rows without the query builder's generic row mapping. drizzle maps each row by
// walking its selection field by field (entity checks, the field's path, a reduce per row): for a
// GraphQL page of ~470 rows of up to 35 columns, that walk and its garbage cost more than the
// statements. Here a flat selection's rows (arrays, as drizzle asks pg for them) go through a
// mapper compiled once per list of fields: one object literal per row, each column through its
// own decoder, the same values drizzle would answer. Nested selections, and drivers other than
// node-postgres (the embedded database), take drizzle's own path.

type Decoder = { mapFromDriverValue(value: unknown): unknown };
type Field = { path: string[]; field: unknown };
type RowMapper = (row: unknown[]) => Record<string, unknown>;
type PgPrepared = {
  logger: { logQuery(text: string, params: unknown[]): void };
  rawQueryConfig: { text: string };
  client: { query(config: object, params: unknown[]): Promise<{ rows: unknown[][] }> };
  queryConfig: object;
  params: unknown[];
  fields?: Field[];
  customResultMapper?: unknown;
  execute(values?: Record<string, unknown>): Promise<unknown>;
};

const identity = Column.prototype.mapFromDriverValue;

function decoderOf(field: unknown): Decoder {
  if (is(field, Column)) return field as unknown as Decoder;
  if (is(field, SQL)) return (field as unknown as { decoder: Decoder }).decoder;
  if (is(field, Subquery)) return (field as unknown as { _: { sql: { decoder: Decoder } } })._.sql.decoder;
  return (field as { sql: { decoder: Decoder } }).sql.decoder;
}

// Decoders are told apart by identity: a number per decoder object, for the mappers' cache key.
const decoderIds = new WeakMap<object, number>();
let decoders = 0;
function decoderId(d: Decoder): number {
  let id = decoderIds.get(d);
  if (id === undefined) {
    id = ++decoders;
    decoderIds.set(d, id);
  }
  return id;
}

const mappers = new Map<string, RowMapper>();
const MAX_MAPPERS = 512;

function compile(names: string[], decoders: Decoder[]): RowMapper {
  const parts = names.map((name, i) => {
    const d = decoders[i] as Decoder;
    const value = d.mapFromDriverValue === identity ? `r[${i}]` : `(r[${i}] === null ? null : d[${i}](r[${i}]))`;
    return `${JSON.stringify(name)}: ${value}`;
  });
  const fns = decoders.map((d) => (value: unknown) => d.mapFromDriverValue(value));
  return new Function('d', `return function mapRow(r) { return { ${parts.join(', ')} }; };`)(fns) as RowMapper;
}

// A prepared statement keeps its field list: its mapper is found by that list's identity.
const byFieldList = new WeakMap<Field[], RowMapper | null>();

function mapperFor(fields: Field[]): RowMapper | undefined {
  const known = byFieldList.get(fields);
  if (known !== undefined) return known ?? undefined;
  const mapper = mapperOf(fields);
  byFieldList.set(fields, mapper ?? null);
  return mapper;
}

function mapperOf(fields: Field[]): RowMapper | undefined {
  const names: string[] = [];
  const decoders: Decoder[] = [];
  let key = '';
  for (const f of fields) {
    if (f.path.length !== 1) return undefined;
    const d = decoderOf(f.field);
    names.push(f.path[0] as string);
    decoders.push(d);
    key += `${f.path[0]}\u0001${decoderId(d)}\u0002`;
  }
  let mapper = mappers.get(key);
  if (!mapper) {
    if (mappers.size >= MAX_MAPPERS) mappers.clear();
    mapper = compile(names, decoders);
    mappers.set(key, mapper);
  }
  return mapper;
}

/** A prepared query's rows (placeholders bound from `values`), mapped by a compiled mapper when it can. */
export async function executeRows<T>(prepared: unknown, values: Record<string, unknown> = {}): Promise<T[]> {
  const q = prepared as PgPrepared;
  const mapper = is(prepared, NodePgPreparedQuery) && q.fields && !q.customResultMapper ? mapperFor(q.fields) : undefined;
  if (!mapper) return (await q.execute(values)) as T[];
  const params = fillPlaceholders(q.params, values);
  // The query logger is how the database counts its statements (db/client.ts).
  q.logger.logQuery(q.rawQueryConfig.text, params);
  const result = await q.client.query(q.queryConfig, params);
  const rows = result.rows;
  const out = new Array<T>(rows.length);
  for (let i = 0; i < rows.length; i++) out[i] = mapper(rows[i] as unknown[]) as T;
  return out;
}

/** A select's rows, as awaiting it would answer them. */
export function selectRows<T>(query: PromiseLike<T[]>): Promise<T[]> {
  return executeRows<T>((query as unknown as { _prepare(): unknown })._prepare());
}
