// Allocation rules as pure functions: which rule a lead falls under, and who of the target unit's
// salespeople gets it. The repository supplies rules, candidates and loads; nothing here reads.

export type RuleMatch = { region?: string | undefined; industry?: string | undefined; source?: string | undefined; kind?: string | undefined; lifecycleStage?: string | undefined };
export type Lead = { region: string | null; industry: string | null; source: string | null; kind: string; lifecycleStage: string };
export type Strategy = 'FIXED' | 'ROUND_ROBIN' | 'LEAST_LOADED';
export type Candidate = { id: string; load: number };

// Free-text fields compare as people type them: trimmed, case-insensitive.
const norm = (v: string | null | undefined) => (v ?? '').trim().toLowerCase();

/** A rule matches when every criterion it names equals the lead's; a rule naming none matches every lead. */
export function matches(m: RuleMatch, lead: Lead): boolean {
  if (m.region !== undefined && norm(m.region) !== norm(lead.region)) return false;
  if (m.industry !== undefined && norm(m.industry) !== norm(lead.industry)) return false;
  if (m.source !== undefined && m.source !== lead.source) return false;
  if (m.kind !== undefined && m.kind !== lead.kind) return false;
  if (m.lifecycleStage !== undefined && m.lifecycleStage !== lead.lifecycleStage) return false;
  return true;
}

/** The first active rule, by `order` then id, that matches the lead. */
export function firstMatch<R extends { id: string; order: number; active: boolean; match: RuleMatch }>(rules: readonly R[], lead: Lead): R | null {
  const sorted = [...rules].filter((r) => r.active).sort((a, b) => a.order - b.order || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return sorted.find((r) => matches(r.match, lead)) ?? null;
}

/**
 * Who of the candidates gets the next lead; null when every one is at capacity (the lead then goes
 * to the unit's pool). ROUND_ROBIN: the next by id after the last served, wrapping, skipping the full.
 * LEAST_LOADED: the smallest load, ties by id. FIXED among candidates: the first by id with room.
 */
export function pickUser(strategy: Strategy, candidates: readonly Candidate[], lastUserId: string | null, capacity: number | null): string | null {
  const open = [...candidates].filter((c) => capacity === null || c.load < capacity).sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (open.length === 0) return null;
  switch (strategy) {
    case 'ROUND_ROBIN': {
      const next = lastUserId === null ? undefined : open.find((c) => c.id > lastUserId);
      return (next ?? open[0])!.id;
    }
    case 'LEAST_LOADED':
      return open.reduce((best, c) => (c.load < best.load ? c : best), open[0]!).id;
    case 'FIXED':
      return open[0]!.id;
  }
}
