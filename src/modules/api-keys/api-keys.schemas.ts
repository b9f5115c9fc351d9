import { z } from 'zod';
import { countParam, cursorParam, limitSchema, syncParams } from '../../lib/pagination.js';
import { timestamp, trimmed } from '../../lib/schemas.js';

export const apiKeySchema = z
  .object({
    id: z.uuid(),
    userId: z.uuid(),
    name: z.string(),
    // The visible start of the key (`keel_…`), to tell keys apart; never enough to use one.
    prefix: z.string(),
    createdBy: z.uuid(),
    createdAt: timestamp,
    expiresAt: timestamp.nullable(),
    lastUsedAt: timestamp.nullable(),
    revokedAt: timestamp.nullable(),
    // Moves when the key is revoked; a use (lastUsedAt) is not a change.
    updatedAt: timestamp,
  })
  .meta({ id: 'ApiKey' });
export type ApiKeyDto = z.infer<typeof apiKeySchema>;

// Only the answer that creates a key carries it.
export const createdApiKeySchema = apiKeySchema.extend({ key: z.string() }).meta({ id: 'CreatedApiKey' });
export type CreatedApiKeyDto = z.infer<typeof createdApiKeySchema>;

export const createApiKeyBody = z
  .object({
    userId: z.uuid(),
    name: trimmed(200),
    expiresAt: timestamp.optional(),
  })
  .strict();
export type CreateApiKeyInput = z.infer<typeof createApiKeyBody>;

export const listApiKeysQuery = z
  .object({
    userId: z.uuid().optional(),
    // Revoked keys are listed too unless `active=true`.
    active: z.enum(['true', 'false']).optional(),
    limit: limitSchema,
    cursor: cursorParam.optional(),
    count: countParam,
    // A sync's read: sort createdAt (default -createdAt) or updatedAt.
    ...syncParams,
  })
  .strict();
export type ListApiKeysQuery = z.infer<typeof listApiKeysQuery>;
