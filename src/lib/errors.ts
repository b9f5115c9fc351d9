export type FieldError = { path: string; message: string };

// One error type for the whole service; each code maps once to HTTP and once to GraphQL.
// General codes name the class of fault; every refusal of a domain rule has a specific code of its
// own, so clients match on a code, never on English text. GraphQL answers carry the general class
// in `extensions.code` and the code itself in `extensions.reason`.
type Mapping = { status: number; title: string; graphql: string };

export const ERROR_MAP = {
  VALIDATION_FAILED: { status: 400, title: 'Invalid request', graphql: 'BAD_USER_INPUT' },
  UNAUTHENTICATED: { status: 401, title: 'Authentication required', graphql: 'UNAUTHENTICATED' },
  FORBIDDEN: { status: 403, title: 'Forbidden', graphql: 'FORBIDDEN' },
  NOT_FOUND: { status: 404, title: 'Not found', graphql: 'NOT_FOUND' },
  METHOD_NOT_ALLOWED: { status: 405, title: 'Method not allowed', graphql: 'BAD_USER_INPUT' },
  REQUEST_TIMEOUT: { status: 408, title: 'Request timeout', graphql: 'BAD_USER_INPUT' },
  CONFLICT: { status: 409, title: 'Conflict', graphql: 'CONFLICT' },
  PRECONDITION_FAILED: { status: 412, title: 'Precondition failed', graphql: 'PRECONDITION_FAILED' },
  PAYLOAD_TOO_LARGE: { status: 413, title: 'Payload too large', graphql: 'BAD_USER_INPUT' },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, title: 'Unsupported media type', graphql: 'BAD_USER_INPUT' },
  UNPROCESSABLE: { status: 422, title: 'Unprocessable request', graphql: 'BAD_USER_INPUT' },
  RATE_LIMITED: { status: 429, title: 'Too many requests', graphql: 'RATE_LIMITED' },
  HEADERS_TOO_LARGE: { status: 431, title: 'Request header fields too large', graphql: 'BAD_USER_INPUT' },
  INTERNAL: { status: 500, title: 'Internal error', graphql: 'INTERNAL_SERVER_ERROR' },
  UNAVAILABLE: { status: 503, title: 'Service unavailable', graphql: 'UNAVAILABLE' },

  // Platform
  IDEMPOTENCY_KEY_REUSED: { status: 422, title: 'Idempotency key reused with a different request', graphql: 'BAD_USER_INPUT' },
  IDEMPOTENCY_IN_PROGRESS: { status: 409, title: 'A request with this idempotency key is in progress', graphql: 'CONFLICT' },

  // Customers
  DUPLICATE_CUSTOMER: { status: 409, title: 'Possible duplicate customer', graphql: 'CONFLICT' },
  CUSTOMER_MERGED: { status: 409, title: 'The customer is merged', graphql: 'CONFLICT' },
  CUSTOMER_FROZEN: { status: 409, title: 'The customer is frozen', graphql: 'CONFLICT' },

  // Integration
  EXTERNAL_ID_TAKEN: { status: 409, title: 'The external id is held by another record', graphql: 'CONFLICT' },

  // Lifecycle and handoffs
  LIFECYCLE_UNCHANGED: { status: 422, title: 'The customer already stands at that stage', graphql: 'BAD_USER_INPUT' },
  NOT_A_LEAD: { status: 422, title: 'Only a suspect or prospect can be handed off', graphql: 'BAD_USER_INPUT' },
  HANDOFF_ALREADY_PENDING: { status: 409, title: 'The customer already has a pending handoff', graphql: 'CONFLICT' },
  HANDOFF_NOT_PENDING: { status: 409, title: 'The handoff is no longer pending', graphql: 'CONFLICT' },
  NOT_HANDOFF_RECEIVER: { status: 403, title: 'Only the receiver decides a handoff', graphql: 'FORBIDDEN' },

  // Pipelines and opportunities
  GATE_NOT_MET: { status: 422, title: 'The stage gate is not met', graphql: 'BAD_USER_INPUT' },
  ALREADY_IN_STAGE: { status: 409, title: 'The opportunity is already in that stage', graphql: 'CONFLICT' },
  REOPEN_NEEDS_MANAGER: { status: 403, title: 'Reopening a closed opportunity needs a manager', graphql: 'FORBIDDEN' },
  PIPELINE_HAS_NO_OPEN_STAGE: { status: 409, title: 'The pipeline has no open stage', graphql: 'CONFLICT' },
  STAGE_HAS_OPPORTUNITIES: { status: 409, title: 'The stage still holds opportunities', graphql: 'CONFLICT' },
  STAGE_IN_HISTORY: { status: 409, title: 'The stage appears in recorded transitions', graphql: 'CONFLICT' },

  // Claims (deal registration)
  CLAIMED: { status: 409, title: 'The customer is protected by an approved claim', graphql: 'CONFLICT' },
  CLAIM_EXISTS: { status: 409, title: 'The claim exists already', graphql: 'CONFLICT' },
  CLAIM_NOT_PENDING: { status: 409, title: 'The claim is no longer pending', graphql: 'CONFLICT' },
  // Orders
  ORDER_STATUS_BACKWARD: { status: 409, title: 'An order status moves forward only', graphql: 'CONFLICT' },

  // Organisation
  PARTNER_SCOPE_ALL: { status: 422, title: 'A partner can never have scope ALL', graphql: 'BAD_USER_INPUT' },
  ROOT_UNIT_FIXED: { status: 422, title: 'The headquarters cannot move', graphql: 'BAD_USER_INPUT' },
  UNIT_CYCLE: { status: 422, title: 'A unit cannot move below itself', graphql: 'BAD_USER_INPUT' },
  ROLE_NAME_TAKEN: { status: 409, title: 'A role with this name exists', graphql: 'CONFLICT' },
  BUILT_IN_ROLE_FIXED: { status: 422, title: 'The name and scope of a built-in role are fixed', graphql: 'BAD_USER_INPUT' },
  PARTNER_ROLES_FIXED: { status: 403, title: 'Roles are managed by the company', graphql: 'FORBIDDEN' },
  EMAIL_TAKEN: { status: 409, title: 'A user with this email exists', graphql: 'CONFLICT' },
  SELF_DEACTIVATION: { status: 422, title: 'A user cannot deactivate itself', graphql: 'BAD_USER_INPUT' },
  USER_HOLDS_RECORDS: { status: 409, title: 'The user still holds records', graphql: 'CONFLICT' },
  DELEGATION_CROSSES_PARTNER: { status: 422, title: 'A delegation never crosses a partner boundary', graphql: 'BAD_USER_INPUT' },
  UNIT_HAS_NO_MANAGER: { status: 422, title: 'The unit has no active manager', graphql: 'BAD_USER_INPUT' },
} as const satisfies Record<string, Mapping>;

export type ErrorCode = keyof typeof ERROR_MAP;

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
