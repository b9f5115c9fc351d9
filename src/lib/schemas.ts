import { z } from 'zod';

export const uuid = z.uuid();
export const idParams = z.object({ id: z.uuid() }).strict();
export const timestamp = z.iso.datetime({ offset: true });
export const page = <T extends z.ZodType>(item: T) => z.object({ data: z.array(item), nextCursor: z.string().nullable() });

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


export const trimmed = (max: number) => z.string().trim().min(1).max(max);

// A yes/no query parameter: "true" or "false" in a query string, a Boolean where GraphQL passes one.
export const queryFlag = z
  .preprocess((v) => (typeof v === 'boolean' ? String(v) : v), z.enum(['true', 'false']))
  .transform((v) => v === 'true');
