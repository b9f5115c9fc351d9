import type { Principal } from '../../lib/access.js';

export type CachedPrincipal = Principal & { active: boolean };

/**
 * Principals kept for a short time: loading one is a database round trip on every request, as
 * costly as the request's own query. An entry lives `ttlMs` at most; writes through this instance
 * that can change a principal clear the cache at once, other instances see them within `ttlMs`.
 * `ttlMs` 0 turns the cache off.
 */
export function createPrincipalCache(ttlMs: number, maxEntries = 10_000) {
  const entries = new Map<string, { principal: CachedPrincipal; expires: number }>();
  return {
    enabled: ttlMs > 0,
    // A copy: the request stamps its own id and client on the principal it gets.
    get(userId: string): CachedPrincipal | null {
      const hit = entries.get(userId);
      if (!hit) return null;
      if (hit.expires <= Date.now()) {
        entries.delete(userId);
        return null;
      }
      return { ...hit.principal };
    },
    set(userId: string, principal: CachedPrincipal): void {
      if (ttlMs <= 0) return;
      // Oldest first out: a Map iterates in insertion order.
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string);
      entries.set(userId, { principal: { ...principal }, expires: Date.now() + ttlMs });
    },
    clear(): void {
      entries.clear();
    },
  };
}

export type PrincipalCache = ReturnType<typeof createPrincipalCache>;
