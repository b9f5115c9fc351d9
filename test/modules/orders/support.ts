// Helpers of the order tests (not a test file itself).
import { sql } from 'drizzle-orm';
import { queryRows } from '../../../src/db/client.js';
import type { OrderDto } from '../../../src/modules/orders/index.js';
import type { TestApp, User } from '../../helpers/app.js';

/** An order made through the REST door (one line of 100.00 unless told otherwise). */
export async function order(app: TestApp, who: User, customerId: string, extra: Record<string, unknown> = {}): Promise<OrderDto> {
  const res = await app.rest(who, 'POST', '/v1/orders', { customerId, currency: 'EUR', lines: [{ product: 'Widget', quantity: '1', unitPrice: '100' }], ...extra });
  if (res.status !== 201) throw new Error(`order: ${res.raw}`);
  return res.body as OrderDto;
}

/** The customer's lifecycle transitions, oldest first (two in one transaction: in stage order), as [from, to, cause]. */
export async function lifecycleOf(app: TestApp, customerId: string): Promise<[string, string, string][]> {
  const rows = await queryRows<{ from_stage: string; to_stage: string; cause: string }>(
    app.db,
    sql`SELECT from_stage, to_stage, cause FROM lifecycle_transitions WHERE customer_id = ${customerId}::uuid ORDER BY at, array_position(ARRAY['SUSPECT', 'PROSPECT', 'OPPORTUNITY', 'CUSTOMER', 'USER'], to_stage), id`,
  );
  return rows.map((r) => [r.from_stage, r.to_stage, r.cause]);
}

export const ORDER_FIELDS = `id customerId opportunityId number status orderedAt paidAt shippedAt confirmedAt cancelledAt amount currency
  lines { product productLine quantity unitPrice amount } externalIds ownerUserId ownerUnitId version createdAt updatedAt`;
