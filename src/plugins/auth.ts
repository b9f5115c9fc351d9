import fastifyJwt from '@fastify/jwt';
import type { FastifyBaseLogger, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import type { Config } from '../config.js';
import type { Principal } from '../lib/access.js';
import { AppError } from '../lib/errors.js';
import { KEY_PREFIX } from '../modules/api-keys/index.js';
import { loadPrincipal, userIdByEmail } from '../modules/org/index.js';
import { sendProblem } from './errors.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal;
  }
  interface FastifyInstance {
    authenticate(creds: Credentials, log: FastifyBaseLogger): Promise<{ principal: Principal } | { refused: string }>;
  }
}

const uuid = z.uuid();

// Routes that answer without a token.
const PUBLIC = [/^\/healthz$/, /^\/readyz$/, /^\/metrics$/, /^\/docs(\/|$)/, /^\/graphiql(\/|$)/, /^\/favicon\.ico$/];

/**
 * What a caller presents: `X-API-Key: keel_…`, or `Authorization: Bearer keel_…` (a JWT never starts
 * with `keel_`), or `Authorization: Bearer <JWT>`. A request may present one credential only.
 */
export type Credentials = { authorization?: unknown; 'x-api-key'?: unknown };

export function isPublic(url: string): boolean {
  const path = url.split('?')[0] ?? url;
  return PUBLIC.some((re) => re.test(path));
}

export const authPlugin = fp(
  async (app: FastifyInstance, opts: { config: Config }) => {
    const { jwt } = opts.config;
    await app.register(fastifyJwt, {
      secret: jwt.secret,
      sign: {
        algorithm: 'HS256',
        expiresIn: jwt.ttlSeconds * 1000,
        ...(jwt.issuer ? { iss: jwt.issuer } : {}),
        ...(jwt.audience ? { aud: jwt.audience } : {}),
      },
      // The verifier is pinned: HS256 only, exp and sub required, iss/aud when configured.
      // allowedIss/allowedAud only judge a claim that is present, so a configured one is also required.
      // A token verified once is reused for up to a minute (fast-jwt's cache: at most 1 000 tokens,
      // keyed by the token's SHA-256, never past its own exp or before its nbf; refusals are not
      // cached). Who the token's subject is and whether it is still active is the principal's
      // business, reloaded every PRINCIPAL_CACHE_MS: a deactivated user is refused as before.
      verify: {
        cache: 1000,
        cacheTTL: 60_000,
        algorithms: ['HS256'],
        requiredClaims: ['exp', 'sub', ...(jwt.issuer ? ['iss'] : []), ...(jwt.audience ? ['aud'] : [])],
        ...(jwt.issuer ? { allowedIss: jwt.issuer } : {}),
        ...(jwt.audience ? { allowedAud: jwt.audience } : {}),
      },
    });

    // Tokens of an external identity provider, when JWT_JWKS_URL is set; Keel's own HS256 tokens stay valid.
    // Its verifier (and jose) is loaded only then.
    const external = opts.config.externalJwt ? (await import('../lib/external-jwt.js')).createExternalVerifier(opts.config.externalJwt) : null;

    app.decorateRequest('principal', null as unknown as Principal);

    const refuse = (request: FastifyRequest, reply: FastifyReply, detail: string) => {
      const err = new AppError('UNAUTHENTICATED', detail);
      reply.header('www-authenticate', 'Bearer');
      if ((request.url.split('?')[0] ?? '') === '/graphql') {
        return reply.code(401).send({ data: null, errors: [{ message: detail, extensions: { code: 'UNAUTHENTICATED' } }] });
      }
      return sendProblem(reply, err, request);
    };

    /**
     * Who presents these credentials (as request headers carry them: `authorization` and
     * `x-api-key`), or why they are refused. The HTTP doors and the GraphQL subscription door
     * (`connection_init`) both come through here.
     */
    async function authenticate(creds: Credentials, log: FastifyBaseLogger): Promise<{ principal: Principal } | { refused: string }> {
      const header = typeof creds['x-api-key'] === 'string' && creds['x-api-key'].length > 0 ? creds['x-api-key'].slice(0, 200) : null;
      const auth = typeof creds.authorization === 'string' ? creds.authorization : undefined;
      const apiKey = header ?? (auth?.startsWith(`Bearer ${KEY_PREFIX}`) ? auth.slice('Bearer '.length, 'Bearer '.length + 200) : null);
      const bearer = auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length).trim() : null;
      if (!auth && apiKey === null) return { refused: 'a bearer token or an API key is required' };
      let sub: unknown;
      if (apiKey !== null) {
        // A machine client's key: found by prefix, compared by hash; revoked or expired keys fail here.
        const found = await app.services.apiKeys.authenticate(apiKey);
        if (!found) return { refused: 'the API key is invalid, expired or revoked' };
        sub = found.userId;
      } else if (external && bearer !== null && external.claims(bearer)) {
        // A token of the external identity provider (an asymmetric algorithm it may use).
        const { identity, reason } = await external.verify(bearer);
        if (!identity) {
          log.info({ reason }, 'external token refused');
          return { refused: 'the bearer token is invalid or expired' };
        }
        sub = identity.by === 'id' ? identity.value : await userIdByEmail(app.database.db, identity.value);
        if (sub === null) return { refused: 'the user is unknown or deactivated' };
      } else {
        if (bearer === null) return { refused: 'the bearer token is invalid or expired' };
        try {
          sub = app.jwt.verify<{ sub?: unknown }>(bearer).sub;
        } catch {
          return { refused: 'the bearer token is invalid or expired' };
        }
      }
      const parsed = uuid.safeParse(sub);
      if (!parsed.success) return { refused: 'the bearer token is invalid or expired' };
      let principal = app.principals.get(parsed.data);
      if (!principal) {
        principal = await loadPrincipal(app.database.db, parsed.data);
        if (principal) app.principals.set(parsed.data, principal);
      }
      if (!principal || !principal.active) return { refused: 'the user is unknown or deactivated' };
      // API keys belong to SERVICE users only; a key left on a user turned HUMAN no longer works.
      if (apiKey !== null && principal.kind !== 'SERVICE') return { refused: 'the API key is invalid, expired or revoked' };
      // The cached principal is shared by concurrent requests: each request gets its own copy to mark.
      return { principal: { ...principal } };
    }
    app.decorate('authenticate', authenticate);

    app.addHook('onRequest', async (request, reply) => {
      // Unknown routes answer 404 whoever asks; public routes need no token.
      if (isPublic(request.url) || request.routeOptions.url === undefined) return;
      // A WebSocket upgrade of the GraphQL door (a real HTTP upgrade, which can only become a
      // graphql-ws connection) authenticates in its `connection_init` message, as browsers cannot set
      // headers on a WebSocket.
      if (request.method === 'GET' && (request.raw as { upgrade?: boolean }).upgrade === true && request.routeOptions.url === '/graphql') return;
      const r = await authenticate({ authorization: request.headers.authorization, 'x-api-key': request.headers['x-api-key'] }, request.log);
      if ('refused' in r) return refuse(request, reply, r.refused);
      const principal = r.principal;
      principal.requestId = request.id;
      principal.client = String(request.headers['user-agent'] ?? '').slice(0, 200) || undefined;
      request.principal = principal;
    });
  },
  { name: 'keel-auth', dependencies: ['keel-errors'] },
);
