import { type SQL, sql } from 'drizzle-orm';
import { type Executor, queryRows } from '../db/client.js';
import type { Principal } from './access.js';
import { recordRowChanges } from './audit.js';

/**
 * A merge moves a duplicate's history to the survivor: each module repoints the rows of its own
 * table that name the duplicate, through this one statement shape. Versioned records get a new
 * version and, with `entityType`, an audit row and an event each (`<entityType>.moved_by_merge`),
 * addressed to `owner` (SQL over the moved row `t`, giving owner_user_id and owner_unit_id).
 */
export async function repointCustomerRows(
  ex: Executor,
  p: Principal,
  c: { table: string; entityType: string | null; owner?: SQL; fromId: string; toId: string },
): Promise<number> {
  const versioned = c.entityType !== null;
  const owner = c.owner ?? sql`NULL::uuid AS owner_user_id, NULL::uuid AS owner_unit_id`;
  const writes = c.entityType
    ? recordRowChanges(p, {
        rows: 'moved',
        entityType: c.entityType,
        action: 'moved_by_merge',
        entityId: sql`id`,
        ownerUserId: sql`owner_user_id`,
        ownerUnitId: sql`owner_unit_id`,
        before: sql`jsonb_build_object('customerId', ${c.fromId}::text)`,
        after: sql`jsonb_build_object('customerId', ${c.toId}::text)`,
      })
    : null;
  const [r] = await queryRows<{ n: number | string }>(
    ex,
    sql`WITH moved AS (
        UPDATE ${sql.identifier(c.table)} t SET customer_id = ${c.toId}${versioned ? sql`, version = t.version + 1, updated_at = now()` : sql``}
        WHERE t.customer_id = ${c.fromId}
        RETURNING t.id, ${owner}
      )${writes ? sql`, audit AS (${writes.audit}), outbox AS (${writes.events})` : sql``}
      SELECT count(*) AS n FROM moved`,
  );
  return Number(r?.n ?? 0);
}

// The survivor's owner, for records that have no owner of their own (interactions).
export const survivorOwner = (toId: string): SQL =>
  sql`(SELECT c.owner_user_id FROM customers c WHERE c.id = ${toId}) AS owner_user_id, (SELECT c.owner_unit_id FROM customers c WHERE c.id = ${toId}) AS owner_unit_id`;
