import type { onRouteHookHandler, preValidationAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import { AppError } from './errors.js';

// ---- input rules shared by every module (README "Input rules") ----------------------------------

// One rule for control characters, in every string the API takes: C0 controls other than tab, line
// feed and carriage return, and DEL, are refused. U+0000 cannot be stored in a PostgreSQL text value at
// all (a 500 before this rule); the others never mean anything in a record's text and are invisible in
// most clients.
export const CONTROL_CHARACTERS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;
const NO_CONTROL_CHARACTERS = /^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]*$/;
export const CONTROL_CHARACTERS_MESSAGE = 'must not contain control characters';

/** The base of every free-text input: a string without control characters (checked before trimming). */
export const safeString = () => z.string().regex(NO_CONTROL_CHARACTERS, CONTROL_CHARACTERS_MESSAGE);

/** Free text, trimmed, possibly empty. */
export const text = (max: number) => safeString().trim().max(max);

/** Required text: trimmed, at least one character. */
export const trimmed = (max: number) => text(max).min(1);

// The storable and plausible range of every date and time the API takes: years 1900 to 9999, as UTC
// instants. PostgreSQL has no year 0000, and an instant past 9999 (9999-12-31T23:00:00-05:00) could not
// be written back as an RFC 3339 time with a four-digit year.
export const EARLIEST_INSTANT = '1900-01-01T00:00:00.000Z';
export const LATEST_INSTANT = '9999-12-31T23:59:59.999Z';
const EARLIEST_MS = Date.parse(EARLIEST_INSTANT);
const LATEST_MS = Date.parse(LATEST_INSTANT);
export const DATE_RANGE_MESSAGE = 'must be between 1900-01-01 and 9999-12-31 (UTC)';
const inRange = (ms: number) => ms >= EARLIEST_MS && ms <= LATEST_MS;

/** An RFC 3339 time with an offset, within the storable range. Also the shape of every time answered. */
// The range is judged only of a well-formed value: one fault, one error.
const wellFormed = { when: (payload: { issues: readonly unknown[] }) => payload.issues.length === 0 };
export const timestamp = z.iso.datetime({ offset: true }).refine((v) => inRange(Date.parse(v)), { message: DATE_RANGE_MESSAGE, ...wellFormed });

/** A calendar day (2025-03-01), within the storable range. */
export const isoDate = z.iso.date().refine((v) => inRange(Date.parse(`${v}T00:00:00Z`)), { message: DATE_RANGE_MESSAGE, ...wellFormed });

// Every /v1 route without query parameters of its own gets this one: an unknown parameter is refused,
// never ignored (`POST …/transitions?dryRun=true` must not move anything).
export const noQuery = z.object({}).strict();

/**
 * onRoute hook of the /v1 scope: every route gets a querystring schema (noQuery when it declares
 * none), and a query parameter the schema does not name is refused before anything else is looked
 * at, with one error per parameter; validation alone would report a faulty body first.
 */
export const onlyDeclaredQuery: onRouteHookHandler = (route) => {
  const querystring: unknown = route.schema?.querystring ?? noQuery;
  route.schema = { ...route.schema, querystring };
  if (!(querystring instanceof z.ZodObject)) return;
  const declared = new Set(Object.keys(querystring.shape));
  const refuseUnknown: preValidationAsyncHookHandler = async (request) => {
    const unknown = Object.keys(request.query as object).filter((k) => !declared.has(k));
    if (unknown.length === 0) return;
    throw new AppError('VALIDATION_FAILED', `${unknown[0]}: unknown query parameter`, {
      errors: unknown.map((path) => ({ path, message: 'unknown query parameter' })),
      extra: { in: 'querystring' },
    });
  };
  const existing = route.preValidation;
  route.preValidation = [refuseUnknown, ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing])];
};

// ---- shared shapes ------------------------------------------------------------------------------

export const uuid = z.uuid();
export const idParams = z.object({ id: z.uuid() }).strict();
/** A list's answer: one page, the cursor of the next, and with `count=true` the rows of all its pages. */
export const page = <T extends z.ZodType>(item: T) =>
  z.object({ data: z.array(item), nextCursor: z.string().nullable(), totalCount: z.number().int().min(0).optional() });

const problemError = z.object({ path: z.string(), message: z.string() });
export const problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    instance: z.string().optional(),
    errors: z.array(problemError).optional(),
  })
  .loose()
  .meta({ id: 'Problem' });

// Standard error answers documented on every route.
export const errorResponses = {
  400: problem,
  401: problem,
  403: problem,
  404: problem,
  409: problem,
  412: problem,
  422: problem,
};


// A yes/no query parameter: "true" or "false" in a query string, a Boolean where GraphQL passes one.
export const queryFlag = z
  .preprocess((v) => (typeof v === 'boolean' ? String(v) : v), z.enum(['true', 'false']))
  .transform((v) => v === 'true');

/**
 * `include`: optional parts of an answer, comma-separated (`include=viewerCan`) or repeated. A value
 * the route does not know is refused rather than ignored, so a typo never looks like "nothing to add".
 */
export const includeParam = <const T extends readonly [string, ...string[]]>(values: T) =>
  z.preprocess((v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()) : v), z.array(z.enum(values)).min(1).max(values.length * 2));
