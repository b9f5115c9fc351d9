import type { Executor } from '../../db/client.js';
import { transfers } from '../../db/schema/index.js';
import type { Move } from '../customers/index.js';
import type { TransferCounts } from './org.schemas.js';

export type TransferRow = typeof transfers.$inferSelect;

export const transfersRepository = {
  /** The transfer itself; each module moves its own records (customers, opportunities, actions). */
  async insert(ex: Executor, m: Move, counts: TransferCounts): Promise<TransferRow> {
    const [row] = await ex
      .insert(transfers)
      .values({ id: m.transferId, fromUserId: m.fromUserId, toUserId: m.toUserId, toUnitId: m.toUnitId, counts, actorId: m.actor.userId, onBehalfOfId: null })
      .returning();
    if (!row) throw new Error('insert returned nothing');
    return row;
  },
};
