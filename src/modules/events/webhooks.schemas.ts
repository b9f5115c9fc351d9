import { z } from 'zod';
import { cursorParam, pageParams, syncParams } from '../../lib/pagination.js';
import { safeString, text } from '../../lib/schemas.js';

const url = safeString().trim().min(1).max(2000);
const types = z.array(safeString().min(1).max(64)).min(1).max(50);

export const createWebhookBody = z.object({ url, types, description: text(500).optional(), active: z.boolean().optional() }).strict();
export type CreateWebhookInput = z.infer<typeof createWebhookBody>;

export const patchWebhookBody = z.object({ url: url.optional(), types: types.optional(), description: text(500).nullable().optional(), active: z.boolean().optional() }).strict();
export type PatchWebhookInput = z.infer<typeof patchWebhookBody>;

export const replayBody = z.object({ after: cursorParam.optional() }).strict();
export type ReplayInput = z.infer<typeof replayBody>;

// A sync's read: sort createdAt (default -createdAt) or updatedAt, and updatedAfter.
export const listWebhooksQuery = z.object({ ...pageParams, ...syncParams }).strict();
export type ListWebhooksQuery = z.infer<typeof listWebhooksQuery>;
export const DELIVERY_STATUSES = ['PENDING', 'DELIVERED', 'DEAD'] as const;
export const deliveriesQuery = z.object({ ...pageParams, status: z.enum(DELIVERY_STATUSES).optional() }).strict();
export type DeliveriesQuery = z.infer<typeof deliveriesQuery>;

export const webhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    types: z.array(z.string()),
    description: z.string().nullable(),
    active: z.boolean(),
    disabledReason: z.string().nullable(),
    createdBy: z.uuid(),
    secret: z.string().optional().meta({ description: 'Only in the answer that creates the subscription or rotates its secret.' }),
    previousSecretExpiresAt: z.string().nullable(),
    version: z.number().int(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Webhook' });
export type WebhookDto = z.infer<typeof webhookSchema>;

export const deliverySchema = z
  .object({
    id: z.uuid(),
    eventId: z.string(),
    eventType: z.string(),
    entityId: z.uuid(),
    status: z.enum(DELIVERY_STATUSES),
    attempts: z.number().int(),
    nextAttemptAt: z.string().nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastLatencyMs: z.number().int().nullable(),
    deliveredAt: z.string().nullable(),
    createdAt: z.string(),
    attemptLog: z.array(z.object({ at: z.string(), statusCode: z.number().int().nullable(), latencyMs: z.number().int(), error: z.string().nullable() })),
  })
  .meta({ id: 'WebhookDelivery' });
export type DeliveryDto = z.infer<typeof deliverySchema>;

export const replaySchema = z.object({ webhookId: z.uuid(), after: z.string().nullable() }).meta({ id: 'WebhookReplay' });
