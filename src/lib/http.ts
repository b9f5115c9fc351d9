import type { FastifyReply } from 'fastify';
import { AppError } from './errors.js';

// If-Match: "<version>" (weak or strong, or *). Returns the expected version, if any.
export function parseIfMatch(header: string | string[] | undefined): number | undefined {
  if (header === undefined) return undefined;
  const raw = (Array.isArray(header) ? header[0] : header)?.trim() ?? '';
  if (raw === '*') return undefined;
  // Quotes balanced or absent (a bare number is tolerated): `"3` is malformed, not version 3.
  const m = /^(?:W\/)?(?:"(\d{1,9})"|(\d{1,9}))$/.exec(raw);
  const version = m?.[1] ?? m?.[2];
  if (!version) {
    throw new AppError('VALIDATION_FAILED', 'If-Match: expected "<version>" as returned in ETag', {
      errors: [{ path: 'If-Match', message: 'expected "<version>"' }],
    });
  }
  return Number(version);
}

export function withEtag<T extends { version: number }>(reply: FastifyReply, body: T): T {
  reply.header('etag', `"${body.version}"`);
  return body;
}
