import { z } from 'zod';
import { ambientTransaction } from '../../db/ambient.js';
import type { Database, Tx } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { type BatchRow, type BulkAnswer, type RowOutcome, type RowSource, runBulk, UnparsableRow } from '../../lib/bulk.js';
import { AppError } from '../../lib/errors.js';
import { findRecordsByExternalIds } from '../../lib/external-ids.js';
import { type BulkContactItem, type BulkUpsertItem, type CustomerService, type OnDuplicate, parseBody, upsertContactBody, upsertCustomerBody } from '../customers/index.js';
import { type BulkOrderItem, type OrderService, upsertOrderBody } from '../orders/index.js';

export type BulkRequest = { system: string; atomic: boolean; onDuplicate: OnDuplicate; rows: RowSource };

// A row is the upsert body of its record plus the record's own `externalId` in the load's system.
const rowHead = z.object({ externalId: z.string().regex(/^[^\u0000-\u001F\u007F]{1,200}$/, '1 to 200 characters, no control characters') }).loose();

function splitRow(row: unknown): { externalId: string; body: Record<string, unknown> } {
  if (row instanceof UnparsableRow) throw new AppError('VALIDATION_FAILED', `row: ${row.message}`, { errors: [{ path: 'row', message: row.message }] });
  if (typeof row !== 'object' || row === null || Array.isArray(row)) throw new AppError('VALIDATION_FAILED', 'row: must be an object', { errors: [{ path: 'row', message: 'must be an object' }] });
  const { externalId, ...body } = parseBody(rowHead, row);
  return { externalId, body };
}

const externalIdOf = (row: unknown): string | null => {
  const v = (row as { externalId?: unknown } | null)?.externalId;
  return typeof v === 'string' ? v : null;
};

/**
 * The rows of a batch a set-based pass may decide: those that parse with `schema`, the first row of each external id
 * only. Faulty rows and later rows of an external id are left to their row's upsert, which answers them as a single
 * PUT would.
 */
function firstRowPerExternalId<S extends z.ZodType>(batch: readonly BatchRow[], schema: S): { key: number; externalId: string; body: z.output<S> }[] {
  const items: { key: number; externalId: string; body: z.output<S> }[] = [];
  const seen = new Set<string>();
  for (const { index, row } of batch) {
    try {
      const { externalId, body } = splitRow(row);
      if (seen.has(externalId)) continue;
      seen.add(externalId);
      items.push({ key: index, externalId, body: parseBody(schema, body) });
    } catch {
      // answered by the row's upsert
    }
  }
  return items;
}

/**
 * The set-based pass of a batch of customer rows (customers/bulk-write.ts): new, changed and unchanged rows are
 * written with one statement per table for the batch. A row whose external id an earlier row of the batch also
 * names runs as an upsert after it (the earlier row changes the record first); faulty rows, and every row the
 * pass leaves, are answered by the upsert, which names their fault as a single PUT does.
 */
async function customerBatch(tx: Tx, p: Principal, system: string, batch: readonly BatchRow[], customers: CustomerService): Promise<Map<number, RowOutcome>> {
  const items: BulkUpsertItem[] = firstRowPerExternalId(batch, upsertCustomerBody);
  return customers.writeCustomerBatch(tx, p, system, items);
}

/**
 * Bulk loads (api.md §2 Integration): rows are read batch by batch as they arrive (lib/bulk.ts). A batch of
 * customers, of contacts or of orders is first written set-based (customerBatch, writeContactBatch, orders'
 * writeOrderBatch), and every row that pass leaves is an upsert by external id through the owning module's service:
 * the same create rules (allocation included), duplicate rule (`onDuplicate`), visibility, field ownership, audit
 * and events as a single PUT.
 */
export function createIntegrationService(database: Database, deps: { customers: CustomerService; orders: OrderService }) {
  const { customers, orders } = deps;
  return {
    async bulkCustomers(p: Principal, req: BulkRequest): Promise<BulkAnswer> {
      requirePermission(p, 'customers:read');
      return runBulk(database, req.rows, { atomic: req.atomic }, {
        prepare: (tx, batch) => customerBatch(tx as Tx, p, req.system, batch, customers),
        run: async (tx, row) => {
          const { externalId, body } = splitRow(row);
          const u = await customers.upsertByExternalId(p, req.system, externalId, parseBody(upsertCustomerBody, body), { tx, onDuplicate: req.onDuplicate });
          return { id: u.record.id, status: u.status };
        },
        externalIdOf,
        afterFailure: (err) => customers.recordDuplicateProbe(p, err),
      });
    },

    async bulkContacts(p: Principal, req: BulkRequest): Promise<BulkAnswer> {
      requirePermission(p, 'contacts:read');
      return runBulk(database, req.rows, { atomic: req.atomic }, {
        // Set-based first (customers/contacts-bulk.ts); every row it leaves is the single upsert below.
        prepare: (tx, batch) => {
          const items: BulkContactItem[] = firstRowPerExternalId(batch, upsertContactBody);
          return customers.writeContactBatch(tx as Tx, p, req.system, items);
        },
        run: async (tx, row) => {
          const { externalId, body } = splitRow(row);
          const u = await customers.upsertContactByExternalId(p, req.system, externalId, parseBody(upsertContactBody, body), { tx });
          return { id: u.record.id, status: u.status };
        },
        externalIdOf,
      });
    },

    /**
     * Orders by external id: a batch is first written set-based (orders.bulk.ts: new and changed orders, their
     * lines, the customers' lifecycle moves with cause ORDER and the value rescore, one statement per table and
     * step); every row that pass leaves is the order upsert (PUT /v1/orders/external/…) run in the row's savepoint,
     * which answers it as a single PUT would. A row the upsert runs is UNCHANGED when its order exists and its
     * version does not move; the versions of those rows' orders are read in one statement after the pass.
     */
    async bulkOrders(p: Principal, req: BulkRequest): Promise<BulkAnswer> {
      requirePermission(p, 'orders:read');
      const versions = new Map<string, number>();
      return runBulk(database, req.rows, { atomic: req.atomic }, {
        prepare: async (tx, batch) => {
          versions.clear();
          const items: BulkOrderItem[] = firstRowPerExternalId(batch, upsertOrderBody);
          const decided = await orders.writeOrderBatch(tx, p, req.system, items);
          const held = await findRecordsByExternalIds(tx, 'order', req.system, batch.flatMap((b) => (decided.has(b.index) ? [] : (externalIdOf(b.row) ?? []))));
          const visible = await ambientTransaction.run({ tx: tx as Tx }, () => orders.byIds(p, [...held.values()]));
          for (const [externalId, id] of held) {
            const o = visible.get(id);
            if (o) versions.set(externalId, o.version);
          }
          return decided;
        },
        run: async (tx, row) => {
          const { externalId, body } = splitRow(row);
          const input = parseBody(upsertOrderBody, body);
          const { created, order } = await ambientTransaction.run({ tx: tx as Tx }, () => orders.upsertByExternalId(p, req.system, externalId, input));
          const before = versions.get(externalId);
          versions.set(externalId, order.version);
          return { id: order.id, status: created ? 'CREATED' : before === order.version ? 'UNCHANGED' : 'UPDATED' };
        },
        externalIdOf,
      });
    },
  };
}

export type IntegrationService = ReturnType<typeof createIntegrationService>;
