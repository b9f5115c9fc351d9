import { chmodSync, unlinkSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { createSigner, createVerifier } from 'fast-jwt';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../config.js';
import { controlSocketPath } from '../db/embedded-lock.js';

/**
 * The embedded database belongs to one process. While the server holds it, the command-line tools
 * that need the database (`token`, `seed:demo`) ask the server to do the work, over a socket inside
 * the data directory. Two things are needed to be answered, exactly what running the tool against
 * the directory itself needs: access to the directory (the socket is there, mode 0600) and the
 * JWT secret (each request carries a short-lived proof signed with it). Nothing listens on the network.
 */
export type ControlCommand = 'token' | 'seed-demo';
export type ControlReply = { status: number; body: unknown };

const PURPOSE = 'keel-local-control';
const COMMANDS: readonly ControlCommand[] = ['token', 'seed-demo'];
const MAX_BODY = 16 * 1024;

/** Sends a command to the process holding the directory; null when nothing answers there. */
export async function askRunningServer(config: Pick<Config, 'dataDir' | 'jwt'>, command: ControlCommand, body: unknown): Promise<ControlReply | null> {
  const proof = createSigner({ key: config.jwt.secret, algorithm: 'HS256', expiresIn: 60_000 })({ purpose: PURPOSE, cmd: command });
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        socketPath: controlSocketPath(config.dataDir),
        method: 'POST',
        path: `/${command}`,
        headers: { authorization: `Bearer ${proof}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (text += chunk));
        res.on('end', () => {
          try {
            resolve({ status: res.statusCode ?? 500, body: JSON.parse(text) as unknown });
          } catch {
            reject(new Error('the running server gave an unreadable answer'));
          }
        });
      },
    );
    // No socket, or one a dead process left: nobody to ask.
    req.on('error', (err: NodeJS.ErrnoException) => (['ENOENT', 'ECONNREFUSED', 'ENOTSOCK'].includes(err.code ?? '') ? resolve(null) : reject(err)));
    req.end(payload);
  });
}

type Handler = (app: FastifyInstance, body: Record<string, unknown>) => Promise<ControlReply>;

const handlers: Record<ControlCommand, Handler> = {
  async token(app, body) {
    const { findTokenUser, refusal, signToken } = await import('../cli/token-user.js');
    const email = typeof body.email === 'string' ? body.email : '';
    const user = await findTokenUser(app.database.db, email);
    const why = refusal(email, user);
    return why || !user ? { status: 404, body: { error: why } } : { status: 200, body: { token: signToken(app.config.jwt, user.id) } };
  },
  async 'seed-demo'(app) {
    const { seedDemo } = await import('../cli/seed-demo/index.js');
    return { status: 200, body: await seedDemo(app) };
  },
};

function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => {
      text += chunk;
      if (text.length > MAX_BODY) req.destroy(new Error('request too large'));
    });
    req.on('end', () => {
      try {
        const parsed = JSON.parse(text || '{}') as unknown;
        resolve(typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : {});
      } catch {
        reject(new Error('the request is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function send(res: ServerResponse, reply: ControlReply): void {
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

export const localControlPlugin = fp(
  async (app: FastifyInstance, opts: { dataDir: string }) => {
    const path = controlSocketPath(opts.dataDir);
    const verify = createVerifier({ key: app.config.jwt.secret, algorithms: ['HS256'], requiredClaims: ['exp', 'purpose', 'cmd'] });
    // One command at a time: two seeds at once would both find the demo company missing.
    let queue: Promise<unknown> = Promise.resolve();

    const server = createServer((req, res) => {
      const command = (req.url ?? '').slice(1) as ControlCommand;
      void (async () => {
        try {
          const claims = (() => {
            try {
              return verify(String(req.headers.authorization ?? '').replace(/^Bearer /, '')) as { purpose?: unknown; cmd?: unknown };
            } catch {
              return null;
            }
          })();
          if (req.method !== 'POST' || !COMMANDS.includes(command)) return send(res, { status: 404, body: { error: 'no such command' } });
          if (!claims || claims.purpose !== PURPOSE || claims.cmd !== command) return send(res, { status: 401, body: { error: 'the request is not signed with this server JWT_SECRET' } });
          const body = await readBody(req);
          const run = queue.then(() => handlers[command](app, body));
          queue = run.catch(() => undefined);
          send(res, await run);
        } catch (err) {
          app.log.error({ err, command }, 'local control command failed');
          send(res, { status: 500, body: { error: (err as Error).message } });
        }
      })();
    });

    // The lock is this process's, so a socket file here is one a dead holder left behind.
    if (process.platform !== 'win32') {
      try {
        unlinkSync(path);
      } catch {
        // none there
      }
    }
    try {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(path, () => {
          server.off('error', reject);
          resolve();
        });
      });
      if (process.platform !== 'win32') chmodSync(path, 0o600);
    } catch (err) {
      // The API works without it; only the tools must then wait for the server to stop.
      app.log.warn({ err, path }, 'the control socket for the command-line tools is not available');
      return;
    }
    // A command under way (a seed) finishes before the database closes.
    app.addHook('preClose', async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      await closed;
    });
  },
  { name: 'keel-local-control' },
);
