// The customer lifecycle (domain.md §2): the one list of stages, in order, and the rules that follow
// from the order. Schemas, services, reports and the demo seed all read it from here.

export const LIFECYCLE_STAGES = ['SUSPECT', 'PROSPECT', 'OPPORTUNITY', 'CUSTOMER', 'USER'] as const;
export type LifecycleStage = (typeof LIFECYCLE_STAGES)[number];

// Where a new customer starts unless its creator says otherwise.
export const INITIAL_STAGE: LifecycleStage = 'SUSPECT';

// A lead is still being identified or nurtured: only a lead can be handed off to sales.
export const LEAD_STAGES: ReadonlySet<string> = new Set<LifecycleStage>(['SUSPECT', 'PROSPECT']);

export const stageRank = (s: string): number => LIFECYCLE_STAGES.indexOf(s as LifecycleStage);

// Forward moves are free; a move back needs a reason.
export const isBackward = (from: string, to: string): boolean => stageRank(to) < stageRank(from);

export const isBefore = (stage: string, than: LifecycleStage): boolean => stageRank(stage) < stageRank(than);

// The stages at or beyond `stage`, in order (a customer that stands there has "reached" it).
export const stagesFrom = (stage: LifecycleStage): LifecycleStage[] => LIFECYCLE_STAGES.filter((s) => stageRank(s) >= stageRank(stage));
