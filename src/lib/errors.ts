export type FieldError = { path: string; message: string };

// One error type for the whole service; each code maps once to HTTP and once to GraphQL.
export type ErrorCode =
  | 'VALIDATION_FAILED'
  | 'UNAUTHENTICATED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'METHOD_NOT_ALLOWED'
  | 'REQUEST_TIMEOUT'
  | 'CONFLICT'
  | 'DUPLICATE_CUSTOMER'
  | 'PRECONDITION_FAILED'
  | 'IDEMPOTENCY_KEY_REUSED'
  | 'IDEMPOTENCY_IN_PROGRESS'
  | 'UNPROCESSABLE'
  | 'PAYLOAD_TOO_LARGE'
  | 'UNSUPPORTED_MEDIA_TYPE'
  | 'HEADERS_TOO_LARGE'
  | 'UNAVAILABLE'
  | 'INTERNAL';

type Mapping = { status: number; title: string; graphql: string };

export const ERROR_MAP: Record<ErrorCode, Mapping> = {
  VALIDATION_FAILED: { status: 400, title: 'Invalid request', graphql: 'BAD_USER_INPUT' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required', graphql: 'UNAUTHENTICATED' },
  FORBIDDEN: { status: 403, title: 'Forbidden', graphql: 'FORBIDDEN' },
  NOT_FOUND: { status: 404, title: 'Not found', graphql: 'NOT_FOUND' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed', graphql: 'BAD_USER_INPUT' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request timeout', graphql: 'BAD_USER_INPUT' },
  CONFLICT: { status: 409, title: 'Conflict', graphql: 'CONFLICT' },
  DUPLICATE_CUSTOMER: { status: 409, title: 'Possible duplicate customer', graphql: 'CONFLICT' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition failed', graphql: 'PRECONDITION_FAILED' },
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused with a different request', graphql: 'BAD_USER_INPUT' },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, title: 'A request with this idempotency key is in progress', graphql: 'CONFLICT' },
  UNPROCESSABLE: { status: 422, title: 'Unprocessable request', graphql: 'BAD_USER_INPUT' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large', graphql: 'BAD_USER_INPUT' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type', graphql: 'BAD_USER_INPUT' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large', graphql: 'BAD_USER_INPUT' },
  UNAVAILABLE: { status: 503, title: 'Service unavailable', graphql: 'UNAVAILABLE' },
  INTERNAL: { status: 500, title: 'Internal error', graphql: 'INTERNAL_SERVER_ERROR' },
};

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly errors: FieldError[] | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, detail: string, opts: { errors?: FieldError[]; extra?: Record<string, unknown> } = {}) {
    super(detail);
    this.name = 'AppError';
    this.code = code;
    this.errors = opts.errors;
    this.extra = opts.extra;
  }

  get status(): number {
    return ERROR_MAP[this.code].status;
  }
}

export const notFound = (what: string) => new AppError('NOT_FOUND', `${what} not found`);
// An error about one field: the detail names it, and `errors` carries it for clients to match on.
export const fieldError = (code: ErrorCode, path: string, message: string) =>
  new AppError(code, `${path}: ${message}`, { errors: [{ path, message }] });

export type Problem = {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: ErrorCode;
  errors?: FieldError[];
  [k: string]: unknown;
};

export function toProblem(err: AppError, instance?: string): Problem {
  const m = ERROR_MAP[err.code];
  return {
    type: `https://keel.dev/problems/${err.code.toLowerCase().replaceAll('_', '-')}`,
    title: m.title,
    status: m.status,
    detail: err.message,
    code: err.code,
    ...(instance ? { instance } : {}),
    ...(err.errors ? { errors: err.errors } : {}),
    ...(err.extra ?? {}),
  };
}

// PostgreSQL conditions that are the caller's to retry or resolve, not the server's fault.
// drizzle wraps driver errors, so the SQLSTATE may sit on the error or on its cause.
const RETRYABLE_SQLSTATES: Record<string, string> = {
  '40001': 'a concurrent change got in the way; retry the request',
  '40P01': 'a concurrent change got in the way; retry the request',
  '55P03': 'the record is locked by another request; retry the request',
};

export function fromDatabaseError(err: unknown): AppError | null {
  for (let e: unknown = err, depth = 0; e && depth < 3; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code !== 'string') continue;
    const retry = RETRYABLE_SQLSTATES[code];
    if (retry) return new AppError('CONFLICT', retry);
    if (code === '23505') return new AppError('CONFLICT', 'the record conflicts with an existing one');
  }
  return null;
}

// Optimistic concurrency, the same for every record: If-Match (or expectedVersion) against the
// stored version, and the compare-and-set that lost a race.
export function checkVersion(expected: number | undefined, actual: number): void {
  if (expected !== undefined && expected !== actual) {
    throw new AppError('PRECONDITION_FAILED', `the record is at version ${actual}, not ${expected}`, { extra: { currentVersion: actual } });
  }
}

export const staleWrite = () => new AppError('PRECONDITION_FAILED', 'the record changed while this request ran; reload and retry');
