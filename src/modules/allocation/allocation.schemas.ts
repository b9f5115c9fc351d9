import { z } from 'zod';
import { pageParams, syncParams } from '../../lib/pagination.js';
import { queryFlag, trimmed } from '../../lib/schemas.js';
import { LIFECYCLE_STAGES, SOURCE_CHANNELS } from '../customers/index.js';

export const STRATEGIES = ['FIXED', 'ROUND_ROBIN', 'LEAST_LOADED'] as const;
const CUSTOMER_KINDS = ['ORGANIZATION', 'PERSON'] as const;
const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);

const matchShape = {
  region: trimmed(200),
  industry: trimmed(200),
  source: z.preprocess(upper, z.enum(SOURCE_CHANNELS)),
  kind: z.preprocess(upper, z.enum(CUSTOMER_KINDS)),
  lifecycleStage: z.preprocess(upper, z.enum(LIFECYCLE_STAGES)),
};
export const matchSchema = z
  .object({
    region: matchShape.region.optional(),
    industry: matchShape.industry.optional(),
    source: matchShape.source.optional(),
    kind: matchShape.kind.optional(),
    lifecycleStage: matchShape.lifecycleStage.optional(),
  })
  .strict()
  .meta({ id: 'AllocationMatch' });

// Exactly one of unitId and userId.
export const targetSchema = z
  .object({ unitId: z.uuid().optional(), userId: z.uuid().optional() })
  .strict()
  .refine((t) => (t.unitId === undefined) !== (t.userId === undefined), { message: 'exactly one of unitId and userId' })
  .meta({ id: 'AllocationTarget' });

const capacity = z.number().int().min(1).max(100_000);

export const createRuleBody = z
  .object({
    name: trimmed(200),
    order: z.number().int().min(0).max(1_000_000),
    active: z.boolean().optional(),
    match: matchSchema,
    target: targetSchema,
    strategy: z.preprocess(upper, z.enum(STRATEGIES)),
    capacityPerUser: capacity.nullish(),
  })
  .strict()
  .meta({ id: 'AllocationRuleCreate' });
export type CreateRuleInput = z.infer<typeof createRuleBody>;

// A merge patch: `match` merges key by key (null removes a criterion); `target` is replaced whole.
export const patchRuleBody = z
  .object({
    name: trimmed(200).optional(),
    order: z.number().int().min(0).max(1_000_000).optional(),
    active: z.boolean().optional(),
    match: z
      .object({
        region: matchShape.region.nullish(),
        industry: matchShape.industry.nullish(),
        source: matchShape.source.nullish(),
        kind: matchShape.kind.nullish(),
        lifecycleStage: matchShape.lifecycleStage.nullish(),
      })
      .strict()
      .optional(),
    target: targetSchema.optional(),
    strategy: z.preprocess(upper, z.enum(STRATEGIES)).optional(),
    capacityPerUser: capacity.nullish(),
  })
  .strict()
  .meta({ id: 'AllocationRulePatch' });
export type PatchRuleInput = z.infer<typeof patchRuleBody>;

// Without `sort`, the rules in the order they are tried; a sync asks for sort=updatedAt (or createdAt, optional '-').
export const listRulesQuery = z.object({ ...pageParams, active: queryFlag.optional(), ...syncParams }).strict();
export type ListRulesQuery = z.infer<typeof listRulesQuery>;

export const ruleSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    order: z.number().int(),
    active: z.boolean(),
    match: matchSchema,
    target: z.object({ unitId: z.uuid().optional(), userId: z.uuid().optional() }),
    strategy: z.enum(STRATEGIES),
    capacityPerUser: z.number().int().nullable(),
    version: z.number().int(),
    createdBy: z.uuid(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'AllocationRule' });
export type RuleDto = z.infer<typeof ruleSchema>;

export const allocationResultSchema = z
  .object({
    customerId: z.uuid(),
    allocated: z.boolean(),
    ruleId: z.uuid().nullable(),
    ownerUserId: z.uuid().nullable(),
    ownerUnitId: z.uuid(),
  })
  .meta({ id: 'AllocationResult' });
export type AllocationResultDto = z.infer<typeof allocationResultSchema>;
