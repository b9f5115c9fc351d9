import type { FastifyReply } from 'fastify';
import { AppError } from './errors.js';

// If-Match: "<version>" (weak or strong, or *). Returns the expected version, if any.
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const raw = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  if (raw === '*') return undefined;
  const m = /^(?:W\/)?"?(\d{1,9})"?$/.exec(raw);
  if (!m?.[1]) {
    throw new AppError('VALIDATION_FAILED', 'If-Match: expected "<version>" as returned in ETag', {
      errors: [{ path: 'If-Match', message: 'expected "<version>"' }],
    });
  }
  return Number(m[1]);
}

export function withEtag<T extends { version: number }>(reply: FastifyReply, body: T): T {
  reply.header('etag', `"${body.version}"`);
  return body;
}
