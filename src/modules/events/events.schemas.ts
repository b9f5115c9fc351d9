import { z } from 'zod';
import { cursorParam } from '../../lib/pagination.js';
import { safeString } from '../../lib/schemas.js';

const limit = z.coerce.number().int().min(1).max(500).default(50);

// `types`: a comma list (or repeated parameter) of catalogue types and `<entity>.*` patterns.
export const eventTypesParam = z.preprocess(
  (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter(Boolean) : v),
  z.array(safeString().min(1).max(64)).min(1).max(50),
);

export const eventsQuery = z.object({ after: cursorParam.optional(), types: eventTypesParam.optional(), limit }).strict();
export type EventsQuery = z.infer<typeof eventsQuery>;

export const eventSchema = z
  .object({
    id: z.string().meta({ description: 'The event\'s position in the feed: pass it as `after` to read what came after it.' }),
    type: z.string(),
    occurredAt: z.string(),
    entityType: z.string(),
    entityId: z.string(),
    actorId: z.string().nullable(),
    onBehalfOfId: z.string().nullable(),
    requestId: z.string().nullable().meta({ description: 'The `x-request-id` of the request that made the change (null for work of the job queue); webhooks and NATS also send it as the `x-request-id` header.' }),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Event' });
export type EventDto = z.infer<typeof eventSchema>;

export const eventPageSchema = z
  .object({
    data: z.array(eventSchema),
    nextCursor: z.string().meta({ description: 'Where to resume; always present (the same position when nothing new was readable).' }),
  })
  .meta({ id: 'EventPage' });
export type EventPage = z.infer<typeof eventPageSchema> & { hasMore: boolean };
