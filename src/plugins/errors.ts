import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import FindMyWay from 'find-my-way';
import { AppError, fromDatabaseError, toProblem } from '../lib/errors.js';
import { fieldErrors, type ZodIssueLike } from '../lib/validation.js';

// Fastify's router limit on one path parameter (its default `maxParamLength`).
export const MAX_PARAM_LENGTH = 100;

const urlError = (message: string) => new AppError('VALIDATION_FAILED', `url: ${message}`, { errors: [{ path: 'url', message }], extra: { in: 'url' } });
const headerError = (header: string, message: string) =>
  new AppError('VALIDATION_FAILED', `${header}: ${message}`, { errors: [{ path: header, message }], extra: { in: 'headers' } });

// Every error Fastify raises itself, mapped to the caller's fault it describes; the FST_ codes and
// Fastify's own wording never reach the caller.
export function fromFastifyError(err: FastifyError): AppError | null {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return new AppError('VALIDATION_FAILED', 'the body is not valid JSON', { errors: [{ path: 'body', message: 'malformed JSON' }] });
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('PAYLOAD_TOO_LARGE', 'the body is larger than the server accepts');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return headerError('content-length', 'does not match the length of the body');
    case 'FST_ERR_BAD_URL':
      return urlError('not a valid URL (bad percent-encoding)');
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return urlError(`a path segment is longer than ${MAX_PARAM_LENGTH} characters`);
    case 'FST_ERR_NOT_FOUND':
      return new AppError('NOT_FOUND', 'no such route');
    default:
      break;
  }
  switch (err.statusCode) {
    case 401:
      return new AppError('UNAUTHENTICATED', 'a valid bearer token is required');
    case 404:
      return new AppError('NOT_FOUND', 'no such route');
    case 405:
      return new AppError('METHOD_NOT_ALLOWED', 'the method is not allowed on this path');
    case 408:
      return new AppError('REQUEST_TIMEOUT', 'the request took too long to arrive');
    case 413:
      return new AppError('PAYLOAD_TOO_LARGE', 'the body is larger than the server accepts');
    case 415:
      return new AppError('UNSUPPORTED_MEDIA_TYPE', 'send application/json');
    case 431:
      return new AppError('HEADERS_TOO_LARGE', 'the request headers are larger than the server accepts');
    case 503:
      return new AppError('UNAVAILABLE', 'the service is not available; retry later');
    default:
      break;
  }
  // Any other refusal of the request by the framework: the caller's fault, described without internals.
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
    return new AppError('VALIDATION_FAILED', 'the request is malformed', { errors: [{ path: 'request', message: 'malformed request' }] });
  }
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

/**
 * Errors Node's HTTP parser raises before Fastify sees a request (headers over the limit, a
 * malformed request line, a request too slow to arrive): written on the socket as problem+json.
 * Passed to Fastify as `clientErrorHandler`.
 */
export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const appErr =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? new AppError('HEADERS_TOO_LARGE', 'the request headers are larger than the server accepts')
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? new AppError('REQUEST_TIMEOUT', 'the request took too long to arrive')
        : new AppError('VALIDATION_FAILED', 'the request is not valid HTTP', { errors: [{ path: 'request', message: 'malformed HTTP request' }] });
  this.log.debug({ err }, 'client error');
  if (socket.writable) {
    const body = JSON.stringify(toProblem(appErr));
    socket.write(
      `HTTP/1.1 ${appErr.status} ${STATUS_CODES[appErr.status] ?? 'Error'}\r\n` +
        `Content-Type: application/problem+json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}

// Passed to Fastify as `frameworkErrors`: what its router refuses before any route or hook runs.
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  void sendProblem(reply, toAppError(err, request), request);
}

type Method = FindMyWay.HTTPMethod;
const METHODS: Method[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

// RFC 9457 problem+json for every error, including unknown routes; 5xx never shows internals.
export const errorsPlugin = fp(
  async (app: FastifyInstance) => {
    // A copy of the route table, to tell "no such path" (404) from "not this method" (405 with
    // Allow): Fastify's own lookups (hasRoute, findRoute) take a route pattern, not a request URL.
    const routes = FindMyWay({ maxParamLength: MAX_PARAM_LENGTH });
    app.addHook('onRoute', (route) => {
      // The catch-all OPTIONS route answers CORS preflights for every path; it does not make a path known.
      if (route.url === '*') return;
      for (const m of Array.isArray(route.method) ? route.method : [route.method]) {
        const method = m.toUpperCase() as Method;
        if (!routes.hasRoute(method, route.url)) routes.on(method, route.url, () => undefined);
      }
    });
    const allowed = (path: string): Method[] => METHODS.filter((m) => routes.find(m, path) !== null);

    app.setErrorHandler((err, request, reply) => sendProblem(reply, toAppError(err, request), request));
    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0] ?? request.url;
      const methods = allowed(path);
      if (methods.length > 0) {
        reply.header('allow', methods.join(', '));
        return sendProblem(reply, new AppError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; allowed: ${methods.join(', ')}`), request);
      }
      return sendProblem(reply, new AppError('NOT_FOUND', `no route ${request.method} ${path}`), request);
    });
  },
  { name: 'keel-errors' },
);
