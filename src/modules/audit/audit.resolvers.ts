import { AppError } from '../../lib/errors.js';
import { connection, parseArgs, type Resolvers } from '../../lib/graphql.js';
import { listAuditQuery } from './audit.schemas.js';

// The service checks the cursor it decodes under its REST name; GraphQL names the argument `after`.
async function cursorAsAfter<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (!(err instanceof AppError) || !err.errors?.some((e) => e.path === 'cursor')) throw err;
    const errors = err.errors.map((e) => (e.path === 'cursor' ? { ...e, path: 'after' } : e));
    throw new AppError(err.code, errors.map((e) => `${e.path}: ${e.message}`).join('; '), { errors, ...(err.extra ? { extra: err.extra } : {}) });
  }
}

// The GraphQL door of GET /v1/audit: the same service, filters and masking.
export const auditResolvers = {
  Query: {
    audit: async (_, args, ctx) => {
      const q = parseArgs(listAuditQuery, args);
      return connection(await cursorAsAfter(() => ctx.services.audit.list(ctx.principal, q)));
    },
  },
} satisfies Resolvers;
