import { StringDecoder } from 'node:string_decoder';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { Database, Executor } from '../db/client.js';
import { AppError, type FieldError, fromDatabaseError } from './errors.js';

// The envelope of bulk loads (api.md §2 Integration: POST /v1/bulk/<resource>), shared by every resource:
// the NDJSON body parser, the options, per-row results and the atomic / chunked transactions. What a row
// means is the caller's: `run` writes one row inside the transaction it is given.

export const BULK_MAX_ROWS = 10_000;
// Rows per batch: the set-based pass reads a batch in one statement per table, and when the load is not
// atomic each batch is one transaction (a failure rolls back only its own row, a savepoint), so locks and the
// write-ahead log of one transaction stay bounded and parsed rows are dropped batch by batch.
export const BATCH_ROWS = 500;

export const BULK_STATUSES = ['CREATED', 'UPDATED', 'UNCHANGED', 'FAILED'] as const;
export type BulkStatus = (typeof BULK_STATUSES)[number];
export type RowError = { code: string; status: number; detail: string; errors?: FieldError[] };
export type RowResult = { index: number; externalId: string | null; id: string | null; status: BulkStatus; error?: RowError };
export type BulkAnswer = { summary: { created: number; updated: number; unchanged: number; failed: number }; results: RowResult[] };

export const rowErrorSchema = z
  .object({ code: z.string(), status: z.number().int(), detail: z.string(), errors: z.array(z.object({ path: z.string(), message: z.string() })).optional() })
  .meta({ id: 'BulkRowError' });
export const bulkAnswerSchema = z
  .object({
    summary: z.object({ created: z.number().int(), updated: z.number().int(), unchanged: z.number().int(), failed: z.number().int() }),
    results: z.array(
      z.object({ index: z.number().int(), externalId: z.string().nullable(), id: z.uuid().nullable(), status: z.enum(BULK_STATUSES), error: rowErrorSchema.optional() }),
    ),
  })
  .meta({ id: 'BulkResult' });

/** A line of an NDJSON body that is not JSON: its row fails, the others are loaded. */
export class UnparsableRow {
  constructor(readonly message: string) {}
}

/**
 * `application/x-ndjson`: one JSON row per line, read from the request stream as it arrives (the body never
 * becomes one string, and rows are handed on one by one so a load processes them batch by batch). More than
 * `BULK_MAX_ROWS` rows, or more than `maxBytes` in all, throws when that row or byte arrives; the rest of the
 * body is then drained unread.
 */
export async function* ndjsonRows(stream: Readable, maxBytes: number): AsyncGenerator<unknown> {
  const decoder = new StringDecoder('utf8');
  let bytes = 0;
  let count = 0;
  let rest = '';
  function* lines(text: string, final: boolean): Generator<unknown> {
    let from = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
      yield* one(text.slice(from, nl));
      from = nl + 1;
    }
    rest = text.slice(from);
    if (final && rest !== '') {
      const last = rest;
      rest = '';
      yield* one(last);
    }
  }
  function* one(line: string): Generator<unknown> {
    if (line.trim() === '') return;
    if (++count > BULK_MAX_ROWS) throw new AppError('VALIDATION_FAILED', `at most ${BULK_MAX_ROWS} rows per request`, { errors: [{ path: 'rows', message: `at most ${BULK_MAX_ROWS} rows` }] });
    try {
      yield JSON.parse(line) as unknown;
    } catch {
      yield new UnparsableRow('not a JSON object');
    }
  }
  // Not destroyed on an early return: the answer still goes out on the request's socket.
  const chunks = stream.iterator({ destroyOnReturn: false });
  try {
    for await (const chunk of chunks) {
      const buf = chunk as Buffer;
      bytes += buf.length;
      if (bytes > maxBytes) throw new AppError('PAYLOAD_TOO_LARGE', `the body is larger than ${maxBytes} bytes`);
      yield* lines(rest + decoder.write(buf), false);
    }
    yield* lines(rest + decoder.end(), true);
  } catch (err) {
    stream.resume();
    if (err instanceof AppError) throw err;
    throw new AppError('VALIDATION_FAILED', `the body could not be read: ${(err as Error).message}`);
  } finally {
    stream.resume();
  }
}

/** The whole NDJSON body as rows (a request whose answer is stored under an Idempotency-Key hashes them). */
export async function parseNdjson(stream: Readable, maxBytes: number): Promise<{ rows: unknown[] }> {
  const rows: unknown[] = [];
  for await (const row of ndjsonRows(stream, maxBytes)) rows.push(row);
  return { rows };
}

export type BulkOptions = { atomic: boolean };
export type RowOutcome = { id: string; status: Exclude<BulkStatus, 'FAILED'> };

function rowError(err: unknown): RowError {
  const app = err instanceof AppError ? err : fromDatabaseError(err);
  if (!app) throw err;
  return { code: app.code, status: app.status, detail: app.message, ...(app.errors ? { errors: app.errors } : {}) };
}

export type RowSource = Iterable<unknown> | AsyncIterable<unknown>;
export type BatchRow = { index: number; row: unknown };
export type BulkRunner = {
  /**
   * The set-based pass over a batch, before its rows run: the rows it answers (by index) are not run one by
   * one (e.g. rows that change nothing, found with one read for the whole batch).
   */
  prepare?: (tx: Executor, batch: readonly BatchRow[]) => Promise<Map<number, RowOutcome>>;
  /** One row, in a savepoint of the batch's transaction. */
  run: (tx: Executor, row: unknown, index: number) => Promise<RowOutcome>;
  externalIdOf: (row: unknown) => string | null;
  /** Sees each failed row's error after its transaction ended (to audit what a refusal revealed). */
  afterFailure?: (err: unknown) => Promise<void>;
};

async function* batchesOf(source: RowSource, size: number): AsyncGenerator<BatchRow[]> {
  let batch: BatchRow[] = [];
  let index = 0;
  for await (const row of source as AsyncIterable<unknown>) {
    batch.push({ index: index++, row });
    if (batch.length === size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/**
 * Runs every row, batch by batch as the rows arrive (a batch's parsed rows are dropped once it ran): first the
 * runner's set-based pass over the batch, then each remaining row in a savepoint, so a failed row leaves no
 * trace and the others stand. Not atomic: one transaction per batch. Atomic: one transaction for all rows; any
 * failed row rolls everything back and the answer is 422 `BULK_ROWS_FAILED` carrying every row's result.
 * A source that fails midway (an NDJSON body over the limits) refuses the request; rows of batches committed
 * before (not atomic) stay, and the refusal lists their results.
 */
export async function runBulk(database: Database, source: RowSource, opts: BulkOptions, runner: BulkRunner): Promise<BulkAnswer> {
  const results: RowResult[] = [];
  const failures: unknown[] = [];
  const runBatch = async (tx: Executor, batch: readonly BatchRow[]) => {
    const decided = runner.prepare ? await runner.prepare(tx, batch) : new Map<number, RowOutcome>();
    for (const { index, row } of batch) {
      const externalId = runner.externalIdOf(row);
      const known = decided.get(index);
      if (known) {
        results.push({ index, externalId, id: known.id, status: known.status });
        continue;
      }
      try {
        const out = await tx.transaction((sp) => runner.run(sp, row, index));
        results.push({ index, externalId, id: out.id, status: out.status });
      } catch (err) {
        failures.push(err);
        results.push({ index, externalId, id: null, status: 'FAILED', error: rowError(err) });
      }
    }
  };
  const rollback = new Error('atomic bulk load with failed rows');
  try {
    if (opts.atomic) {
      await database.db.transaction(async (tx) => {
        for await (const batch of batchesOf(source, BATCH_ROWS)) await runBatch(tx, batch);
        if (failures.length > 0) throw rollback;
      });
    } else {
      for await (const batch of batchesOf(source, BATCH_ROWS)) await database.db.transaction((tx) => runBatch(tx, batch));
    }
  } catch (err) {
    if (err === rollback) {
      // handled below
    } else if (err instanceof AppError && !opts.atomic && results.length > 0) {
      const done = summarise(results);
      throw new AppError(err.code, `${err.message}; the first ${results.length} rows were loaded`, { ...(err.errors ? { errors: err.errors } : {}), extra: { ...done } });
    } else {
      throw err;
    }
  }
  if (runner.afterFailure) for (const f of failures) await runner.afterFailure(f);
  const answer = summarise(results);
  if (opts.atomic && failures.length > 0) {
    // Nothing was written: the rows that would have succeeded say so no longer.
    const unwritten = answer.results.map((r) => (r.status === 'FAILED' ? r : { ...r, id: null }));
    throw new AppError('BULK_ROWS_FAILED', `${failures.length} of ${results.length} rows failed; nothing was written`, {
      extra: { summary: { ...answer.summary, created: 0, updated: 0, unchanged: 0 }, results: unwritten },
    });
  }
  return answer;
}

function summarise(results: RowResult[]): BulkAnswer {
  const summary = { created: 0, updated: 0, unchanged: 0, failed: 0 };
  for (const r of results) summary[r.status.toLowerCase() as keyof typeof summary]++;
  return { summary, results };
}
