import type { Database, Executor } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { recordAudit } from '../../lib/audit.js';
import { AppError } from '../../lib/errors.js';
import { customersRepository as repo } from './customers.repository.js';
import { lowestCommonUnit, matchedOn } from './duplicates.js';

export type DuplicateCandidate = { id: string; name: string; lifecycleStage: string; ownerUserId: string | null; ownerUnitId: string; matchedOn: string[] };
export type ProtectedMatch = { matchedOn: string[]; contactUnitId: string; contactUnitName: string };
/** A create would be refused 409 CLAIMED: only whom to ask (the unit the caller shares with the claimant). */
export type ClaimedMatch = { contactUnitId: string; contactUnitName: string };
type Identity = { name: string; nameNorm: string; registrationNorm: string | null; phonesNorm: string[]; emailsNorm: string[] };

/**
 * A rule of another module over the existing customers a create matches (an approved claim protects
 * its customer against duplicate creation by others): throws to refuse the create. Wired in app.ts.
 */
export type DuplicateGuard = (tx: Executor, p: Principal, matchedCustomerIds: string[]) => Promise<void>;

// The audit action of an answer that reported protected matches: what the probe limit counts.
export const PROBE_ACTION = 'duplicate_probe';

/**
 * The duplicate rule at create time (domain.md §2, 撞车). A match the caller can see is answered with
 * its data; one it cannot see only as "a protected record exists, ask this unit". That answer is
 * still information about records the caller cannot see, so it is treated as a read of them: every
 * such answer is audited (after the refused create rolls back), a caller gets at most `probeLimit`
 * of them per hour (429 beyond), and a partner's user can never override a protected match:
 * working another unit's customer unknowingly is the collision the product exists to prevent.
 */
export function createDuplicateCheck(database: Database, opts: { probeLimitPerHour: number; guard?: DuplicateGuard }) {
  // The protected ids behind a refusal, for its audit row; never part of the answer.
  const probes = new WeakMap<AppError, string[]>();
  return {
    /**
     * Refuses a duplicate with its candidates; with `allow`, returns the ids it overrides instead.
     * A guard's CLAIMED refusal is thrown, unless `onClaimed` takes it (the preview reports it).
     */
    async check(tx: Executor, p: Principal, c: Identity, allow: boolean, onClaimed?: (m: ClaimedMatch) => void): Promise<string[]> {
      const hits = await repo.findDuplicates(tx, p, c);
      if (opts.guard && hits.length > 0) {
        try {
          await opts.guard(tx, p, hits.map((h) => h.row.id));
        } catch (err) {
          if (!onClaimed || !(err instanceof AppError) || err.code !== 'CLAIMED') throw err;
          const extra = err.extra as ClaimedMatch;
          onClaimed({ contactUnitId: extra.contactUnitId, contactUnitName: extra.contactUnitName });
        }
      }
      const hidden = hits.filter((h) => !h.visible);
      if (hits.length === 0 || (allow && (hidden.length === 0 || p.partnerPath === null))) return hits.map((h) => h.row.id);
      if (hidden.length > 0 && (await repo.recentAuditCount(tx, p.userId, PROBE_ACTION, 3600)) >= opts.probeLimitPerHour) {
        throw new AppError('RATE_LIMITED', `at most ${opts.probeLimitPerHour} answers naming protected customers per hour; try again later`, { extra: { retryAfterSeconds: 3600 } });
      }
      const candidates: DuplicateCandidate[] = hits
        .filter((h) => h.visible)
        .map((h) => ({ id: h.row.id, name: h.row.name, lifecycleStage: h.row.lifecycleStage, ownerUserId: h.row.ownerUserId, ownerUnitId: h.row.ownerUnitId, matchedOn: matchedOn(h.row, c) }));
      const arbiters = hidden.map((h) => lowestCommonUnit(p.unitPath, h.ownerUnitPath));
      const names = await repo.unitNames(tx, [...new Set(arbiters)]);
      const protectedMatches: ProtectedMatch[] = hidden.map((h, i) => ({
        matchedOn: matchedOn(h.row, c),
        contactUnitId: arbiters[i] ?? '',
        contactUnitName: names.get(arbiters[i] ?? '') ?? '',
      }));
      const partnerRefused = allow && hidden.length > 0;
      const err = new AppError(
        'DUPLICATE_CUSTOMER',
        partnerRefused
          ? 'a protected customer matches; a partner cannot override it: ask the contact unit'
          : `${hits.length} existing customer(s) match; use one of them, or repeat with ?allowDuplicate=true`,
        { extra: { candidates, protectedMatches } },
      );
      if (hidden.length > 0) probes.set(err, hidden.map((h) => h.row.id));
      throw err;
    },

    /**
     * The answer a create with this identity would refuse with, creating nothing: the same check,
     * the same probe limit and the same audit of protected matches (a preview reveals as much). A
     * match protected by another side's approved claim is not a 409 here: the preview answers 200
     * with `claimed` naming only whom to ask, next to the candidates and protected matches.
     */
    async preview(p: Principal, c: Identity): Promise<{ candidates: DuplicateCandidate[]; protectedMatches: ProtectedMatch[]; claimed: ClaimedMatch | null }> {
      let claimed: ClaimedMatch | null = null;
      try {
        await this.check(database.db, p, c, false, (m) => {
          claimed = m;
        });
        return { candidates: [], protectedMatches: [], claimed };
      } catch (err) {
        await this.recordProbe(p, err);
        if (!(err instanceof AppError) || err.code !== 'DUPLICATE_CUSTOMER') throw err;
        const extra = err.extra as { candidates: DuplicateCandidate[]; protectedMatches: ProtectedMatch[] };
        return { candidates: extra.candidates, protectedMatches: extra.protectedMatches, claimed };
      }
    },

    /** Audits an answer that reported protected matches (outside the refused create's transaction). */
    async recordProbe(p: Principal, err: unknown): Promise<void> {
      const ids = err instanceof AppError ? probes.get(err) : undefined;
      const first = ids?.[0];
      if (first) {
        await recordAudit(database.db, p, { entityType: 'customer', entityId: first, action: PROBE_ACTION, before: null, after: { protectedCustomerIds: ids } });
      }
    },
  };
}
