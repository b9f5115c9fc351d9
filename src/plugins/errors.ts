import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { AppError, fromDatabaseError, toProblem } from '../lib/errors.js';
import { fieldErrors, type ZodIssueLike } from '../lib/validation.js';

export function fromFastifyError(err: FastifyError): AppError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('VALIDATION_FAILED', 'the body is not valid JSON', { errors: [{ path: 'body', message: 'malformed JSON' }] });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'the body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    default:
      break;
  }
  if (err.statusCode === 413) return new AppError('PAYLOAD_TOO_LARGE', 'the body is larger than the server accepts');
  if (err.statusCode === 415) return new AppError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
  if (err.statusCode === 401) return new AppError('UNAUTHENTICATED', 'a valid bearer token is required');
  if (err.statusCode === 400) return new AppError('VALIDATION_FAILED', 'the request is malformed', { errors: [{ path: 'request', message: 'malformed request' }] });
  return null;
}

export function sendProblem(reply: FastifyReply, err: AppError, request?: FastifyRequest): FastifyReply {
  const retryAfter = err.extra?.retryAfterSeconds;
  if (typeof retryAfter === 'number') reply.header('retry-after', String(retryAfter));
  return reply
    .code(err.status)
    .type('application/problem+json')
    .send(toProblem(err, request?.url));
}

export function toAppError(err: unknown, request: FastifyRequest): AppError {
  if (err instanceof AppError) return err;
  const fe = err as FastifyError;
  if (hasZodFastifySchemaValidationErrors(fe)) {
    const issues: ZodIssueLike[] = fe.validation.map((v) => ({
      code: v.keyword,
      message: v.message ?? 'invalid',
      path: v.instancePath.split('/').filter(Boolean),
      keys: (v.params as { keys?: string[] }).keys,
    }));
    const errors = fieldErrors(issues);
    const first = errors[0];
    return new AppError('VALIDATION_FAILED', first ? `${first.path}: ${first.message}` : 'invalid request', {
      errors,
      extra: { in: fe.validationContext ?? 'body' },
    });
  }
  if (fe.code === 'FST_ERR_RESPONSE_SERIALIZATION' && isResponseSerializationError(fe)) {
    request.log.error({ err: fe, issues: (fe.cause as { issues?: unknown }).issues }, 'response failed its schema');
    return new AppError('INTERNAL', 'the server could not complete the request');
  }
  const mapped = fromFastifyError(fe) ?? fromDatabaseError(err);
  if (mapped) return mapped;
  request.log.error({ err }, 'unhandled error');
  return new AppError('INTERNAL', 'the server could not complete the request');
}

// RFC 9457 problem+json for every error, including unknown routes; 5xx never shows internals.
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    app.setErrorHandler((err, request, reply) => sendProblem(reply, toAppError(err, request), request));
    app.setNotFoundHandler((request, reply) =>
      sendProblem(reply, new AppError('NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`), request),
    );
  },
  { name: 'keel-errors' },
);
