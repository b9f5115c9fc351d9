import { z } from 'zod';
import { pageParams } from '../../lib/pagination.js';
import { mergePatchOf } from '../../lib/merge-patch.js';
import { includeParam, isoDate, safeString, text, timestamp, trimmed } from '../../lib/schemas.js';
import { PAYMENT_CAPABILITIES, QUALIFICATION_FACTS } from './gates.js';

export const OPPORTUNITY_STATUSES = ['OPEN', 'WON', 'LOST'] as const;
export const OUTCOMES = ['WON', 'LOST'] as const;
export const OPPORTUNITY_SORTS = ['createdAt', 'updatedAt', 'expectedCloseDate', 'amount'] as const;

const upper = (v: unknown) => (typeof v === 'string' ? v.toUpperCase() : v);

// Money: a decimal string that fits numeric(18,2). Never parsed into a float.
export const money = z.string().regex(/^\d{1,16}(\.\d{1,2})?$/, 'a non-negative decimal string with at most 16 integer digits and 2 decimals, e.g. "1500.00"');
export const currency = z.string().regex(/^[A-Z]{3}$/, 'an ISO 4217 code: three capital letters');

// ---- pipelines ----------------------------------------------------------------------------

const factName = z.enum(QUALIFICATION_FACTS);
export const gateSchema = z
  .object({
    facts: z.array(factName).max(10).optional(),
    orFacts: z.array(factName).max(10).optional(),
    judgement: z.boolean().optional(),
    actions: z.array(z.string().trim().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'an action key: letters, digits, _ . -')).max(20).optional(),
    amount: z.boolean().optional(),
  })
  .strict()
  .meta({ description: 'Criteria to enter the stage; see docs/opportunities.md' });

const stageKey = z.preprocess(upper, z.string().regex(/^[A-Z][A-Z0-9_]{0,49}$/, 'letters, digits and _, starting with a letter'));

export const stageInput = z
  .object({
    id: z.uuid().optional(),
    key: stageKey,
    name: trimmed(200),
    // Array position is the order; `order`, when sent back as read, must agree with it.
    order: z.number().int().min(1).optional(),
    probability: z.number().int().min(0).max(100),
    terminal: z.boolean().optional(),
    outcome: z.preprocess(upper, z.enum(OUTCOMES)).nullish(),
    gates: gateSchema.optional(),
  })
  .strict();
export type StageInput = z.infer<typeof stageInput>;

const stages = z.array(stageInput).min(3).max(30);

export const createPipelineBody = z
  .object({
    name: trimmed(200),
    isDefault: z.boolean().optional(),
    unitId: z.uuid().nullish(),
    productLine: text(200).nullish(),
    stages,
  })
  .strict()
  .meta({ id: 'PipelineCreate' });
export type CreatePipelineInput = z.infer<typeof createPipelineBody>;

export const patchPipelineBody = z
  .object({
    name: trimmed(200).optional(),
    isDefault: z.boolean().optional(),
    unitId: z.uuid().nullish(),
    productLine: text(200).nullish(),
    stages: stages.optional(),
  })
  .strict()
  .meta({ id: 'PipelinePatch' });
export type PatchPipelineInput = z.infer<typeof patchPipelineBody>;

const gatesOut = z
  .object({ facts: z.array(z.string()).optional(), orFacts: z.array(z.string()).optional(), judgement: z.boolean().optional(), actions: z.array(z.string()).optional(), amount: z.boolean().optional() })
  .meta({ id: 'StageGates' });

export const stageSchema = z
  .object({
    id: z.uuid(),
    key: z.string(),
    name: z.string(),
    order: z.number().int(),
    probability: z.number().int().meta({ description: 'win probability in percent, 0–100' }),
    terminal: z.boolean(),
    outcome: z.enum(OUTCOMES).nullable(),
    gates: gatesOut,
  })
  .meta({ id: 'PipelineStage' });
export type StageDto = z.infer<typeof stageSchema>;

export const pipelineSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    isDefault: z.boolean(),
    unitId: z.uuid().nullable(),
    productLine: z.string().nullable(),
    stages: z.array(stageSchema),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
  })
  .meta({ id: 'Pipeline' });
export type PipelineDto = z.infer<typeof pipelineSchema>;

// ---- opportunities ------------------------------------------------------------------------

const qualificationFields = {
  needDefined: z.boolean(),
  decisionMakerKnown: z.boolean(),
  budgetKnown: z.boolean(),
  timingKnown: z.boolean(),
  purchaseMotive: trimmed(2000),
  paymentCapability: z.preprocess(upper, z.enum(PAYMENT_CAPABILITIES)),
  judgement: trimmed(4000),
};

export const qualificationSchema = z
  .object({
    needDefined: qualificationFields.needDefined.optional(),
    decisionMakerKnown: qualificationFields.decisionMakerKnown.optional(),
    budgetKnown: qualificationFields.budgetKnown.optional(),
    timingKnown: qualificationFields.timingKnown.optional(),
    purchaseMotive: qualificationFields.purchaseMotive.optional(),
    paymentCapability: qualificationFields.paymentCapability.optional(),
    judgement: qualificationFields.judgement.optional(),
  })
  .strict()
  .meta({ description: 'Qualification facts (domain.md §5); unknown keys are refused' });
// The answer's shape: no input coercion in it (the REST serializer encodes through the schema).
export const qualificationOut = z
  .object({
    needDefined: z.boolean().optional(),
    decisionMakerKnown: z.boolean().optional(),
    budgetKnown: z.boolean().optional(),
    timingKnown: z.boolean().optional(),
    purchaseMotive: z.string().optional(),
    paymentCapability: z.enum(PAYMENT_CAPABILITIES).optional(),
    judgement: z.string().optional(),
  })
  .meta({ id: 'Qualification' });
export type QualificationDto = z.infer<typeof qualificationOut>;

// JSON merge patch of the facts: null removes one.
export const qualificationPatch = mergePatchOf(qualificationSchema);
export type QualificationPatch = z.infer<typeof qualificationPatch>;

export const createOpportunityBody = z
  .object({
    customerId: z.uuid(),
    pipelineId: z.uuid().optional(),
    name: trimmed(300),
    amount: money.nullish(),
    currency: currency.nullish(),
    expectedCloseDate: isoDate.nullish(),
    qualification: qualificationSchema.optional(),
    ownerUserId: z.uuid().optional(),
    ownerUnitId: z.uuid().optional(),
  })
  .strict()
  .meta({ id: 'OpportunityCreate' });
export type CreateOpportunityInput = z.infer<typeof createOpportunityBody>;

const stageNotHere = z.never({ error: 'the stage changes only through POST /v1/opportunities/{id}/transitions' }).optional();
const notWritable = (why: string) => z.never({ error: why }).optional();

export const patchOpportunityBody = z
  .object({
    name: trimmed(300).optional(),
    amount: money.nullish(),
    currency: currency.nullish(),
    expectedCloseDate: isoDate.nullish(),
    qualification: qualificationPatch.nullish(),
    ownerUserId: z.uuid().nullish(),
    ownerUnitId: z.uuid().optional(),
    stageId: stageNotHere,
    stageKey: stageNotHere,
    status: notWritable('the status follows the stage: use POST /v1/opportunities/{id}/transitions'),
    pipelineId: notWritable('an opportunity stays in its pipeline'),
    customerId: notWritable('an opportunity stays with its customer'),
    lostReason: notWritable('recorded by the transition to a LOST stage'),
    competitor: notWritable('recorded by the transition to a LOST stage'),
  })
  .strict()
  .meta({ id: 'OpportunityPatch' });
export type PatchOpportunityInput = z.infer<typeof patchOpportunityBody>;

/** What the caller may do with the opportunity: each answer is what the write's own checks would decide now. */
export const opportunityViewerCanSchema = z
  .object({ update: z.boolean(), transition: z.boolean(), reopen: z.boolean() })
  .meta({ id: 'OpportunityViewerCan' });

export const readOpportunityQuery = z.object({ include: includeParam(['viewerCan']).optional() }).strict();

export const opportunitySchema = z
  .object({
    id: z.uuid(),
    customerId: z.uuid(),
    pipelineId: z.uuid(),
    stageId: z.uuid(),
    stageKey: z.string(),
    name: z.string(),
    amount: z.string().nullable(),
    currency: z.string().nullable(),
    expectedCloseDate: z.string().nullable(),
    status: z.enum(OPPORTUNITY_STATUSES),
    qualification: qualificationOut,
    lostReason: z.string().nullable(),
    competitor: z.string().nullable(),
    ownerUserId: z.uuid().nullable(),
    ownerUnitId: z.uuid(),
    stageEnteredAt: timestamp,
    closedAt: timestamp.nullable(),
    version: z.number().int(),
    createdAt: timestamp,
    updatedAt: timestamp,
    // Only with ?include=viewerCan.
    viewerCan: opportunityViewerCanSchema.optional(),
  })
  .meta({ id: 'Opportunity' });
export type OpportunityDto = z.infer<typeof opportunitySchema>;

export const listOpportunitiesQuery = z
  .object({
    ...pageParams,
    sort: safeString().max(40).optional(),
    stageId: z.uuid().optional(),
    stageKey: z.preprocess(upper, safeString().max(50)).optional(),
    status: z.preprocess(upper, z.enum(OPPORTUNITY_STATUSES)).optional(),
    ownerUserId: z.uuid().optional(),
    ownerUnitId: z.uuid().optional(),
    customerId: z.uuid().optional(),
    pipelineId: z.uuid().optional(),
    expectedCloseFrom: isoDate.optional(),
    expectedCloseTo: isoDate.optional(),
    amountMin: money.optional(),
    amountMax: money.optional(),
  })
  .strict();
export type ListOpportunitiesQuery = z.infer<typeof listOpportunitiesQuery>;

// ---- stage transitions --------------------------------------------------------------------

export const transitionBody = z
  .object({
    toStageId: z.uuid().optional(),
    toStageKey: stageKey.optional(),
    reason: trimmed(2000).nullish(),
    lostReason: trimmed(2000).nullish(),
    competitor: trimmed(300).nullish(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.toStageId === undefined) === (v.toStageKey === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['toStageId'], message: 'give exactly one of toStageId or toStageKey' });
    }
  })
  .meta({ id: 'StageTransitionCreate' });
export type TransitionInput = z.infer<typeof transitionBody>;

export const transitionSchema = z
  .object({
    id: z.uuid(),
    opportunityId: z.uuid(),
    customerId: z.uuid(),
    fromStageId: z.uuid().nullable(),
    toStageId: z.uuid(),
    reason: z.string().nullable(),
    lostReason: z.string().nullable(),
    competitor: z.string().nullable(),
    actorId: z.uuid(),
    onBehalfOfId: z.uuid().nullable(),
    at: timestamp,
    secondsInFromStage: z.number().int().nullable(),
  })
  .meta({ id: 'StageTransition' });
export type TransitionDto = z.infer<typeof transitionSchema>;

// The answer to a move: the transition, and the opportunity's new version (also its ETag).
export const transitionResultSchema = transitionSchema
  .extend({ opportunityVersion: z.number().int().meta({ description: "the opportunity's version after the move; the answer's ETag" }) })
  .meta({ id: 'StageTransitionResult' });
export type TransitionResultDto = z.infer<typeof transitionResultSchema>;

export const listTransitionsQuery = z.object(pageParams).strict();

// The criteria a move would lack: the same shape as a refused transition's `unmet`.
const unmetCriterionSchema = z.object({ criterion: z.string(), message: z.string(), stageKey: z.string().optional() }).meta({ id: 'UnmetCriterion' });

export const stageGatesSchema = z
  .object({
    opportunityId: z.uuid(),
    stageId: z.uuid(),
    stageKey: z.string(),
    stages: z.array(z.object({ stageId: z.uuid(), stageKey: z.string(), name: z.string(), unmet: z.array(unmetCriterionSchema) })),
  })
  .meta({ id: 'OpportunityGates' });
export type StageGatesDto = z.infer<typeof stageGatesSchema>;
