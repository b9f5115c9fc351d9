import { z } from 'zod';

const WEAK_SECRETS = new Set(['secret', 'changeme', 'change-me', 'password', 'jwt-secret', 'development']);
const DEV_SECRET = 'keel-development-secret-not-for-production-use';

// An origin as browsers send it: scheme, host and optional port, nothing after.
const ORIGIN = /^https?:\/\/[^/?#\s]+\/?$/;

const emptyAsUndefined = (v: unknown) => (v === '' ? undefined : v);

const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  // Only a PostgreSQL URL: anything else would fail later, at the first query, with a less clear message.
  DATABASE_URL: z.preprocess(emptyAsUndefined, z.url({ protocol: /^postgres(ql)?$/, error: 'expected a postgres:// or postgresql:// URL' }).optional()),
  DATA_DIR: z.string().min(1).default('./data'),
  JWT_SECRET: z.preprocess(emptyAsUndefined, z.string().optional()),
  JWT_ISSUER: z.preprocess(emptyAsUndefined, z.string().optional()),
  JWT_AUDIENCE: z.preprocess(emptyAsUndefined, z.string().optional()),
  JWT_TTL_SECONDS: z.coerce.number().int().positive().default(8 * 3600),
  ADMIN_EMAIL: z.string().email().default('admin@example.com'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  BODY_LIMIT_BYTES: z.coerce.number().int().positive().default(1024 * 1024),
  DB_POOL_SIZE: z.coerce.number().int().positive().default(10),
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
  // When the full recomputation of customer value (scores, classes, churn risk) runs (cron, UTC).
  VALUE_RECOMPUTE_CRON: z.string().trim().regex(/^\S+( \S+){4}$/, 'expected a five-field cron expression').default('15 2 * * *'),
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
  dataDir: string;
  jwt: { secret: string; issuer: string | undefined; audience: string | undefined; ttlSeconds: number };
  adminEmail: string;
  logLevel: string;
  bodyLimit: number;
  dbPoolSize: number;
  principalCacheMs: number;
  duplicateProbeLimitPerHour: number;
  claimProtectionDays: number;
  allocationSlaHours: number;
  jobs: { enabled: boolean; pollSeconds: number; sweepCron: string; valueCron: string };
  corsOrigins: string[];
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
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    databaseUrl: e.DATABASE_URL,
    dataDir: e.DATA_DIR,
    jwt: { secret, issuer: e.JWT_ISSUER, audience: e.JWT_AUDIENCE, ttlSeconds: e.JWT_TTL_SECONDS },
    adminEmail: e.ADMIN_EMAIL,
    logLevel: e.LOG_LEVEL,
    bodyLimit: e.BODY_LIMIT_BYTES,
    dbPoolSize: e.DB_POOL_SIZE,
    principalCacheMs: e.PRINCIPAL_CACHE_MS,
    duplicateProbeLimitPerHour: e.DUPLICATE_PROBE_LIMIT_PER_HOUR,
    claimProtectionDays: e.CLAIM_PROTECTION_DAYS,
    allocationSlaHours: e.ALLOCATION_SLA_HOURS,
    jobs: { enabled: e.JOBS_ENABLED === 'true' || e.JOBS_ENABLED === '1', pollSeconds: e.JOBS_POLL_SECONDS, sweepCron: e.JOBS_SWEEP_CRON, valueCron: e.VALUE_RECOMPUTE_CRON },
    // Browsers send the origin without a trailing slash; a configured one may have it.
    corsOrigins: e.CORS_ORIGINS.map((o) => o.replace(/\/$/, '')),
  };
}
