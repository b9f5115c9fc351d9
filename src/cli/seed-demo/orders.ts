// Orders as the ERP sends them (domain.md §8): each customer that bought has the order of its won deal
// and, for customers in service (USER), repeat orders along the order-to-cash chain. Created as the
// admin (who holds integration:write, so the ERP's order numbers go in as external ids) after the
// histories are dated, with the ERP's own dates; no lifecycle moves result, the stories already
// reached CUSTOMER or USER.
import type { Services } from '../../services.js';
import type { SeedContext, SeededCustomer } from './context.js';
import { DAY } from './random.js';

const CATALOGUE = [
  { product: 'Pump P200', productLine: 'pumps', unitPrice: '4850.00' },
  { product: 'Pump P400', productLine: 'pumps', unitPrice: '7900.00' },
  { product: 'Compressor K7', productLine: 'compressors', unitPrice: '12500.00' },
  { product: 'Conveyor module 2 m', productLine: 'conveyors', unitPrice: '2140.00' },
  { product: 'Filter cartridge F10', productLine: 'spares', unitPrice: '38.50' },
  { product: 'Seal kit S3', productLine: 'spares', unitPrice: '12.90' },
  { product: 'Annual service', productLine: 'service', unitPrice: '1800.00' },
] as const;

type WonQuery = Parameters<Services['opportunities']['list']>[1];

export async function seedOrders(ctx: SeedContext, customers: readonly SeededCustomer[]): Promise<void> {
  const { rng, services, summary, admin } = ctx;
  let serial = 0;
  for (const c of customers) {
    if (!c.ownerUserId || (c.target !== 'CUSTOMER' && c.target !== 'USER')) continue;
    const won = (await services.opportunities.list(admin, { customerId: c.id, status: 'WON', limit: 1 } as WonQuery)).data[0];
    const first = won?.closedAt ? Date.parse(won.closedAt) : ctx.now - rng.int(60, 300) * DAY;
    const count = c.target === 'USER' ? rng.int(2, 4) : 1;
    for (let k = 0; k < count; k++) {
      const orderedAt = Math.min(first + (k === 0 ? rng.int(1, 5) : rng.int(20, 90) * k) * DAY, ctx.now - rng.int(1, 10) * DAY);
      // A customer in service has its orders confirmed (the newest may still be on its way); a new customer's first one is under way.
      const status = c.target === 'USER' ? (k === count - 1 && rng.chance(0.4) ? 'SHIPPED' : 'CONFIRMED') : rng.pick(['ORDERED', 'PAID', 'SHIPPED'] as const);
      const step = (n: number) => new Date(Math.min(orderedAt + n * rng.int(2, 9) * DAY, ctx.now)).toISOString();
      const lines = Array.from({ length: rng.int(1, 3) }, () => {
        const item = rng.pick(CATALOGUE);
        return { ...item, quantity: String(item.productLine === 'spares' ? rng.int(5, 60) : rng.int(1, 4)) };
      });
      serial++;
      await services.orders.create(admin, {
        customerId: c.id,
        ...(k === 0 && won ? { opportunityId: won.id } : {}),
        number: `SO-${new Date(orderedAt).getUTCFullYear()}-${String(serial).padStart(5, '0')}`,
        status,
        orderedAt: new Date(orderedAt).toISOString(),
        ...(status !== 'ORDERED' ? { paidAt: step(1) } : {}),
        ...(status === 'SHIPPED' || status === 'CONFIRMED' ? { shippedAt: step(2) } : {}),
        ...(status === 'CONFIRMED' ? { confirmedAt: step(3) } : {}),
        currency: 'EUR',
        lines,
        externalIds: { erp: `SO-${String(serial).padStart(6, '0')}` },
      });
      summary.orders++;
    }
  }
}
