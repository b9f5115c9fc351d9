import { sql } from 'drizzle-orm';
import type { Db, Executor } from '../../db/client.js';

// A pipeline report's statements run in one transaction that gives them more sort and hash memory
// than an ordinary request (SET LOCAL ends with the transaction, so the pooled connection goes back
// unchanged): the conversion walk sorts every stage entry of the deals in its period, which spills to
// disk at the default work_mem from about 100 000 entries.
export const REPORT_WORK_MEM = '64MB';

export function inReportSession<T>(db: Db, fn: (ex: Executor) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.execute(sql.raw(`SET LOCAL work_mem = '${REPORT_WORK_MEM}'`));
    return fn(tx);
  });
}
