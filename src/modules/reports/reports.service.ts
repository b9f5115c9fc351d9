import type { Database } from '../../db/client.js';

export function createReportService(database: Database) {
  void database;
  return {};
}

export type ReportService = ReturnType<typeof createReportService>;
