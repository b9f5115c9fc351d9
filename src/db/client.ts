import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import type { ExtractTablesWithRelations, SQL } from 'drizzle-orm';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import type { PgDatabase, PgQueryResultHKT, PgTransaction } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import pg from 'pg';
import { DataDirBusyError, lockDataDir, snapshotDataDir } from './embedded-lock.js';
import * as schema from './schema/index.js';

export type Schema = typeof schema;
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = PgTransaction<PgQueryResultHKT, Schema, ExtractTablesWithRelations<Schema>>;
export type Executor = Db | Tx;

export type QueryStats = { statements: number };

export type Database = {
  db: Db;
  kind: 'postgres' | 'embedded';
  // True when this is a private copy of an embedded directory another process holds.
  snapshot?: boolean;
  stats: QueryStats;
  // Runs fn on one session holding a PostgreSQL advisory lock (several instances may start at once).
  withLock<T>(key: number, fn: (db: Db) => Promise<T>): Promise<T>;
  ping(): Promise<void>;
  close(): Promise<void>;
};

// `snapshotIfBusy`: when another process holds the embedded directory, open a private copy of it
// instead of failing (read-only uses such as minting a token while the server runs).
export type DatabaseOptions = { url?: string | undefined; dataDir?: string; poolSize?: number; snapshotIfBusy?: boolean };

export async function createDatabase(opts: DatabaseOptions): Promise<Database> {
  const stats: QueryStats = { statements: 0 };
  // Counting statements lets tests and the benchmark prove that nested fields are batched.
  const logger = { logQuery: () => void stats.statements++ };

  if (opts.url) {
    const pool = new pg.Pool({ connectionString: opts.url, max: opts.poolSize ?? 10 });
    // An idle client that loses its server must not crash the process.
    pool.on('error', () => undefined);
    const db = drizzlePg(pool, { schema, logger }) as unknown as Db;
    return {
      db,
      kind: 'postgres',
      stats,
      async withLock(key, fn) {
        const client = await pool.connect();
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
        await pool.end();
      },
    };
  }

  let dir = opts.dataDir ?? './data';
  const inMemory = dir.startsWith('memory://');
  let release = () => undefined as void;
  let snapshot = false;
  if (!inMemory) {
    mkdirSync(dir, { recursive: true });
    try {
      release = lockDataDir(dir);
    } catch (err) {
      if (!(err instanceof DataDirBusyError) || !opts.snapshotIfBusy) throw err;
      const copy = snapshotDataDir(dir);
      dir = copy.dir;
      release = copy.discard;
      snapshot = true;
    }
  }
  let client: PGlite;
  try {
    client = new PGlite({ dataDir: inMemory ? 'memory://' : dir, extensions: { pg_trgm } });
    await client.waitReady;
  } catch (err) {
    release();
    throw err;
  }
  const db = drizzlePglite(client, { schema, logger }) as unknown as Db;
  let closed = false;
  return {
    db,
    kind: 'embedded',
    snapshot,
    stats,
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
