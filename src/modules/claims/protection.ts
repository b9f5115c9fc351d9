// What an approved claim protects against, as pure functions over unit paths ('/root/…/unit/').

/** Whether a unit path lies at or below another: the claimant's own unit and its sub-units are not "others". */
export const isWithin = (unitPath: string, basePath: string): boolean => unitPath.startsWith(basePath);

/**
 * Whom to ask about a protected customer: the deepest unit both paths share — the unit that
 * arbitrates between the two sides, which names neither the claimant nor its unit unless the
 * caller stands above it anyway.
 */
export function lowestCommonUnit(pathA: string, pathB: string): string {
  const a = pathA.split('/').filter(Boolean);
  const b = pathB.split('/').filter(Boolean);
  let last = a[0] ?? '';
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] !== b[i]) break;
    last = a[i] ?? last;
  }
  return last;
}

/**
 * The claimant's side: its unit and the units below it, except that a partner's users are on that
 * side only when the claimant is inside their own partner (a partner under a claiming region is still
 * another partner).
 */
export function insideClaimant(caller: { unitPath: string; partnerPath: string | null }, claimantUnitPath: string): boolean {
  if (!isWithin(caller.unitPath, claimantUnitPath)) return false;
  return caller.partnerPath === null || isWithin(claimantUnitPath, caller.partnerPath);
}

export type ProtectionCase = 'claim' | 'duplicate' | 'opportunity';

/**
 * Whether a caller (its unit path, and its partner path when it is a partner's user) is refused by a
 * claim held by the unit at `claimantUnitPath`: other units' claims and duplicate creation are refused
 * to anyone outside the claimant's unit; a new opportunity only to another partner's users (the
 * company's own staff still work the customer the company owns).
 */
export function refusedBy(c: ProtectionCase, caller: { unitPath: string; partnerPath: string | null }, claimantUnitPath: string): boolean {
  if (insideClaimant(caller, claimantUnitPath)) return false;
  if (c === 'opportunity') return caller.partnerPath !== null && !isWithin(claimantUnitPath, caller.partnerPath);
  return true;
}
