import type { PGlite } from '@electric-sql/pglite';
import { type SQL, sql } from 'drizzle-orm';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type pg from 'pg';
import PgBoss from 'pg-boss';
import { type Database, type Executor, queryRows } from '../db/client.js';
import { escalateHandoff, escalateOverdue } from '../modules/lifecycle/escalation.js';

export const ESCALATION_QUEUE = 'handoff-escalation';
export const SWEEP_QUEUE = 'handoff-escalation-sweep';
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
  const client = (database.db as unknown as { $client: unknown }).$client;
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

// The PostgreSQL-backed job queue: one escalation job per handoff at its deadline, and a periodic
// sweep that escalates anything overdue a lost job left behind. Every instance runs workers; the
// escalation itself is idempotent, so a job run twice still escalates once.
export const jobsPlugin = fp(
  async (app: FastifyInstance) => {
    const cfg = app.config.jobs;
    if (!cfg.enabled) return;
    const database = app.database;
    const boss = new PgBoss({
      db: bossDb(database),
      schema: BOSS_SCHEMA,
      migrate: true,
      supervise: true,
      schedule: true,
    });
    boss.on('error', (err: unknown) => app.log.error({ err }, 'job queue error'));
    let started = false;

    app.addHook('onReady', async () => {
      // An app built on a database without the application's tables (e.g. to render the API
      // document) has nothing to escalate: the queue stays off.
      const [ready] = await queryRows<{ ok: boolean }>(database.db, sql`SELECT to_regclass('public.handoffs') IS NOT NULL AS ok`);
      if (!ready?.ok) {
        app.log.warn('the database is not migrated; background jobs are off');
        return;
      }
      // pg-boss creates its schema without serialising concurrent starters either (CREATE SCHEMA
      // races on pg_namespace's unique index), so starting is done in turns as well.
      await database.withLock(JOBS_LOCK_KEY, () => boss.start());
      started = true;
      // pg-boss creates queues without serialising concurrent creators (two instances starting
      // together deadlock), so instances take turns, and only a missing queue is created.
      await database.withLock(JOBS_LOCK_KEY, async () => {
        // `short`: at most one waiting job per singleton key, so a handoff never has two.
        if (!(await boss.getQueue(ESCALATION_QUEUE))) await boss.createQueue(ESCALATION_QUEUE, { name: ESCALATION_QUEUE, policy: 'short', retryLimit: 5, retryDelay: 5 });
        if (!(await boss.getQueue(SWEEP_QUEUE))) await boss.createQueue(SWEEP_QUEUE, { name: SWEEP_QUEUE, policy: 'short', retryLimit: 1 });
        await boss.schedule(SWEEP_QUEUE, cfg.sweepCron);
      });
      await boss.work<{ handoffId: string }>(ESCALATION_QUEUE, { pollingIntervalSeconds: cfg.pollSeconds, batchSize: 5 }, async (jobs) => {
        for (const job of jobs) await escalateHandoff(database, job.data.handoffId);
      });
      await boss.work(SWEEP_QUEUE, { pollingIntervalSeconds: cfg.pollSeconds }, async () => {
        const n = await escalateOverdue(database);
        if (n > 0) app.log.info({ escalated: n }, 'overdue handoffs escalated by the sweep');
      });
      // Whatever fell due while no instance ran is caught at once, not at the next scheduled sweep.
      await boss.send(SWEEP_QUEUE, {}, { singletonKey: 'start' });
      app.services.lifecycle.useScheduler(async (tx, h) => {
        await boss.send(ESCALATION_QUEUE, { handoffId: h.id }, { startAfter: h.dueAt, singletonKey: h.id, db: transactionDb(tx) });
      });
    });

    // Before the database closes: stop taking jobs and let the running ones finish.
    app.addHook('preClose', async () => {
      app.services.lifecycle.useScheduler(null);
      if (started) await boss.stop({ graceful: true, wait: true, timeout: 10_000 });
    });
  },
  { name: 'keel-jobs' },
);
