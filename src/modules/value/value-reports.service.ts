import type { Database } from '../../db/client.js';
import { hiddenFields, type Principal, requirePermission } from '../../lib/access.js';
import { AppError, fieldError } from '../../lib/errors.js';
import { VALUE_CLASSES, type ValueClass } from './scoring.js';
import { valueReportsRepository as repo } from './value-reports.repository.js';
import type {
  ChurnRiskQuery,
  ChurnRiskReportDto,
  CrossSellQuery,
  CrossSellReportDto,
  PyramidDto,
  PyramidQuery,
  WinBackQuery,
  WinBackReportDto,
} from './value-reports.schemas.js';
import { valueRepository } from './value.repository.js';

export const DEFAULT_MOVES_DAYS = 90;

/** A share as a decimal string with four places, rounded half up; integers only, never floats. */
export function shareOf(part: number, whole: number): string | null {
  if (whole === 0) return null;
  const tenThousandths = Math.floor((part * 10_000 * 2 + whole) / (2 * whole));
  return `${Math.floor(tenThousandths / 10_000)}.${String(tenThousandths % 10_000).padStart(4, '0')}`;
}

const sumMoney = (xs: string[]): string => {
  // Cents as BigInt: exact whatever the count.
  const cents = xs.reduce((s, x) => {
    const [i = '0', f = ''] = x.split('.');
    return s + BigInt(i) * 100n + BigInt((f + '00').slice(0, 2));
  }, 0n);
  return `${cents / 100n}.${String(cents % 100n).padStart(2, '0')}`;
};

type ClassRow = { valueClass: ValueClass; customers: number; revenue: string; cost: string };
const classesOf = (rows: ClassRow[]) => {
  const total = rows.reduce((s, r) => s + r.customers, 0);
  return {
    customers: total,
    classes: VALUE_CLASSES.map((k) => {
      const of = rows.filter((r) => r.valueClass === k);
      const n = of.reduce((s, r) => s + r.customers, 0);
      return { valueClass: k, customers: n, share: shareOf(n, total), revenue: sumMoney(of.map((r) => r.revenue)), cost: sumMoney(of.map((r) => r.cost)) };
    }),
  };
};

// A report row's value fields, left out where the caller's roles hide them.
function valueFields(p: Principal, r: { value_class: string | null; value_score: string | null }) {
  const hidden = hiddenFields(p);
  return {
    ...(hidden.has('customer.valueClass') ? {} : { valueClass: r.value_class as ValueClass | null }),
    ...(hidden.has('customer.valueScore') ? {} : { valueScore: r.value_score === null ? null : Number(r.value_score) }),
  };
}

export function createValueReportService(database: Database) {
  const { db } = database;
  return {
    /** Counts, revenue and cost per class (per unit or partner when asked), and the class moves over a period. */
    async pyramid(p: Principal, q: PyramidQuery): Promise<PyramidDto> {
      requirePermission(p, 'reports:read');
      const to = q.to ?? new Date();
      const from = q.from ?? new Date(to.getTime() - DEFAULT_MOVES_DAYS * 86_400_000);
      if (from.getTime() > to.getTime()) throw fieldError('VALIDATION_FAILED', 'from', 'must not be after to');
      const [rows, moves, model, run] = await Promise.all([repo.pyramid(db, p, q.groupBy), repo.moves(db, p, from, to), valueRepository.currentModel(db), valueRepository.lastRun(db)]);
      const all = rows.map((r) => ({ group: r.group_id, name: r.group_name, valueClass: r.value_class as ValueClass, customers: Number(r.customers), revenue: r.revenue, cost: r.cost }));
      const groupIds = [...new Set(all.map((r) => r.group))];
      return {
        modelVersion: model.version,
        lastRunAt: run?.finishedAt ? run.finishedAt.toISOString() : null,
        groupBy: q.groupBy ?? null,
        totals: classesOf(all),
        groups: q.groupBy
          ? groupIds.map((g) => {
              const of = all.filter((r) => r.group === g);
              return { unitId: g, unitName: of[0]?.name ?? null, ...classesOf(of) };
            })
          : [],
        moves: {
          from: from.toISOString(),
          to: to.toISOString(),
          rows: moves.map((m) => ({ fromClass: m.from_class as ValueClass | null, toClass: m.to_class as ValueClass | null, customers: Number(m.customers) })),
        },
      };
    },

    async churnRisk(p: Principal, q: ChurnRiskQuery): Promise<ChurnRiskReportDto> {
      requirePermission(p, 'reports:read');
      if (hiddenFields(p).has('customer.churnRisk')) throw new AppError('FORBIDDEN', 'churn risk is hidden from your roles');
      const rows = await repo.churnRisk(db, p, q.level ? [q.level] : ['HIGH', 'WATCH'], q.limit);
      return {
        totals: { HIGH: Number(rows[0]?.total_high ?? 0), WATCH: Number(rows[0]?.total_watch ?? 0) },
        rows: rows.map((r) => ({
          customerId: r.id,
          name: r.name,
          ownerUserId: r.owner_user_id,
          ownerUnitId: r.owner_unit_id,
          ...valueFields(p, r),
          churnRisk: r.churn_risk as 'WATCH' | 'HIGH',
          signals: r.signals as ChurnRiskReportDto['rows'][number]['signals'],
        })),
      };
    },

    async winBack(p: Principal, q: WinBackQuery): Promise<WinBackReportDto> {
      requirePermission(p, 'reports:read');
      const rows = await repo.winBack(db, p, q);
      return {
        months: q.months,
        silentMonths: q.silentMonths,
        rows: rows.map((r) => ({
          customerId: r.id,
          name: r.name,
          ownerUserId: r.owner_user_id,
          ownerUnitId: r.owner_unit_id,
          ...valueFields(p, r),
          previousRevenue: r.previous_revenue,
          lastOrderAt: r.last_order_at,
          lastContactAt: r.last_contact_at,
          lostDeals: Number(r.lost_deals),
        })),
      };
    },

    async crossSell(p: Principal, q: CrossSellQuery): Promise<CrossSellReportDto> {
      requirePermission(p, 'reports:read');
      const rows = await repo.crossSell(db, p, q);
      return {
        months: q.months,
        rows: rows.map((r) => ({
          customerId: r.id,
          name: r.name,
          ownerUserId: r.owner_user_id,
          ownerUnitId: r.owner_unit_id,
          ...valueFields(p, r),
          revenue: r.revenue,
          linesBought: r.lines_bought,
          linesNotBought: r.lines_not_bought,
        })),
      };
    },
  };
}

export type ValueReportService = ReturnType<typeof createValueReportService>;
