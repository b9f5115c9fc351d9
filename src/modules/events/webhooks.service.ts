import type { Database } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { checkVersion, fieldError, notFound } from '../../lib/errors.js';
import { decodeCursor, encodeCursor, type Page, timeOrder, timePage, withCount } from '../../lib/pagination.js';
import { parsePosition, positionCursor, readFeed, typesOf } from './events.service.js';
import { checkTarget } from './webhooks.target.js';
import { newSecret } from './webhooks.signing.js';
import { type DeliveryRow, type WebhookRow, webhooksRepository as repo } from './webhooks.repository.js';
import type { CreateWebhookInput, DeliveriesQuery, DeliveryDto, ListWebhooksQuery, PatchWebhookInput, ReplayInput, WebhookDto } from './webhooks.schemas.js';

export type WebhooksConfig = { allowPrivate: boolean; secretOverlapMs: number };

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

export function toWebhookDto(w: WebhookRow, secret?: string): WebhookDto {
  return {
    id: w.id,
    url: w.url,
    types: w.types,
    description: w.description,
    active: w.active,
    disabledReason: w.disabledReason,
    createdBy: w.createdBy,
    ...(secret ? { secret } : {}),
    previousSecretExpiresAt: w.previousSecret ? iso(w.previousSecretExpiresAt) : null,
    version: w.version,
    createdAt: iso(w.createdAt) ?? '',
    updatedAt: iso(w.updatedAt) ?? '',
  };
}

export function toDeliveryDto(d: DeliveryRow): DeliveryDto {
  return {
    id: d.id,
    eventId: d.eventId,
    eventType: d.eventType,
    entityId: d.entityId,
    status: d.status as DeliveryDto['status'],
    attempts: d.attempts,
    nextAttemptAt: d.status === 'PENDING' ? iso(d.nextAttemptAt) : null,
    lastStatusCode: d.lastStatusCode,
    lastError: d.lastError,
    lastLatencyMs: d.lastLatencyMs,
    deliveredAt: iso(d.deliveredAt),
    createdAt: iso(d.createdAt) ?? '',
    attemptLog: d.attemptLog,
  };
}

// The audit trail never holds a secret.
const audited = (w: WebhookRow) => ({ ...toWebhookDto(w) });
const ownerOf = (w: WebhookRow) => ({ ownerUserId: w.createdBy, ownerUnitId: w.ownerUnitId });

export function createWebhookService(database: Database, cfg: WebhooksConfig) {
  const { db } = database;

  async function load(p: Principal, id: string, permission: string) {
    requirePermission(p, permission);
    const w = await repo.find(db, p, id, 'webhooks:read');
    if (!w) throw notFound('webhook');
    return w;
  }

  return {
    async create(p: Principal, input: CreateWebhookInput): Promise<WebhookDto> {
      requirePermission(p, 'webhooks:create');
      typesOf(input.types);
      await checkTarget(input.url, cfg.allowPrivate);
      const secret = newSecret();
      return db.transaction(async (tx) => {
        const w = await repo.insert(tx, {
          url: input.url,
          types: [...new Set(input.types)],
          description: input.description ?? null,
          active: input.active ?? true,
          createdBy: p.userId,
          ownerUnitId: p.unitId,
          secret,
        });
        await recordChange(tx, p, { entityType: 'webhook', entityId: w.id, action: 'created', before: null, after: audited(w), owner: ownerOf(w) });
        return toWebhookDto(w, secret);
      });
    },

    async get(p: Principal, id: string): Promise<WebhookDto> {
      return toWebhookDto(await load(p, id, 'webhooks:read'));
    },

    async list(p: Principal, q: ListWebhooksQuery): Promise<Page<WebhookDto>> {
      requirePermission(p, 'webhooks:read');
      const order = timeOrder(q);
      const pg = timePage(await repo.list(db, p, q.updatedAfter, order, q.limit), q.limit, order);
      return withCount({ ...pg, data: pg.data.map((w) => toWebhookDto(w)) }, () => repo.countVisible(db, p, q.updatedAfter));
    },

    async update(p: Principal, id: string, input: PatchWebhookInput, expectedVersion?: number): Promise<WebhookDto> {
      const visible = await load(p, id, 'webhooks:update');
      if (input.types) typesOf(input.types);
      if (input.url !== undefined && input.url !== visible.url) await checkTarget(input.url, cfg.allowPrivate);
      return db.transaction(async (tx) => {
        const before = await repo.find(tx, p, id, 'webhooks:update', true);
        if (!before) throw notFound('webhook');
        checkVersion(expectedVersion, before.version);
        const next = {
          ...(input.url !== undefined ? { url: input.url } : {}),
          ...(input.types !== undefined ? { types: [...new Set(input.types)] } : {}),
          ...(input.description !== undefined ? { description: input.description } : {}),
          ...(input.active !== undefined ? { active: input.active, disabledReason: input.active ? null : 'disabled by a user' } : {}),
        };
        const changed = Object.entries(next).some(([k, v]) => JSON.stringify(v) !== JSON.stringify(before[k as keyof WebhookRow]));
        if (!changed) return toWebhookDto(before);
        const w = await repo.update(tx, id, next);
        await recordChange(tx, p, { entityType: 'webhook', entityId: id, action: 'updated', before: audited(before), after: audited(w), owner: ownerOf(w) });
        return toWebhookDto(w);
      });
    },

    async remove(p: Principal, id: string): Promise<void> {
      await load(p, id, 'webhooks:delete');
      await db.transaction(async (tx) => {
        const w = await repo.find(tx, p, id, 'webhooks:delete', true);
        if (!w) throw notFound('webhook');
        await repo.remove(tx, id);
        await recordChange(tx, p, { entityType: 'webhook', entityId: id, action: 'deleted', before: audited(w), after: null, owner: ownerOf(w) });
      });
    },

    /** A new secret; the old one keeps signing too for WEBHOOK_SECRET_OVERLAP_HOURS. */
    async rotateSecret(p: Principal, id: string): Promise<WebhookDto> {
      await load(p, id, 'webhooks:update');
      const secret = newSecret();
      return db.transaction(async (tx) => {
        const before = await repo.find(tx, p, id, 'webhooks:update', true);
        if (!before) throw notFound('webhook');
        const w = await repo.update(tx, id, { secret, previousSecret: before.secret, previousSecretExpiresAt: new Date(Date.now() + cfg.secretOverlapMs) });
        await recordChange(tx, p, { entityType: 'webhook', entityId: id, action: 'secret_rotated', before: audited(before), after: audited(w), owner: ownerOf(w) });
        return toWebhookDto(w, secret);
      });
    },

    async deliveries(p: Principal, id: string, q: DeliveriesQuery): Promise<Page<DeliveryDto>> {
      const w = await load(p, id, 'webhooks:read');
      let beforeSeq: number | null = null;
      if (q.cursor) {
        const [seq] = decodeCursor(q.cursor, 1);
        if (typeof seq !== 'number' || !Number.isSafeInteger(seq)) throw fieldError('VALIDATION_FAILED', 'cursor', 'invalid cursor');
        beforeSeq = seq;
      }
      const rows = await repo.deliveries(db, w.id, q.limit + 1, beforeSeq, q.status);
      const more = rows.length > q.limit;
      const data = more ? rows.slice(0, q.limit) : rows;
      const last = data[data.length - 1];
      return withCount({ data: data.map(toDeliveryDto), nextCursor: more && last ? encodeCursor([last.seq]) : null }, () => repo.countDeliveries(db, w.id, q.status));
    },

    /**
     * Delivers again every event after `after` (from the oldest kept when absent) that the
     * subscription matches, dead-lettered ones included: the feed is read again from there. A
     * receiver deduplicates on `webhook-id` (the event id).
     */
    async replay(p: Principal, id: string, input: ReplayInput): Promise<{ webhookId: string; after: string | null }> {
      await load(p, id, 'webhooks:update');
      const pos = input.after ? parsePosition(input.after) : { xid: '0', id: 0 };
      // The same answer the feed gives for that cursor: 410 when it is older than the events kept.
      if (input.after) await readFeed(db, p, { after: pos, types: [], limit: 1 });
      await db.transaction(async (tx) => {
        const w = await repo.find(tx, p, id, 'webhooks:update', true);
        if (!w) throw notFound('webhook');
        await repo.setPosition(tx, id, pos);
        await recordChange(tx, p, { entityType: 'webhook', entityId: id, action: 'replayed', before: null, after: { after: input.after ?? null }, owner: ownerOf(w) });
      });
      return { webhookId: id, after: input.after ? positionCursor(pos) : null };
    },
  };
}

export type WebhookService = ReturnType<typeof createWebhookService>;
