// The reports module's public surface: reports counted within the caller's visibility, and the
// measurements (conversion per stage, lifecycle cohorts, won deals) that plans are decomposed with.
import type { Executor } from '../../db/client.js';
import type { Principal } from '../../lib/access.js';
import { activityRepository, type LifecycleCohort } from './activity.repository.js';
import { pipelineRepository } from './pipeline.repository.js';
import type { OpportunityScope } from './report-scope.js';

export { reportsRoutes } from './reports.routes.js';
export { reportsLoaders, reportsResolvers } from './reports.resolvers.js';
export { createReportService, type ReportService } from './reports.service.js';
export { findPipeline, measureSteps, openStagesOf, type Pipeline, type StageStats, wonStageOf } from './pipeline-reports.service.js';
export { currencyCode, DEFAULT_MIN_SAMPLE, historyMonths, minSample, moneyString, rateString } from './pipeline-reports.schemas.js';
export type { LifecycleCohort, OpportunityScope };

export const measureLifecycle = (ex: Executor, p: Principal, unitId: string | null, from: Date, to: Date): Promise<LifecycleCohort> =>
  activityRepository.lifecycleCohort(ex, p, unitId, from, to);
export const measureWon = (ex: Executor, p: Principal, s: OpportunityScope, currency: string, from: Date, to: Date) => pipelineRepository.wonTotals(ex, p, s, currency, from, to);
