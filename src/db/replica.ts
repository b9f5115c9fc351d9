import { type SQL, sql } from 'drizzle-orm';

// Any drizzle database (kept generic so that this file does not import ./client.ts, which imports it).
type Executes = { execute(query: SQL): PromiseLike<unknown> };

// How often the replica's lag is measured; reads may be this much staler than the bound.
export const REPLICA_CHECK_MS = 1000;

/**
 * Reads that may be a little stale (reports) on a read replica, within a bound: every second the
 * replica says how far its replay is behind what it has received; while that stays within
 * `maxLagMs` the reads go to the replica, otherwise (lagging, unreachable, not yet measured) to the
 * primary. A caught-up replica counts as 0 however long ago the primary last wrote. A reader is
 * thus at most `maxLagMs + REPLICA_CHECK_MS` behind the primary, or reads the primary itself.
 */
export function createReplicaReader<Db extends Executes>(primary: Db, replica: Db, maxLagMs: number, onChange?: (onReplica: boolean, lagMs: number | null) => void) {
  let fresh = false;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const measure = async (): Promise<number | null> => {
    try {
      const res = (await replica.execute(sql`SELECT CASE
          WHEN NOT pg_is_in_recovery() THEN 0
          WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
          ELSE COALESCE(EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp()) * 1000, 0)
        END::float8 AS lag_ms`)) as unknown as { rows: { lag_ms: number }[] };
      return Number(res.rows[0]?.lag_ms ?? Number.POSITIVE_INFINITY);
    } catch {
      return null;
    }
  };
  const tick = async () => {
    const lag = await measure();
    const next = lag !== null && lag <= maxLagMs;
    if (next !== fresh) onChange?.(next, lag);
    fresh = next;
    if (!stopped) timer = setTimeout(() => void tick(), REPLICA_CHECK_MS).unref();
  };
  // The Db the reports use: each call goes to the replica while it is fresh, to the primary otherwise.
  const db = new Proxy({} as Db, {
    get(_target, key) {
      const target = fresh ? replica : primary;
      const value = Reflect.get(target, key, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
  return {
    db,
    /** Measures once (so the first reports already use a fresh replica), then every second. */
    async start(): Promise<void> {
      await tick();
    },
    onReplica: () => fresh,
    stop(): void {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
