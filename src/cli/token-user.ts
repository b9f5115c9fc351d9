import { sql } from 'drizzle-orm';
import { createSigner } from 'fast-jwt';
import type { Config } from '../config.js';
import { type Db, queryRows } from '../db/client.js';

export type TokenUser = { id: string; active: boolean };

export async function findTokenUser(db: Db, email: string): Promise<TokenUser | undefined> {
  const [user] = await queryRows<TokenUser>(db, sql`SELECT id, active FROM users WHERE lower(email) = lower(${email})`);
  return user;
}

// Signed exactly as the server verifies (src/plugins/auth.ts).
export function signToken(jwt: Config['jwt'], userId: string): string {
  const sign = createSigner({
    key: jwt.secret,
    algorithm: 'HS256',
    expiresIn: jwt.ttlSeconds * 1000,
    ...(jwt.issuer ? { iss: jwt.issuer } : {}),
    ...(jwt.audience ? { aud: jwt.audience } : {}),
  });
  return sign({ sub: userId });
}

// Why no token is given for this email, or null.
export function refusal(email: string, user: TokenUser | undefined): string | null {
  if (!user) return `no user with email ${email}`;
  if (!user.active) return `user ${email} is deactivated`;
  return null;
}
