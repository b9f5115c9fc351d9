import { z } from 'zod';
import { countParam, cursorParam, limitSchema } from '../../lib/pagination.js';
import { timestamp } from '../../lib/schemas.js';

export const auditEntrySchema = z
  .object({
    id: z.string(),
    at: timestamp,
    actorId: z.uuid(),
    onBehalfOfId: z.uuid().nullable(),
    requestId: z.string().nullable(),
    client: z.string().nullable(),
    entityType: z.string(),
    entityId: z.uuid(),
    action: z.string(),
    before: z.unknown(),
    after: z.unknown(),
  })
  .meta({ id: 'AuditEntry' });
export type AuditEntryDto = z.infer<typeof auditEntrySchema>;

export const listAuditQuery = z
  .object({
    entityType: z.string().regex(/^[a-z][a-z_]{0,39}$/, 'expected an entity type such as customer or opportunity').optional(),
    entityId: z.uuid().optional(),
    actorId: z.uuid().optional(),
    // Rows at or after / before these times.
    after: timestamp.optional(),
    before: timestamp.optional(),
    limit: limitSchema,
    cursor: cursorParam.optional(),
    count: countParam,
  })
  .strict();
export type ListAuditQuery = z.infer<typeof listAuditQuery>;
