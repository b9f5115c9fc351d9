import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliDecompress } from 'node:zlib';
import type { PGlite, PGliteOptions } from '@electric-sql/pglite';
import type { ExtractTablesWithRelations, SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { LOCK_FILE, lockDataDir } from './embedded-lock.js';
import { ResilientPool } from './pool.js';
import { createReplicaReader } from './replica.js';
import { observedQuery } from './statements.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type Executor = Db | Tx;

export type QueryStats = { statements: number; connectionErrors: number };

export type Database = {
  db: Db;
  // The driver's own handle when `db` is wrapped for ambient transactions (db/ambient.ts).
  rawDb?: Db;
  kind: 'postgres' | 'embedded';
  // The directory an embedded database holds (absent for PostgreSQL and for `memory://`).
  dataDir?: string;
  stats: QueryStats;
  // Behind a pooler: the direct connection that the job queue uses (DATABASE_DIRECT_URL); absent otherwise.
  directDb?: Db;
  // Reads that may be slightly stale (reports): the replica within its lag bound, else the primary.
  readDb?: Db;
  // Connections of the pool now: open, idle, and requests waiting for one (the embedded database is one connection).
  poolStats(): { total: number; idle: number; waiting: number };
  // Runs fn on one session holding a PostgreSQL advisory lock (several instances may start at once).
  withLock<T>(key: number, fn: (db: Db) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
};

export type DatabaseOptions = {
  url?: string | undefined;
  dataDir?: string;
  poolSize?: number;
  connectTimeoutMs?: number;
  statementTimeoutMs?: number;
  // A connection that bypasses the pooler, for session advisory locks and the job queue.
  directUrl?: string | undefined;
  // A read replica for reports, read while at most readMaxLagMs behind.
  readUrl?: string | undefined;
  readMaxLagMs?: number;
  // false: no named server-side prepared statements (behind PgBouncer in transaction mode).
  preparedStatements?: boolean;
  // Told of every server connection lost (the pool has already dropped or will drop it).
  onConnectionError?: (err: Error) => void;
};

/**
 * A fresh cluster, as PGlite's initdb makes it, restored rather than made: initdb was half of a
 * first start on the embedded database (about 8 of 16.5 CPU seconds; unpacking and writing the
 * template takes well under one). Made by `npm run db:template` and committed; resolved from the
 * sources, also when running compiled.
 */
export const TEMPLATE_FILE = fileURLToPath(new URL('../../src/db/pglite-template.tar.br', import.meta.url));
export const TEMPLATE_MANIFEST = fileURLToPath(new URL('../../src/db/pglite-template.json', import.meta.url));
export type TemplateManifest = { pglite: string; postgres: string; bytes: number };

export function installedPgliteVersion(): string {
  const main = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  return (JSON.parse(readFileSync(join(dirname(main), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

// PGlite's minor version is its PostgreSQL major: a template from another one is not used.
const minor = (v: string) => v.split('.').slice(0, 2).join('.');

/** The template as a tar, or undefined when there is none for the installed PGlite. */
export async function freshClusterTemplate(): Promise<Buffer | undefined> {
  try {
    const manifest = JSON.parse(await readFile(TEMPLATE_MANIFEST, 'utf8')) as TemplateManifest;
    if (minor(manifest.pglite) !== minor(installedPgliteVersion())) return undefined;
    return await promisify(brotliDecompress)(await readFile(TEMPLATE_FILE), { chunkSize: 1 << 22 });
  } catch {
    return undefined;
  }
}

/**
 * Writes the files of a ustar archive (plain files and directories, as `npm run db:template` makes
 * it) into `dir`, with plain file writes: PGlite's own restore (`loadDataDir`) writes through its
 * emulated file system at several times the cost. PG_VERSION, which marks a directory as a cluster,
 * is written last, so an interrupted restore is started again. Names that would leave `dir` are refused.
 */
export function extractTar(tar: Buffer, dir: string): void {
  const root = resolve(dir);
  let marker: (() => void) | undefined;
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const field = (start: number, length: number) => header.subarray(start, start + length).toString('utf8').split('\0')[0] ?? '';
    const prefix = field(345, 155);
    const name = `${prefix ? `${prefix}/` : ''}${field(0, 100)}`;
    const size = parseInt(field(124, 12).trim() || '0', 8);
    const mode = parseInt(field(100, 8).trim() || '600', 8) & 0o777;
    const type = field(156, 1) || '0';
    const target = resolve(root, `.${sep}${name}`);
    if (target !== root && !target.startsWith(root + sep)) throw new Error(`the template names a file outside the data directory: ${name}`);
    at += 512;
    if (type === '5') mkdirSync(target, { recursive: true, mode: mode | 0o700 });
    else if (type === '0') {
      const data = tar.subarray(at, at + size);
      const write = () => writeFileSync(target, data, { mode: mode | 0o600 });
      mkdirSync(dirname(target), { recursive: true });
      if (target === join(root, 'PG_VERSION')) marker = write;
      else write();
    }
    at += Math.ceil(size / 512) * 512;
  }
  marker?.();
}

// In memory, PGlite restores the template itself; on disk it was written beforehand (extractTar).
// The embedded database's modules (PGlite and its driver, several MB resident) load only when one is opened.
async function openPglite(dataDir: string, template: Buffer | undefined): Promise<PGlite> {
  const [{ PGlite }, { pg_trgm }] = await Promise.all([import('@electric-sql/pglite'), import('@electric-sql/pglite/contrib/pg_trgm')]);
  const options: PGliteOptions = { dataDir, extensions: { pg_trgm }, ...(template ? { loadDataDir: new Blob([new Uint8Array(template)]) } : {}) };
  const client = new PGlite(options);
  await client.waitReady;
  observePglite(client);
  return client as PGlite;
}

// Statements on the embedded database, also those of its transactions, pass the observers (./statements.ts).
function observePglite(client: PGlite): void {
  client.query = observedQuery(client.query.bind(client)) as typeof client.query;
  const transaction = client.transaction.bind(client);
  client.transaction = ((fn: (tx: Parameters<Parameters<PGlite['transaction']>[0]>[0]) => Promise<unknown>) =>
    transaction((tx) => {
      tx.query = observedQuery(tx.query.bind(tx)) as typeof tx.query;
      return fn(tx);
    })) as typeof client.transaction;
}

// What a failed restore left in a directory that was empty of data before: all but the lock.
function clearDataDir(dir: string): void {
  for (const entry of readdirSync(dir)) if (entry !== LOCK_FILE) rmSync(join(dir, entry), { recursive: true, force: true });
}

export async function createDatabase(opts: DatabaseOptions): Promise<Database> {
  const stats: QueryStats = { statements: 0, connectionErrors: 0 };
  // Counting statements lets tests and the benchmark prove that nested fields are batched.
  const logger = { logQuery: () => void stats.statements++ };

  if (opts.url) {
    const onError = (err: Error) => {
      stats.connectionErrors++;
      opts.onConnectionError?.(err);
    };
    // Terminated server connections cost the statements that ran on them (answered 503), never the
    // process or a pooled connection (see ./pool.ts).
    const open = (url: string, max: number) =>
      new ResilientPool(
        {
          connectionString: url,
          max,
          // A request waits this long for a connection, then answers 503 rather than hanging while the server is away.
          connectionTimeoutMillis: opts.connectTimeoutMs ?? 5000,
          // A runaway statement is cancelled by the server (answered 503) instead of holding a connection.
          ...(opts.statementTimeoutMs ? { statement_timeout: opts.statementTimeoutMs } : {}),
        },
        onError,
        opts.preparedStatements ?? true,
      );
    const pool = open(opts.url, opts.poolSize ?? 10);
    // Session advisory locks and the job queue need one server session for a while: a pooler in
    // transaction mode would hand each statement to any server connection.
    const direct = opts.directUrl ? open(opts.directUrl, 4) : pool;
    const readPool = opts.readUrl ? open(opts.readUrl, opts.poolSize ?? 10) : undefined;
    const db = drizzlePg(pool, { schema, logger }) as unknown as Db;
    const directDb = direct === pool ? undefined : (drizzlePg(direct, { schema, logger }) as unknown as Db);
    const reader = readPool ? createReplicaReader(db, drizzlePg(readPool, { schema, logger }) as unknown as Db, opts.readMaxLagMs ?? 5000) : undefined;
    await reader?.start();
    return {
      db,
      kind: 'postgres',
      stats,
      ...(directDb ? { directDb } : {}),
      ...(reader ? { readDb: reader.db } : {}),
      poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
      async withLock(key, fn) {
        const client = await direct.connect();
        try {
          await client.query('SELECT pg_advisory_lock($1)', [key]);
          try {
            return await fn(drizzlePg(client, { schema }) as unknown as Db);
          } finally {
            await client.query('SELECT pg_advisory_unlock($1)', [key]);
          }
        } finally {
          client.release();
        }
      },
      async ping() {
        await pool.query('SELECT 1');
      },
      async close() {
        reader?.stop();
        await Promise.all([pool.end(), direct === pool ? undefined : direct.end(), readPool?.end()]);
      },
    };
  }

  const dir = opts.dataDir ?? './data';
  const inMemory = dir.startsWith('memory://');
  let release = () => undefined as void;
  if (!inMemory) {
    mkdirSync(dir, { recursive: true });
    release = lockDataDir(dir);
  }
  let client: PGlite;
  try {
    const template = inMemory || !existsSync(join(dir, 'PG_VERSION')) ? await freshClusterTemplate() : undefined;
    try {
      if (template && !inMemory) extractTar(template, dir);
      client = await openPglite(inMemory ? 'memory://' : dir, inMemory ? template : undefined);
    } catch (err) {
      if (!template) throw err;
      // A template this PGlite cannot start from: make the cluster the slow way, from nothing.
      process.emitWarning(`the embedded database template could not be used (${(err as Error).message}); run npm run db:template`);
      if (!inMemory) clearDataDir(dir);
      client = await openPglite(inMemory ? 'memory://' : dir, undefined);
    }
  } catch (err) {
    release();
    throw err;
  }
  const { drizzle: drizzlePglite } = await import('drizzle-orm/pglite');
  const db = drizzlePglite(client, { schema, logger }) as unknown as Db;
  let closed = false;
  return {
    db,
    kind: 'embedded',
    ...(inMemory ? {} : { dataDir: dir }),
    stats,
    poolStats: () => ({ total: closed ? 0 : 1, idle: closed ? 0 : 1, waiting: 0 }),
    // The embedded database is one connection in one process: nothing else can race the lock.
    async withLock(_key, fn) {
      return fn(db);
    },
    async ping() {
      if (closed) throw new Error('database closed');
      await client.query('SELECT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      try {
        await client.close();
      } finally {
        release();
      }
    },
  };
}

// Raw SQL for the few statements the query builder cannot say; both drivers answer with `rows`.
export async function queryRows<T>(ex: Executor, q: SQL): Promise<T[]> {
  const res = (await ex.execute(q)) as unknown as { rows: T[] };
  return res.rows;
}

type RawSession = {
  dialect: { sqlToQuery: (q: SQL) => { sql: string; params: unknown[] } };
  prepareQuery: (q: { sql: string; params: unknown[] }, fields: undefined, name: string | undefined, arrayMode: boolean) => { execute: () => Promise<unknown> };
};
const statementNames = new Map<string, string>();

/**
 * Raw SQL as a named (server-side) prepared statement: a connection parses and plans a statement of
 * this text once, later executions only bind their values. For a hot statement the query builder
 * cannot say (a data-modifying WITH). The name follows from the text, so two texts never share one;
 * with DB_PREPARED_STATEMENTS=false the pool sends it unnamed, like every other statement.
 */
export async function queryRowsNamed<T>(ex: Executor, prefix: string, q: SQL): Promise<T[]> {
  const session = (ex as unknown as { session: RawSession }).session;
  const query = session.dialect.sqlToQuery(q);
  let name = statementNames.get(query.sql);
  if (!name) {
    name = `${prefix}_${statementNames.size + 1}`;
    statementNames.set(query.sql, name);
  }
  const res = (await session.prepareQuery(query, undefined, name, false).execute()) as { rows: T[] } | T[];
  return Array.isArray(res) ? res : res.rows;
}
