import type { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type PgBoss from 'pg-boss';
import type { Database, Executor } from '../db/client.js';
import { isMigrated } from '../db/migrate.js';

export const ESCALATION_QUEUE = 'handoff-escalation';
export const SWEEP_QUEUE = 'handoff-escalation-sweep';
export const EVENTS_PRUNE_QUEUE = 'events-prune';
export const CLAIM_EXPIRY_QUEUE = 'claim-expiry';
// The full recomputation of customer value (scores, classes, churn risk): on a schedule and on demand.
export const VALUE_QUEUE = 'value-recompute';
// pg-boss keeps its tables in a schema of its own, next to the application's.
const BOSS_SCHEMA = 'pgboss';
// Session advisory lock under which instances set up the queues (apart from the migrations' key).
const JOBS_LOCK_KEY = 7_240_101;

type Rows = { rows: unknown[] };
type Values = unknown[] | undefined;

// drizzle turns a plain array into a list of parameters; pg-boss means one value, and null for undefined.
function statement(text: string, values: Values): SQL {
  const parts = text.split(/\$(\d+)/);
  const chunks: SQL[] = [];
  parts.forEach((part, i) => {
    if (i % 2 === 0) chunks.push(sql.raw(part));
    else chunks.push(sql`${sql.param(values?.[Number(part) - 1] ?? null)}`);
  });
  return sql.join(chunks, sql``);
}

/** pg-boss statements inside an application transaction: a job is queued only if the transaction commits. */
export function transactionDb(tx: Executor): PgBoss.Db {
  return { executeSql: async (text: string, values: Values) => (await tx.execute(statement(text, values))) as unknown as Rows };
}

/**
 * pg-boss on the application's own connection: the pg pool, or the one embedded PGlite connection.
 * PGlite's `query` takes one statement with parameters; pg-boss sends its schema scripts (several
 * statements, no parameters) in one call, which only `exec` accepts: the last result is the answer.
 */
export function bossDb(database: Database): PgBoss.Db {
  // Behind a pooler the queue runs on the direct connection (DATABASE_DIRECT_URL).
  const client = ((database.directDb ?? database.db) as unknown as { $client: unknown }).$client;
  if (database.kind === 'postgres') {
    const pool = client as pg.Pool;
    return { executeSql: async (text: string, values: Values) => pool.query(text, values?.map((v) => v ?? null)) };
  }
  const lite = client as PGlite;
  return {
    executeSql: async (text: string, values: Values) => {
      if (values && values.length > 0) return lite.query(text, values.map((v) => v ?? null));
      const results = await lite.exec(text);
      return results[results.length - 1] ?? { rows: [] };
    },
  };
}

export type JobsConfig = { enabled: boolean; pollSeconds: number; sweepCron: string; eventsPruneCron?: string; valueCron?: string | undefined };
export type JobHandlers = {
  escalate: (handoffId: string) => Promise<boolean>;
  escalateOverdue: () => Promise<number>;
  // Claims: one approved claim at the end of its protection, and every ended one (in the sweep).
  expireClaim?: (claimId: string) => Promise<number>;
  expireClaims?: () => Promise<number>;
  // Events older than the retention leave the feed.
  pruneEvents?: () => Promise<number>;
  recomputeValues?: (cause: 'SCHEDULE' | 'MODEL') => Promise<unknown>;
};

/**
 * The PostgreSQL-backed job queue: one escalation job per handoff at its deadline, and a periodic
 * sweep that escalates anything overdue a lost job left behind. Every instance runs workers; the
 * escalation itself is idempotent, so a job run twice still escalates once. Built before the
 * services (the lifecycle service schedules through `scheduleEscalation`), started once they exist.
 */
export function createJobQueue(database: Database, cfg: JobsConfig, log: FastifyBaseLogger) {
  // pg-boss is loaded when the queue starts: a process with the queue off never loads it.
  let boss: PgBoss | null = null;
  // `running`: the queue is started (stop must stop it); `ready`: its queues and workers are set up.
  let running = false;
  let ready = false;

  return {
    /** Queues a handoff's deadline inside the transaction that creates the handoff (nothing while the queue is off). */
    async scheduleEscalation(tx: Executor, h: { id: string; dueAt: Date }): Promise<void> {
      if (!boss || !ready) return;
      await boss.send(ESCALATION_QUEUE, { handoffId: h.id }, { startAfter: h.dueAt, singletonKey: h.id, db: transactionDb(tx) });
    },

    /** Queues the end of an approved claim's protection inside the transaction that approves it. */
    async scheduleClaimExpiry(tx: Executor, c: { id: string; at: Date }): Promise<void> {
      if (!boss || !ready) return;
      await boss.send(CLAIM_EXPIRY_QUEUE, { claimId: c.id }, { startAfter: c.at, singletonKey: c.id, db: transactionDb(tx) });
    },

    /** Queues a full value recomputation now (one waiting at most); false when the queue is off, so the caller runs it itself. */
    async scheduleValueRecompute(cause: string): Promise<boolean> {
      if (!boss || !ready) return false;
      await boss.send(VALUE_QUEUE, { cause }, { singletonKey: 'value-recompute' });
      return true;
    },

    async start(handlers: JobHandlers): Promise<void> {
      if (!cfg.enabled) return;
      if (!(await isMigrated(database))) {
        log.warn('the database is not migrated; background jobs are off');
        return;
      }
      if (!boss) {
        const { default: Boss } = await import('pg-boss');
        boss = new Boss({ db: bossDb(database), schema: BOSS_SCHEMA, migrate: true, supervise: true, schedule: true });
        boss.on('error', (err: unknown) => log.error({ err }, 'job queue error'));
      }
      const b = boss;
      // pg-boss creates its schema without serialising concurrent starters either (CREATE SCHEMA
      // races on pg_namespace's unique index), so starting is done in turns as well.
      await database.withLock(JOBS_LOCK_KEY, () => b.start());
      running = true;
      // pg-boss creates queues without serialising concurrent creators (two instances starting
      // together deadlock), so instances take turns, and only a missing queue is created.
      await database.withLock(JOBS_LOCK_KEY, async () => {
        // `short`: at most one waiting job per singleton key, so a handoff never has two.
        if (!(await b.getQueue(ESCALATION_QUEUE))) await b.createQueue(ESCALATION_QUEUE, { name: ESCALATION_QUEUE, policy: 'short', retryLimit: 5, retryDelay: 5 });
        if (!(await b.getQueue(SWEEP_QUEUE))) await b.createQueue(SWEEP_QUEUE, { name: SWEEP_QUEUE, policy: 'short', retryLimit: 1 });
        if (!(await b.getQueue(CLAIM_EXPIRY_QUEUE))) await b.createQueue(CLAIM_EXPIRY_QUEUE, { name: CLAIM_EXPIRY_QUEUE, policy: 'short', retryLimit: 5, retryDelay: 5 });
        await b.schedule(SWEEP_QUEUE, cfg.sweepCron);
        if (handlers.pruneEvents) {
          if (!(await b.getQueue(EVENTS_PRUNE_QUEUE))) await b.createQueue(EVENTS_PRUNE_QUEUE, { name: EVENTS_PRUNE_QUEUE, policy: 'short', retryLimit: 1 });
          await b.schedule(EVENTS_PRUNE_QUEUE, cfg.eventsPruneCron ?? '17 * * * *');
        }
        // `singleton`: one recomputation at a time across instances; a scheduled tick while one waits adds nothing.
        if (handlers.recomputeValues) {
          if (!(await b.getQueue(VALUE_QUEUE))) await b.createQueue(VALUE_QUEUE, { name: VALUE_QUEUE, policy: 'singleton', retryLimit: 2, retryDelay: 60 });
          await b.schedule(VALUE_QUEUE, cfg.valueCron ?? '15 2 * * *', { cause: 'SCHEDULE' });
        }
      });
      const prune = handlers.pruneEvents;
      if (prune) {
        // Events older than the retention leave the feed (docs/events-and-webhooks.md).
        await b.work(EVENTS_PRUNE_QUEUE, { pollingIntervalSeconds: cfg.pollSeconds }, async () => {
          const n = await prune();
          if (n > 0) log.info({ pruned: n }, 'events older than the retention pruned');
        });
      }
      await b.work<{ handoffId: string }>(ESCALATION_QUEUE, { pollingIntervalSeconds: cfg.pollSeconds, batchSize: 5 }, async (jobs) => {
        for (const job of jobs) await handlers.escalate(job.data.handoffId);
      });
      await b.work<{ claimId: string }>(CLAIM_EXPIRY_QUEUE, { pollingIntervalSeconds: cfg.pollSeconds, batchSize: 5 }, async (jobs) => {
        for (const job of jobs) await handlers.expireClaim?.(job.data.claimId);
      });
      await b.work(SWEEP_QUEUE, { pollingIntervalSeconds: cfg.pollSeconds }, async () => {
        const n = await handlers.escalateOverdue();
        if (n > 0) log.info({ escalated: n }, 'overdue handoffs escalated by the sweep');
        const expired = (await handlers.expireClaims?.()) ?? 0;
        if (expired > 0) log.info({ expired }, 'ended claim protections expired by the sweep');
      });
      const recomputeValues = handlers.recomputeValues;
      if (recomputeValues) {
        await b.work<{ cause?: string }>(VALUE_QUEUE, { pollingIntervalSeconds: cfg.pollSeconds }, async (jobs) => {
          for (const job of jobs) await recomputeValues(job.data.cause === 'MODEL' ? 'MODEL' : 'SCHEDULE');
        });
      }
      // Whatever fell due while no instance ran is caught at once, not at the next scheduled sweep.
      await b.send(SWEEP_QUEUE, {}, { singletonKey: 'start' });
      ready = true;
    },

    /** Jobs waiting per queue (created or due for retry), for the metrics; empty while the queue is off. */
    async depth(): Promise<Record<string, number>> {
      if (!boss || !ready) return {};
      const out: Record<string, number> = {};
      for (const q of [ESCALATION_QUEUE, SWEEP_QUEUE]) out[q] = await boss.getQueueSize(q);
      return out;
    },

    /** Before the database closes: stop taking jobs and let the running ones finish. */
    async stop(): Promise<void> {
      ready = false;
      if (!boss || !running) return;
      running = false;
      await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    },
  };
}

export type JobQueue = ReturnType<typeof createJobQueue>;
