import type { Database } from '../../db/client.js';

export function createActionService(database: Database) {
  void database;
  return {};
}

export type ActionService = ReturnType<typeof createActionService>;
