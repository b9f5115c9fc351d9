import type { Database } from '../../db/client.js';

export function createLifecycleService(database: Database) {
  void database;
  return {};
}

export type LifecycleService = ReturnType<typeof createLifecycleService>;
