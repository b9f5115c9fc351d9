import { z } from 'zod';

const WEAK_SECRETS = new Set(['secret', 'changeme', 'change-me', 'password', 'jwt-secret', 'development']);
const DEV_SECRET = 'keel-development-secret-not-for-production-use';

// An origin as browsers send it: scheme, host and optional port, nothing after.
const ORIGIN = /^https?:\/\/[^/?#\s]+\/?$/;

// Asymmetric algorithms an external provider may sign with; HS* and "none" never come from a JWKS.
export const EXTERNAL_ALGORITHMS = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type ExternalAlgorithm = (typeof EXTERNAL_ALGORITHMS)[number];

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** `5s`, `30m`, `2h`, `1d`, `250ms` in milliseconds; null when it is not such a duration. */
export function durationMs(v: string): number | null {
  const m = /^(\d{1,6})(ms|s|m|h|d)$/.exec(v);
  return m ? Number(m[1]) * (DURATION_UNITS[m[2] as string] ?? 0) : null;
}

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // Only a PostgreSQL URL: anything else would fail later, at the first query, with a less clear message.
  DATABASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// or postgresql:// URL' }).optional()),
  // Behind a transaction-mode pooler (PgBouncer): a direct connection for what needs a session of its own
  // (the migrations' and job queue's session advisory locks, the job queue), and a read replica for reports.
  DATABASE_DIRECT_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// or postgresql:// URL' }).optional()),
  DATABASE_READ_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// or postgresql:// URL' }).optional()),
  // Reports read the replica only while it is at most this far behind the primary (else the primary).
  DATABASE_READ_MAX_LAG_MS: z.coerce.number().int().min(0).max(3_600_000).default(5000),
  // Named (server-side) prepared statements; off behind a pooler that cannot keep them (PgBouncer < 1.21 in transaction mode).
  DB_PREPARED_STATEMENTS: z.preprocess(emptyAsUndefined, z.enum(['true', 'false', '1', '0']).default('true')),
  DATA_DIR: z.string().min(1).default('./data'),
  JWT_SECRET: z.preprocess(emptyAsUndefined, z.string().optional()),
  JWT_ISSUER: z.preprocess(emptyAsUndefined, z.string().optional()),
  JWT_AUDIENCE: z.preprocess(emptyAsUndefined, z.string().optional()),
  JWT_TTL_SECONDS: z.coerce.number().int().positive().default(8 * 3600),
  // An external identity provider: its JWKS, the asymmetric algorithms accepted, the claim naming the user.
  JWT_JWKS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/, error: 'expected an http(s) URL of a JWKS document' }).optional()),
  JWT_ALGORITHMS: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((a) => a.trim()).filter(Boolean) : v),
    z.array(z.enum(EXTERNAL_ALGORITHMS, { error: `expected a comma list of ${EXTERNAL_ALGORITHMS.join(', ')} (symmetric and "none" are never accepted from a provider)` })).min(1).default(['RS256', 'ES256']),
  ),
  JWT_USER_CLAIM: z.enum(['sub', 'email']).default('sub'),
  // The least time between two fetches of the JWKS that an unknown key id may trigger.
  JWT_JWKS_COOLDOWN_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  ADMIN_EMAIL: z.string().email().default('admin@example.com'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  DB_POOL_SIZE: z.coerce.number().int().positive().default(10),
  // How long a request waits for a pooled PostgreSQL connection before it answers 503.
  DB_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(5000),
  // How long a loaded principal (user, unit, roles, delegations) is reused; 0 loads it on every request.
  PRINCIPAL_CACHE_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  // Answers naming protected customers (duplicate matches the caller cannot see) per user and hour.
  DUPLICATE_PROBE_LIMIT_PER_HOUR: z.coerce.number().int().min(0).max(100_000).default(20),
  CLAIM_PROTECTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  ALLOCATION_SLA_HOURS: z.coerce.number().int().min(1).max(24 * 365).default(48),
  // Background jobs (handoff deadline escalations) through the PostgreSQL-backed queue.
  JOBS_ENABLED: z.preprocess(emptyAsUndefined, z.enum(['true', 'false', '1', '0']).default('true')),
  // How often a worker asks the queue for due jobs; pg-boss accepts at least 0.5 s.
  JOBS_POLL_SECONDS: z.coerce.number().min(0.5).max(600).default(2),
  // When the sweep that escalates every overdue handoff runs (cron, minute resolution).
  JOBS_SWEEP_CRON: z.string().trim().regex(/^\S+( \S+){4}$/, 'expected a five-field cron expression').default('* * * * *'),
  // Events and webhooks (docs/events-and-webhooks.md).
  EVENTS_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  EVENTS_PRUNE_CRON: z.string().trim().regex(/^\S+( \S+){4}$/, 'expected a five-field cron expression').default('17 * * * *'),
  WEBHOOK_RETRY_SCHEDULE: z
    .string()
    .default('5s,5m,30m,2h,5h,10h')
    .transform((v, ctx) => {
      const parts = v.split(',').map((x) => x.trim());
      const ms = parts.map(durationMs);
      if (parts.length === 0 || parts.length > 50 || ms.some((x) => x === null)) {
        ctx.addIssue({ code: 'custom', message: 'expected a comma list of durations such as 5s,5m,30m,2h,5h,10h' });
        return z.NEVER;
      }
      return ms as number[];
    }),
  WEBHOOK_ALLOW_PRIVATE: z.preprocess(emptyAsUndefined, z.enum(['true', 'false', '1', '0']).default('false')),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(120_000).default(10_000),
  WEBHOOK_POLL_MS: z.coerce.number().int().min(50).max(600_000).default(1000),
  WEBHOOK_SECRET_OVERLAP_HOURS: z.coerce.number().min(0).max(24 * 30).default(24),
  EVENTS_NATS_URL: z.preprocess(emptyAsUndefined, z.string().regex(/^(nats|tls):\/\/\S+$/, 'expected nats://host:port').optional()),
  // Requests per minute and caller (0 turns the limit off); per-role overrides as `role=n,role=n`.
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(0).max(1_000_000).default(600),
  RATE_LIMIT_ROLES: z.preprocess(
    emptyAsUndefined,
    z
      .string()
      .regex(/^\s*[a-z][a-z0-9_-]{0,62}\s*=\s*\d{1,7}\s*(,\s*[a-z][a-z0-9_-]{0,62}\s*=\s*\d{1,7}\s*)*$/, 'expected a comma list of role=requests-per-minute, such as partner_sales=120,integration=3000')
      .optional(),
  ),
  // Counts shared by every instance through Redis; in memory (per instance) when unset.
  RATE_LIMIT_REDIS_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^rediss?$/, error: 'expected a redis:// or rediss:// URL' }).optional()),
  // Overload: 503 with Retry-After past this event-loop delay, heap or resident size (0 = not checked).
  PRESSURE_MAX_EVENT_LOOP_DELAY_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
  // The event-loop delay is not judged this long after the instance is ready (its own start-up).
  PRESSURE_STARTUP_GRACE_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  PRESSURE_MAX_HEAP_USED_BYTES: z.coerce.number().int().min(0).default(0),
  PRESSURE_MAX_RSS_BYTES: z.coerce.number().int().min(0).default(0),
  // Time to receive a whole request (408 beyond), and the longest a database statement may run (503 beyond).
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1000).max(600_000).default(30_000),
  DB_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(0).max(3_600_000).default(30_000),
  // A bearer token the Prometheus scraper presents to GET /metrics; unset, /metrics is open (reach it from the scraper's network only).
  METRICS_TOKEN: z.preprocess(emptyAsUndefined, z.string().min(16, 'too short: use at least 16 random characters').optional()),
  // When the full recomputation of customer value (scores, classes, churn risk) runs (cron, UTC).
  VALUE_RECOMPUTE_CRON: z.string().trim().regex(/^\S+( \S+){4}$/, 'expected a five-field cron expression').default('15 2 * * *'),
  // OpenTelemetry tracing (docs/operations.md "Tracing"): spans go to this OTLP/HTTP collector; off when unset.
  OTEL_EXPORTER_OTLP_ENDPOINT: z.preprocess(emptyAsUndefined, z.url({ protocol: /^https?$/, error: 'expected the http(s) URL of an OTLP/HTTP collector, such as http://collector:4318' }).optional()),
  OTEL_SERVICE_NAME: z.preprocess(emptyAsUndefined, z.string().trim().min(1).max(200).default('keel')),
  // Browser origins allowed to call the API (CORS): a comma list of `scheme://host[:port]`, or `*`.
  CORS_ORIGINS: z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((o) => o.trim()).filter(Boolean) : v),
    z.array(z.union([z.literal('*'), z.string().regex(ORIGIN, 'expected a comma list of origins such as https://app.example.com (no path), or *')])).default([]),
  ),
});

export type Config = {
  env: 'development' | 'test' | 'production';
  host: string;
  port: number;
  databaseUrl: string | undefined;
  databaseDirectUrl: string | undefined;
  databaseReadUrl: string | undefined;
  databaseReadMaxLagMs: number;
  dbPreparedStatements: boolean;
  dataDir: string;
  jwt: { secret: string; issuer: string | undefined; audience: string | undefined; ttlSeconds: number };
  // Set when tokens of an external identity provider are accepted (issuer and audience are then required).
  externalJwt: { jwksUrl: string; algorithms: ExternalAlgorithm[]; userClaim: 'sub' | 'email'; issuer: string; audience: string; cooldownMs: number } | undefined;
  adminEmail: string;
  logLevel: string;
  bodyLimit: number;
  dbPoolSize: number;
  dbConnectTimeoutMs: number;
  principalCacheMs: number;
  duplicateProbeLimitPerHour: number;
  claimProtectionDays: number;
  allocationSlaHours: number;
  jobs: { enabled: boolean; pollSeconds: number; sweepCron: string; valueCron: string };
  corsOrigins: string[];
  events: { retentionDays: number; pruneCron: string; natsUrl: string | undefined };
  webhooks: { retryScheduleMs: number[]; allowPrivate: boolean; timeoutMs: number; pollMs: number; secretOverlapMs: number };
  rateLimit: { perMinute: number; perRole: Record<string, number>; redisUrl: string | undefined };
  pressure: { maxEventLoopDelayMs: number; startupGraceMs: number; maxHeapUsedBytes: number; maxRssBytes: number };
  requestTimeoutMs: number;
  dbStatementTimeoutMs: number;
  metricsToken: string | undefined;
  // Set when spans are exported (OTEL_EXPORTER_OTLP_ENDPOINT); nothing of tracing is loaded otherwise.
  tracing: { endpoint: string; serviceName: string } | undefined;
};

export class ConfigError extends Error {}

// One clear line naming the variable: that is what an operator reads when the start fails.
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const name = issue?.path[0] !== undefined ? String(issue.path[0]) : 'environment';
    throw new ConfigError(`Invalid environment variable ${name}: ${issue?.message ?? 'invalid value'}`);
  }
  const e = parsed.data;
  let secret = e.JWT_SECRET;
  if (e.NODE_ENV !== 'development') {
    if (!secret) throw new ConfigError('Invalid environment variable JWT_SECRET: required outside development');
    if (secret.length < 32 || WEAK_SECRETS.has(secret.toLowerCase())) {
      throw new ConfigError('Invalid environment variable JWT_SECRET: too weak (use at least 32 random characters)');
    }
  }
  secret ??= DEV_SECRET;
  if (!e.DATABASE_URL && (e.DATABASE_DIRECT_URL || e.DATABASE_READ_URL)) {
    throw new ConfigError(`Invalid environment variable ${e.DATABASE_DIRECT_URL ? 'DATABASE_DIRECT_URL' : 'DATABASE_READ_URL'}: only with DATABASE_URL`);
  }
  if (e.JWT_JWKS_URL && !e.JWT_ISSUER) throw new ConfigError('Invalid environment variable JWT_ISSUER: required when JWT_JWKS_URL is set');
  if (e.JWT_JWKS_URL && !e.JWT_AUDIENCE) throw new ConfigError('Invalid environment variable JWT_AUDIENCE: required when JWT_JWKS_URL is set');
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    databaseDirectUrl: e.DATABASE_DIRECT_URL,
    databaseReadUrl: e.DATABASE_READ_URL,
    databaseReadMaxLagMs: e.DATABASE_READ_MAX_LAG_MS,
    dbPreparedStatements: e.DB_PREPARED_STATEMENTS === 'true' || e.DB_PREPARED_STATEMENTS === '1',
    dataDir: e.DATA_DIR,
    jwt: { secret, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE, ttlSeconds: e.JWT_TTL_SECONDS },
    externalJwt:
      e.JWT_JWKS_URL && e.JWT_ISSUER && e.JWT_AUDIENCE
        ? { jwksUrl: e.JWT_JWKS_URL, algorithms: e.JWT_ALGORITHMS, userClaim: e.JWT_USER_CLAIM, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE, cooldownMs: e.JWT_JWKS_COOLDOWN_MS }
        : undefined,
    adminEmail: e.ADMIN_EMAIL,
    logLevel: e.LOG_LEVEL,
    bodyLimit: e.BODY_LIMIT_BYTES,
    dbPoolSize: e.DB_POOL_SIZE,
    dbConnectTimeoutMs: e.DB_CONNECT_TIMEOUT_MS,
    principalCacheMs: e.PRINCIPAL_CACHE_MS,
    duplicateProbeLimitPerHour: e.DUPLICATE_PROBE_LIMIT_PER_HOUR,
    claimProtectionDays: e.CLAIM_PROTECTION_DAYS,
    allocationSlaHours: e.ALLOCATION_SLA_HOURS,
    jobs: { enabled: e.JOBS_ENABLED === 'true' || e.JOBS_ENABLED === '1', pollSeconds: e.JOBS_POLL_SECONDS, sweepCron: e.JOBS_SWEEP_CRON, valueCron: e.VALUE_RECOMPUTE_CRON },
    // Browsers send the origin without a trailing slash; a configured one may have it.
    corsOrigins: e.CORS_ORIGINS.map((o) => o.replace(/\/$/, '')),
    events: { retentionDays: e.EVENTS_RETENTION_DAYS, pruneCron: e.EVENTS_PRUNE_CRON, natsUrl: e.EVENTS_NATS_URL },
    webhooks: {
      retryScheduleMs: e.WEBHOOK_RETRY_SCHEDULE,
      allowPrivate: e.WEBHOOK_ALLOW_PRIVATE === 'true' || e.WEBHOOK_ALLOW_PRIVATE === '1',
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      pollMs: e.WEBHOOK_POLL_MS,
      secretOverlapMs: Math.round(e.WEBHOOK_SECRET_OVERLAP_HOURS * 3_600_000),
    },
    rateLimit: {
      perMinute: e.RATE_LIMIT_PER_MINUTE,
      perRole: Object.fromEntries(
        (e.RATE_LIMIT_ROLES ?? '')
          .split(',')
          .filter((s) => s.trim())
          .map((pair) => {
            const [role, n] = pair.split('=').map((s) => s.trim());
            return [role as string, Number(n)];
          }),
      ),
      redisUrl: e.RATE_LIMIT_REDIS_URL,
    },
    pressure: { maxEventLoopDelayMs: e.PRESSURE_MAX_EVENT_LOOP_DELAY_MS, startupGraceMs: e.PRESSURE_STARTUP_GRACE_MS, maxHeapUsedBytes: e.PRESSURE_MAX_HEAP_USED_BYTES, maxRssBytes: e.PRESSURE_MAX_RSS_BYTES },
    requestTimeoutMs: e.REQUEST_TIMEOUT_MS,
    dbStatementTimeoutMs: e.DB_STATEMENT_TIMEOUT_MS,
    metricsToken: e.METRICS_TOKEN,
    tracing: e.OTEL_EXPORTER_OTLP_ENDPOINT ? { endpoint: e.OTEL_EXPORTER_OTLP_ENDPOINT, serviceName: e.OTEL_SERVICE_NAME } : undefined,
  };
}
