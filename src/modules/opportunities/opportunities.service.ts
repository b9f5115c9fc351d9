import type { Database } from '../../db/client.js';

export function createOpportunityService(database: Database) {
  void database;
  return {};
}

export type OpportunityService = ReturnType<typeof createOpportunityService>;
