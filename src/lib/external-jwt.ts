import { createRemoteJWKSet, decodeProtectedHeader, errors, jwtVerify } from 'jose';

export type ExternalJwtConfig = {
  jwksUrl: string;
  algorithms: string[];
  userClaim: 'sub' | 'email';
  issuer: string;
  audience: string;
  cooldownMs: number;
};

// Who a verified provider token names: a user id (`sub`) or an email, as JWT_USER_CLAIM says.
export type ExternalIdentity = { by: 'id'; value: string } | { by: 'email'; value: string };

/**
 * Tokens of an external OpenID Connect provider, verified against its JWKS with `jose` (RFC 8725):
 * the algorithm must be one of JWT_ALGORITHMS (asymmetric only, so an HS256 token "signed" with
 * the provider's public key is refused), the key is chosen by `kid` from the provider's key set
 * (cached; an unknown `kid` fetches the set again, at most once per cooldown, then fails), and
 * `iss`, `aud`, `exp` and `nbf` are checked with a small clock tolerance.
 */
export function createExternalVerifier(cfg: ExternalJwtConfig) {
  const jwks = createRemoteJWKSet(new URL(cfg.jwksUrl), { cooldownDuration: cfg.cooldownMs, cacheMaxAge: 10 * 60_000, timeoutDuration: 5000 });
  const algorithms = new Set(cfg.algorithms);

  return {
    /** Whether a token is one this verifier should judge: its header names an accepted algorithm. */
    claims(token: string): boolean {
      try {
        const alg = decodeProtectedHeader(token).alg;
        return typeof alg === 'string' && algorithms.has(alg);
      } catch {
        return false;
      }
    },

    /** The identity a valid token names, or null for any invalid one (the reason goes to the log, not the caller). */
    async verify(token: string): Promise<{ identity: ExternalIdentity | null; reason?: string }> {
      try {
        const { payload } = await jwtVerify(token, jwks, {
          algorithms: [...algorithms],
          issuer: cfg.issuer,
          audience: cfg.audience,
          requiredClaims: ['exp', cfg.userClaim],
          clockTolerance: 5,
        });
        const claim = payload[cfg.userClaim];
        if (typeof claim !== 'string' || claim.length === 0 || claim.length > 320) return { identity: null, reason: `claim ${cfg.userClaim} missing` };
        if (cfg.userClaim === 'email') {
          // A provider that says the address is not verified does not prove who owns it.
          if (payload.email_verified === false) return { identity: null, reason: 'email not verified' };
          return { identity: { by: 'email', value: claim } };
        }
        return { identity: { by: 'id', value: claim } };
      } catch (err) {
        const reason = err instanceof errors.JOSEError ? err.code : 'verification failed';
        return { identity: null, reason };
      }
    },
  };
}

export type ExternalVerifier = ReturnType<typeof createExternalVerifier>;
