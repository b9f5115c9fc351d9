import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// An API key reads `keel_<prefix id>_<secret>`: 8 + 43 base64url characters from 6 + 32 random
// bytes. The part before the secret (`keel_<prefix id>`) is shown in listings and is what a key is
// looked up by; the whole key is compared by its SHA-256, in constant time.
export const KEY_PREFIX = 'keel_';
const KEY_SHAPE = /^keel_([A-Za-z0-9_-]{8})_([A-Za-z0-9_-]{43})$/;

export type KeyMaterial = { key: string; prefix: string; hash: string };

export const hashKey = (key: string): string => createHash('sha256').update(key, 'utf8').digest('hex');

export function generateKey(): KeyMaterial {
  const id = randomBytes(6).toString('base64url');
  const secret = randomBytes(32).toString('base64url');
  const key = `${KEY_PREFIX}${id}_${secret}`;
  return { key, prefix: `${KEY_PREFIX}${id}`, hash: hashKey(key) };
}

/** The lookup prefix of a presented key, or null when it does not have a key's shape. */
export function prefixOf(key: string): string | null {
  const m = KEY_SHAPE.exec(key);
  return m ? `${KEY_PREFIX}${m[1]}` : null;
}

/** Whether a presented key matches a stored hash, in time independent of where they differ. */
export function keyMatches(key: string, storedHash: string): boolean {
  const a = Buffer.from(hashKey(key), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
