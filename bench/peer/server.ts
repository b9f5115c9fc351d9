import './polyfill.js';
import { createVerifier } from 'fast-jwt';
import Fastify from 'fastify';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/fastify/v5';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { PEER_VISITOR_ROLE } from './policies.js';

// The peer: PostGraphile 5 over the bench database, configured as its documentation recommends for
// production — the Amber preset, the Fastify adaptor of grafserv, no GraphiQL, no explain, no
// watch mode, a pg pool of the app's size (10). The caller's persona travels in the same HS256 token
// the app accepts; it becomes per-request pgSettings: `SET LOCAL role` to the RLS-bound visitor
// role and `jwt.claims.sub`, which the policies (policies.ts) read. Started by bench/run.ts.

const url = process.env.DATABASE_URL;
const secret = process.env.JWT_SECRET;
if (!url || !secret) {
  console.error('peer: DATABASE_URL (the peer login role) and JWT_SECRET are required');
  process.exit(2);
}
const verify = createVerifier({ key: secret, algorithms: ['HS256'] });

const preset: GraphileConfig.Preset = {
  extends: [PostGraphileAmberPreset],
  pgServices: [makePgService({ connectionString: url, schemas: ['public'], poolConfig: { max: Number(process.env.DB_POOL_SIZE ?? 10) } })],
  grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false, websockets: false },
  grafast: {
    explain: false,
    context(requestContext) {
      const header = requestContext.http?.getHeader('authorization') ?? '';
      const token = /^Bearer (.+)$/i.exec(header)?.[1];
      // No token: the visitor role with no subject, for whom the policies show nothing.
      const sub = token ? String((verify(token) as { sub?: unknown }).sub ?? '') : '';
      return { pgSettings: { role: PEER_VISITOR_ROLE, 'jwt.claims.sub': sub } };
    },
  },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const app = Fastify({ logger: false });
app.get('/peer/ready', async () => ({ ok: true }));
await serv.addTo(app);
// Build the schema before answering the readiness probe (the harness waits on /peer/ready).
await pgl.getSchema();
await app.listen({ host: process.env.HOST ?? '127.0.0.1', port: Number(process.env.PORT ?? 0) });

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.on(sig, () => {
    void app
      .close()
      .then(() => pgl.release())
      .finally(() => process.exit(0));
  });
}
