import { randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../src/app.js';
import { type Config, loadConfig } from '../../src/config.js';
import { createDatabase, type Database, queryRows } from '../../src/db/client.js';
import { migrateAndBootstrap } from '../../src/db/migrate.js';
import { orgUnits, roles, userRoles, users } from '../../src/db/schema/index.js';
import type { CreateCustomerInput, CustomerDto } from '../../src/modules/customers/customers.schemas.js';
import { loadPrincipal } from '../../src/modules/org/principal.repository.js';

export const TEST_SECRET = 'test-secret-that-is-long-enough-for-hs256-0123456789';

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    JWT_SECRET: TEST_SECRET,
    LOG_LEVEL: 'silent',
    DATA_DIR: 'memory://',
    JOBS_ENABLED: 'false',
    // Tests change roles and delegations behind the API's back and expect the next request to see
    // it; the cache has its own tests (test/platform/principal-cache.test.ts).
    PRINCIPAL_CACHE_MS: '0',
    // Files run in parallel on a shared machine: no rate limit (test/platform/limits.test.ts turns it
    // on) and no load shedding on a slow event loop.
    RATE_LIMIT_PER_MINUTE: '0',
    PRESSURE_MAX_EVENT_LOOP_DELAY_MS: '0',
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
    ...overrides,
  });
}

/**
 * The real app on a real database: PostgreSQL when DATABASE_URL is set (CI), otherwise an
 * in-memory embedded PostgreSQL per test file. Files share the PostgreSQL database, so every test
 * makes its own units, users and records and never truncates.
 */
export async function buildTestApp(overrides: Record<string, string> = {}): Promise<TestApp> {
  const config = testConfig(overrides);
  const database = await createDatabase({ url: config.databaseUrl, dataDir: config.dataDir, poolSize: 5 });
  await migrateAndBootstrap(database, config.adminEmail);
  const app = await buildApp(config, { database, migrate: false, logger: false });
  await app.ready();
  return new TestApp(app, database);
}

export type Kind = 'REGION' | 'BRANCH' | 'DEPARTMENT' | 'PARTNER';
export type Unit = { id: string; name: string; path: string; kind: string };
export type User = { id: string; email: string; unitId: string; token: string; roles: string[] };

export class TestApp {
  constructor(
    readonly app: FastifyInstance,
    readonly database: Database,
  ) {}

  get db() {
    return this.database.db;
  }

  async close(): Promise<void> {
    await this.app.close();
    await this.database.close();
  }

  async root(): Promise<Unit> {
    const [r] = await this.db.select().from(orgUnits).where(sql`${orgUnits.parentId} IS NULL`);
    if (!r) throw new Error('no root unit');
    return r;
  }

  async admin(): Promise<User> {
    const [a] = await queryRows<{ id: string; email: string; unit_id: string }>(
      this.db,
      sql`SELECT id, email, unit_id FROM users WHERE lower(email) = 'admin@example.com'`,
    );
    if (!a) throw new Error('no admin');
    return { id: a.id, email: a.email, unitId: a.unit_id, token: this.token(a.id), roles: ['admin'] };
  }

  token(userId: string, extra: Record<string, unknown> = {}): string {
    return this.app.jwt.sign({ sub: userId, ...extra });
  }

  // Units and users are written straight into their tables, unlike every other record (see
  // ./factories.ts): the access tests need org states the API refuses (a partner's user holding an
  // ALL-scope role, a user without roles) to show that visibility still holds for them.

  /** A unit below `parent` (the root when omitted), with a unique name. */
  async unit(kind: Kind, parent?: Unit, name?: string): Promise<Unit> {
    const p = parent ?? (await this.root());
    const id = randomUUID();
    const [row] = await this.db
      .insert(orgUnits)
      .values({ id, name: name ?? `${kind.toLowerCase()}-${id.slice(0, 8)}`, kind, partnerType: kind === 'PARTNER' ? 'RESELLER' : null, parentId: p.id, path: `${p.path}${id}/` })
      .returning();
    if (!row) throw new Error('unit insert failed');
    return row;
  }

  /** A user in `unit` holding the named roles (built-in or custom). */
  async user(unit: Unit, roleNames: string[], opts: { active?: boolean; name?: string } = {}): Promise<User> {
    const id = randomUUID();
    const email = `${roleNames.join('-') || 'nobody'}-${id.slice(0, 8)}@test.example`;
    await this.db.insert(users).values({ id, email, name: opts.name ?? `User ${id.slice(0, 6)}`, unitId: unit.id, active: opts.active ?? true });
    if (roleNames.length) {
      const rs = await this.db.select().from(roles).where(sql`${roles.name} = ANY(${sql.param(roleNames)}::text[])`);
      if (rs.length !== roleNames.length) throw new Error(`unknown role among ${roleNames.join(',')}`);
      await this.db.insert(userRoles).values(rs.map((r) => ({ userId: id, roleId: r.id })));
    }
    return { id, email, unitId: unit.id, token: this.token(id), roles: roleNames };
  }

  /** A customer owned by `owner`, created through the service (so derived columns and audit are real). */
  async customer(owner: User, input: Partial<CreateCustomerInput> = {}): Promise<CustomerDto> {
    const p = await loadPrincipal(this.db, owner.id);
    if (!p) throw new Error('owner not found');
    const name = input.name ?? `Customer ${randomUUID().slice(0, 8)}`;
    // The fields the ERP owns (external ids, credit) only an integration caller writes: with them, the
    // admin creates the customer for its owner (still one create, version 1).
    const erpFields = input.externalIds !== undefined || input.creditStatus !== undefined;
    const creator = erpFields ? await loadPrincipal(this.db, (await this.admin()).id) : p;
    if (!creator) throw new Error('no admin');
    const made = await this.app.services.customers.create(
      creator,
      { kind: 'ORGANIZATION', ...input, name, ...(erpFields && input.ownerUnitId === undefined ? { ownerUserId: input.ownerUserId ?? owner.id } : {}) } as CreateCustomerInput,
      { allowDuplicate: true },
    );
    // As the owner reads it (fields its roles hide stay hidden).
    return erpFields ? this.app.services.customers.get(p, made.id) : made;
  }

  inject(opts: InjectOptions): Promise<LightMyRequestResponse> {
    return this.app.inject(opts);
  }

  /** REST call as `who` (a user or a raw token); bodies are JSON. */
  async rest(who: User | string | null, method: InjectOptions['method'], url: string, body?: unknown, headers: Record<string, string> = {}) {
    const token = typeof who === 'string' ? who : who?.token;
    const res = await this.app.inject({
      method,
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
    });
    let json: any;
    try {
      json = res.body ? JSON.parse(res.body) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.statusCode, headers: res.headers, body: json, raw: res.body };
  }

  /** GraphQL call as `who`. */
  async gql(who: User | string | null, query: string, variables: Record<string, unknown> = {}) {
    const token = typeof who === 'string' ? who : who?.token;
    const res = await this.app.inject({
      method: 'POST',
      url: '/graphql',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      payload: JSON.stringify({ query, variables }),
    });
    const json = JSON.parse(res.body) as { data: any; errors?: { message: string; path?: string[]; extensions?: Record<string, any> }[] };
    return { status: res.statusCode, data: json.data, errors: json.errors, codes: (json.errors ?? []).map((e) => e.extensions?.code) };
  }

  /** Statements sent to the database while `fn` runs. */
  async countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number }> {
    const before = this.database.stats.statements;
    const result = await fn();
    return { result, statements: this.database.stats.statements - before };
  }
}

/**
 * A small company for one test: a region with a branch, and two partners with a sub-unit each,
 * with a user of every built-in role where it belongs.
 */
export async function company(t: TestApp) {
  const region = await t.unit('REGION');
  const branch = await t.unit('BRANCH', region);
  const otherBranch = await t.unit('BRANCH', region);
  const partnerA = await t.unit('PARTNER', region);
  const partnerASub = await t.unit('DEPARTMENT', partnerA);
  const partnerB = await t.unit('PARTNER', region);
  const users = {
    admin: await t.admin(),
    executive: await t.user(region, ['executive']),
    regionManager: await t.user(region, ['manager']),
    marketing: await t.user(region, ['marketing']),
    branchManager: await t.user(branch, ['manager']),
    sales: await t.user(branch, ['sales']),
    sales2: await t.user(branch, ['sales']),
    service: await t.user(branch, ['service']),
    otherSales: await t.user(otherBranch, ['sales']),
    partnerAManager: await t.user(partnerA, ['partner_manager']),
    partnerASales: await t.user(partnerA, ['partner_sales']),
    partnerASubSales: await t.user(partnerASub, ['partner_sales']),
    partnerBManager: await t.user(partnerB, ['partner_manager']),
    partnerBSales: await t.user(partnerB, ['partner_sales']),
    integration: await t.user(await t.root(), ['integration']),
  };
  return { region, branch, otherBranch, partnerA, partnerASub, partnerB, users };
}
