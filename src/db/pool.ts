import pg from 'pg';
import { isConnectionError } from '../lib/errors.js';
import { observedQuery } from './statements.js';

type Release = (err?: Error | boolean) => void;
type Guarded = pg.PoolClient & { keelGuarded?: true };

/**
 * A pg pool that survives its server connections being terminated (failover, restart,
 * pg_terminate_backend) without losing connections or the process:
 *
 * - pg emits 'error' on an idle client through the pool and on a checked-out client on the client
 *   itself; an 'error' event without a listener ends the process, so both are listened to.
 * - drizzle's `transaction()` takes a client with `connect()` and releases it in a `finally` that
 *   only covers what follows `BEGIN`: a `BEGIN` that fails on a dead connection leaves the client
 *   checked out for ever, and a few of those exhaust the pool (every later request then waits for
 *   a connection until it times out). So a client handed out by `connect()` is released, as broken,
 *   by the first statement that fails on a lost connection; the release the caller makes later is
 *   then a no-op instead of pg-pool's "release called twice" error.
 */
export class ResilientPool extends pg.Pool {
  constructor(
    config: pg.PoolConfig,
    onConnectionError: (err: Error) => void,
    // false: every statement is sent unnamed, on every client the pool opens (see unnamed() below).
    namedStatements = true,
  ) {
    super(config);
    this.on('error', onConnectionError);
    this.on('connect', (client) => {
      client.on('error', onConnectionError);
      // Every statement of the pool (its own query(), checked-out clients, transactions) passes here.
      client.query = observedQuery(client.query.bind(client)) as typeof client.query;
      if (!namedStatements) withoutNames(client);
    });
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: (err: Error | undefined, client: pg.PoolClient | undefined, done: Release) => void): void;
  override connect(callback?: (err: Error | undefined, client: pg.PoolClient | undefined, done: Release) => void): Promise<pg.PoolClient> | void {
    // pg-pool's own `query()` takes clients through the callback form and releases them itself.
    if (callback) return super.connect(callback);
    return super.connect().then((client) => guard(client as Guarded));
  }
}

function guard(client: Guarded): pg.PoolClient {
  const release = client.release as Release;
  let released = false;
  client.release = ((err?: Error | boolean) => {
    if (released) return;
    released = true;
    release(err);
  }) as typeof client.release;
  if (!client.keelGuarded) {
    client.keelGuarded = true;
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    client.query = ((...args: unknown[]) => {
      const result = query(...args);
      if (!(result instanceof Promise)) return result;
      return result.catch((err: unknown) => {
        if (isConnectionError(err)) client.release(err as Error);
        throw err;
      });
    }) as typeof client.query;
  }
  return client;
}

/**
 * A named statement is parsed once per server connection and reused by name; behind a pooler in
 * transaction mode (PgBouncer before 1.21) the next transaction may run on a server connection that
 * never saw the name ("prepared statement does not exist") or already has it ("already exists").
 * Without its name a statement is parsed on each use (the unnamed statement), which every pooler
 * passes through; the query objects built once by the repositories are still reused.
 */
function unnamed(args: unknown[]): unknown[] {
  const first = args[0];
  if (first && typeof first === 'object' && 'name' in first && (first as { name?: unknown }).name) {
    return [{ ...(first as object), name: undefined }, ...args.slice(1)];
  }
  return args;
}

function withoutNames(client: pg.PoolClient & { keelUnnamed?: true }): void {
  if (client.keelUnnamed) return;
  client.keelUnnamed = true;
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((...args: unknown[]) => query(...unnamed(args))) as typeof client.query;
}
