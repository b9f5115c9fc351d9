import pg from 'pg';
import { isConnectionError } from '../lib/errors.js';

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
  ) {
    super(config);
    this.on('error', onConnectionError);
    this.on('connect', (client) => client.on('error', onConnectionError));
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
