// The reports module's public surface: reports counted within the caller's visibility.
export { reportsRoutes } from './reports.routes.js';
export { reportsLoaders, reportsResolvers } from './reports.resolvers.js';
export { createReportService, type ReportService } from './reports.service.js';
