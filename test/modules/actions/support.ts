// Helpers of the key action tests (not a test file itself); shared factories live in test/helpers.
import { sql } from 'drizzle-orm';
import type { TestApp } from '../../helpers/app.js';
import { countRows } from '../../helpers/records.js';

/** Actions stored on the customer (or on the opportunity): a refused write leaves the number as it was. */
export const actionCount = (app: TestApp, where: { customerId: string } | { opportunityId: string }): Promise<number> =>
  countRows(app, 'actions', 'customerId' in where ? sql`customer_id = ${where.customerId}::uuid` : sql`opportunity_id = ${where.opportunityId}::uuid`);
