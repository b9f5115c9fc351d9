// Pure normalisation used for duplicate detection (撞车) and for the `q` search.

const LEGAL_SUFFIXES = new Set([
  'ltd', 'limited', 'inc', 'incorporated', 'llc', 'llp', 'gmbh', 'ag', 'sa', 'sas', 'sarl', 'srl', 'spa', 'bv', 'nv',
  'plc', 'co', 'company', 'corp', 'corporation', 'kg', 'oy', 'ab', 'as', 'pty', 'kk', '有限公司', '股份有限公司',
]);

export function foldText(s: string): string {
  return s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{N}@.+]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

export function normalizeName(name: string): string {
  const words = foldText(name)
    .replace(/[.@+]/g, ' ')
    .split(' ')
    .filter(Boolean);
  while (words.length > 1 && LEGAL_SUFFIXES.has(words[words.length - 1] ?? '')) words.pop();
  return words.join(' ');
}

export function normalizePhone(phone: string): string {
  const digits = phone.replace(/\D/g, '');
  // International prefix 00 and + are the same call.
  return digits.startsWith('00') ? digits.slice(2) : digits;
}

export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}

export function normalizeRegistrationId(id: string): string {
  return id.replace(/[^\p{L}\p{N}]/gu, '').toUpperCase();
}

export function searchTextOf(c: { name: string; phones: string[]; emails: string[]; registrationId?: string | null | undefined }): string {
  return [foldText(c.name), ...c.phones.map(normalizePhone), ...c.emails.map(normalizeEmail), c.registrationId ? normalizeRegistrationId(c.registrationId).toLowerCase() : '']
    .filter(Boolean)
    .join(' ');
}

const isPhoneLike = (q: string) => /^[\d\s()+\-./]+$/.test(q) && /\d{3,}/.test(q.replace(/\D/g, ''));

// What the `q` parameter matches against search_text: digits for a phone-like query, folded text otherwise.
export function normalizeQuery(q: string): string {
  const trimmed = q.trim();
  if (isPhoneLike(trimmed)) return normalizePhone(trimmed);
  if (trimmed.includes('@')) return normalizeEmail(trimmed);
  return foldText(trimmed);
}

/**
 * Every form the query may take in search_text, normalised exactly as searchTextOf stores each part,
 * so a record is found however the query is spaced or punctuated: `HRB 243988` finds the registration
 * id stored as `hrb243988` as well as a name containing `hrb 243988`. A phone-like query's digits also
 * cover registration ids (their stored form keeps every digit). None when the query has no letter or digit.
 */
export function searchForms(q: string): string[] {
  const trimmed = q.trim();
  const forms = [normalizeQuery(trimmed)];
  if (!isPhoneLike(trimmed) && !trimmed.includes('@')) forms.push(normalizeRegistrationId(trimmed).toLowerCase());
  return [...new Set(forms.filter(Boolean))];
}

export function escapeLike(s: string): string {
  return s.replace(/[\\%_]/g, (m) => `\\${m}`);
}

export type Identity = { nameNorm: string; registrationNorm: string | null; phonesNorm: string[]; emailsNorm: string[] };

/** The keys an identity is locked and matched by (one per normalised name, registration id, phone, email). */
export const identityKeys = (n: Identity): string[] => [
  `name:${n.nameNorm}`,
  ...(n.registrationNorm ? [`reg:${n.registrationNorm}`] : []),
  ...n.phonesNorm.map((x) => `phone:${x}`),
  ...n.emailsNorm.map((x) => `email:${x}`),
];
