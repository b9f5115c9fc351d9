import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AppError } from './errors.js';
import { BULK_MAX_ROWS, ndjsonRows } from './bulk.js';

// An NDJSON bulk body is spooled to a temporary file as fast as it arrives (so the request arrives whole within
// REQUEST_TIMEOUT_MS whatever the load's length), counting bytes and rows on the way: a body over the limits is
// refused before any row is written. The load then reads its rows back from the file batch by batch, so memory
// stays flat; the file is removed when the rows are read or the request ends.

export type SpooledNdjson = { rows: AsyncGenerator<unknown>; discard: () => Promise<void> };

const SPOOL_WRITE_BYTES = 64 * 1024;
const tooMany = () => new AppError('VALIDATION_FAILED', `at most ${BULK_MAX_ROWS} rows per request`, { errors: [{ path: 'rows', message: `at most ${BULK_MAX_ROWS} rows` }] });

export async function spoolNdjson(stream: Readable, maxBytes: number): Promise<SpooledNdjson> {
  const dir = await mkdtemp(join(tmpdir(), 'keel-bulk-'));
  const discard = () => rm(dir, { recursive: true, force: true });
  const file = join(dir, 'body.ndjson');
  let bytes = 0;
  let rows = 0;
  let lineHasContent = false;
  try {
    await pipeline(
      stream,
      async function* (source: AsyncIterable<Buffer>) {
        // A client may send every row as its own small chunk: they are written to the file in pieces of
        // SPOOL_WRITE_BYTES or more, not one write per row.
        let pending: Buffer[] = [];
        let pendingBytes = 0;
        for await (const chunk of source) {
          bytes += chunk.length;
          if (bytes > maxBytes) throw new AppError('PAYLOAD_TOO_LARGE', `the body is larger than ${maxBytes} bytes`);
          for (let i = 0; i < chunk.length; i++) {
            const b = chunk[i];
            if (b === 0x0a) {
              if (lineHasContent) rows++;
              lineHasContent = false;
            } else if (b !== 0x20 && b !== 0x09 && b !== 0x0d) lineHasContent = true;
          }
          if (rows + (lineHasContent ? 1 : 0) > BULK_MAX_ROWS) throw tooMany();
          pending.push(chunk);
          pendingBytes += chunk.length;
          if (pendingBytes >= SPOOL_WRITE_BYTES) {
            yield Buffer.concat(pending, pendingBytes);
            pending = [];
            pendingBytes = 0;
          }
        }
        if (pendingBytes > 0) yield Buffer.concat(pending, pendingBytes);
      },
      createWriteStream(file),
    );
  } catch (err) {
    stream.resume();
    await discard();
    if (err instanceof AppError) throw err;
    throw new AppError('VALIDATION_FAILED', `the body could not be read: ${(err as Error).message}`);
  }
  async function* fromFile(): AsyncGenerator<unknown> {
    try {
      yield* ndjsonRows(createReadStream(file), maxBytes);
    } finally {
      await discard();
    }
  }
  return { rows: fromFile(), discard };
}
