import type { Database } from '../../db/client.js';

export function createContactHistoryService(database: Database) {
  void database;
  return {};
}

export type ContactHistoryService = ReturnType<typeof createContactHistoryService>;
