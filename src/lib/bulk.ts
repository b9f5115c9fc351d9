import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import type { Database, Executor } from '../db/client.js';
import { AppError, type FieldError, fromDatabaseError } from './errors.js';

// The envelope of bulk loads (api.md §2 Integration: POST /v1/bulk/<resource>), shared by every resource:
// the NDJSON body parser, the options, per-row results and the atomic / chunked transactions. What a row
// means is the caller's: `run` writes one row inside the transaction it is given.

export const BULK_MAX_ROWS = 10_000;
// Rows per transaction when the load is not atomic: a failure rolls back only its own row (a savepoint),
// and a commit every chunk keeps locks and the write-ahead log of one transaction bounded.
const CHUNK_ROWS = 500;

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
 * `application/x-ndjson`: one JSON row per line, read line by line from the request stream (the body never
 * becomes one string). More than `BULK_MAX_ROWS` rows, or more than `maxBytes` in all, refuses the request.
 */
export function parseNdjson(stream: Readable, maxBytes: number): Promise<{ rows: unknown[] }> {
  return new Promise((resolve, reject) => {
    const rows: unknown[] = [];
    let bytes = 0;
    let failed = false;
    const fail = (err: AppError) => {
      if (failed) return;
      failed = true;
      lines.close();
      stream.resume();
      reject(err);
    };
    stream.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > maxBytes) fail(new AppError('PAYLOAD_TOO_LARGE', `the body is larger than ${maxBytes} bytes`));
    });
    stream.on('error', (err) => fail(new AppError('VALIDATION_FAILED', `the body could not be read: ${err.message}`)));
    const lines = createInterface({ input: stream, crlfDelay: Infinity });
    lines.on('line', (line) => {
      if (failed || line.trim() === '') return;
      if (rows.length >= BULK_MAX_ROWS) {
        fail(new AppError('VALIDATION_FAILED', `at most ${BULK_MAX_ROWS} rows per request`, { errors: [{ path: 'rows', message: `at most ${BULK_MAX_ROWS} rows` }] }));
        return;
      }
      try {
        rows.push(JSON.parse(line) as unknown);
      } catch {
        rows.push(new UnparsableRow('not a JSON object'));
      }
    });
    lines.on('close', () => {
      if (!failed) resolve({ rows });
    });
  });
}

export type BulkOptions = { atomic: boolean };
export type RowOutcome = { id: string; status: Exclude<BulkStatus, 'FAILED'> };

function rowError(err: unknown): RowError {
  const app = err instanceof AppError ? err : fromDatabaseError(err);
  if (!app) throw err;
  return { code: app.code, status: app.status, detail: app.message, ...(app.errors ? { errors: app.errors } : {}) };
}

/**
 * Runs every row: each in a savepoint of the chunk's transaction, so a failed row leaves no trace and the
 * others stand. Atomic: one transaction for all rows; any failed row rolls everything back and the answer is
 * 422 `BULK_ROWS_FAILED` carrying every row's result. `afterFailure` sees each failed row's error after its
 * transaction ended (to audit what a refusal revealed).
 */
export async function runBulk(
  database: Database,
  rows: readonly unknown[],
  opts: BulkOptions,
  run: (tx: Executor, row: unknown, index: number) => Promise<RowOutcome>,
  externalIdOf: (row: unknown) => string | null,
  afterFailure?: (err: unknown) => Promise<void>,
): Promise<BulkAnswer> {
  const results: RowResult[] = [];
  const failures: unknown[] = [];
  const runChunk = async (tx: Executor, from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const row = rows[i];
      const externalId = externalIdOf(row);
      try {
        const out = await tx.transaction((sp) => run(sp, row, i));
        results.push({ index: i, externalId, id: out.id, status: out.status });
      } catch (err) {
        failures.push(err);
        results.push({ index: i, externalId, id: null, status: 'FAILED', error: rowError(err) });
      }
    }
  };
  const rollback = new Error('atomic bulk load with failed rows');
  if (opts.atomic) {
    try {
      await database.db.transaction(async (tx) => {
        await runChunk(tx, 0, rows.length);
        if (failures.length > 0) throw rollback;
      });
    } catch (err) {
      if (err !== rollback) throw err;
    }
  } else {
    for (let from = 0; from < rows.length; from += CHUNK_ROWS) {
      await database.db.transaction((tx) => runChunk(tx, from, Math.min(rows.length, from + CHUNK_ROWS)));
    }
  }
  if (afterFailure) for (const f of failures) await afterFailure(f);
  const answer = summarise(results);
  if (opts.atomic && failures.length > 0) {
    // Nothing was written: the rows that would have succeeded say so no longer.
    const unwritten = answer.results.map((r) => (r.status === 'FAILED' ? r : { ...r, id: null }));
    throw new AppError('BULK_ROWS_FAILED', `${failures.length} of ${rows.length} rows failed; nothing was written`, {
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
