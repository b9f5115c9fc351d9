// The duplicate rule (domain.md §2, 撞车): two customers are the same when their normalised name,
// registration id, phone or email match. Pure functions; the lookup itself is the repository's.

type Identity = { nameNorm: string; registrationNorm: string | null; phonesNorm: string[]; emailsNorm: string[] };

/** Which identities of `candidate` match `wanted`. */
export function matchedOn(candidate: Identity, wanted: Identity): string[] {
  const m: string[] = [];
  if (candidate.nameNorm === wanted.nameNorm) m.push('name');
  if (wanted.registrationNorm && candidate.registrationNorm === wanted.registrationNorm) m.push('registrationId');
  if (candidate.phonesNorm.some((x) => wanted.phonesNorm.includes(x))) m.push('phone');
  if (candidate.emailsNorm.some((x) => wanted.emailsNorm.includes(x))) m.push('email');
  return m;
}

// The unit both paths share at the deepest level: who arbitrates a collision between them.
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
