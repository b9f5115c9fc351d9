import { z } from 'zod';
import type { Database } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { type BulkAnswer, runBulk, UnparsableRow } from '../../lib/bulk.js';
import { AppError } from '../../lib/errors.js';
import { type CustomerService, type OnDuplicate, parseBody, upsertContactBody, upsertCustomerBody } from '../customers/index.js';

export type BulkRequest = { system: string; atomic: boolean; onDuplicate: OnDuplicate; rows: readonly unknown[] };

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
 * Bulk loads (api.md §2 Integration): every row is an upsert by external id through the owning module's
 * service — the same create rules, duplicate rule (`onDuplicate`), visibility, audit and events as a single
 * PUT — run in the envelope of lib/bulk.ts (per-row results, atomic, chunked transactions).
 */
export function createIntegrationService(database: Database, deps: { customers: CustomerService }) {
  const { customers } = deps;
  return {
    async bulkCustomers(p: Principal, req: BulkRequest): Promise<BulkAnswer> {
      requirePermission(p, 'customers:read');
      return runBulk(
        database,
        req.rows,
        { atomic: req.atomic },
        async (tx, row) => {
          const { externalId, body } = splitRow(row);
          const u = await customers.upsertByExternalId(p, req.system, externalId, parseBody(upsertCustomerBody, body), { tx, onDuplicate: req.onDuplicate });
          return { id: u.record.id, status: u.status };
        },
        externalIdOf,
        (err) => customers.recordDuplicateProbe(p, err),
      );
    },

    async bulkContacts(p: Principal, req: BulkRequest): Promise<BulkAnswer> {
      requirePermission(p, 'contacts:read');
      return runBulk(
        database,
        req.rows,
        { atomic: req.atomic },
        async (tx, row) => {
          const { externalId, body } = splitRow(row);
          const u = await customers.upsertContactByExternalId(p, req.system, externalId, parseBody(upsertContactBody, body), { tx });
          return { id: u.record.id, status: u.status };
        },
        externalIdOf,
      );
    },
  };
}

export type IntegrationService = ReturnType<typeof createIntegrationService>;
