// Pipelines: ordered stages with win probabilities and gates. The opportunities service answers for
// them too (it spreads this service), so both doors reach pipelines as `services.opportunities`.
import type { Database, Executor } from '../../db/client.js';
import { type Principal, requirePermission } from '../../lib/access.js';
import { recordChange } from '../../lib/audit.js';
import { AppError, checkVersion, type FieldError, fieldError, notFound, staleWrite } from '../../lib/errors.js';
import { wholeListOrder, type WholeSyncQuery } from '../../lib/pagination.js';
import type { Gate } from './gates.js';
import { opportunitiesRepository as repo, type PipelineRow, type StageRow } from './opportunities.repository.js';
import type { CreatePipelineInput, PatchPipelineInput, PipelineDto, StageDto, StageInput } from './opportunities.schemas.js';

const iso = (d: Date) => d.toISOString();

export function toStageDto(s: StageRow): StageDto {
  return {
    id: s.id,
    key: s.key,
    name: s.name,
    order: s.position,
    probability: s.probability,
    terminal: s.terminal,
    outcome: (s.outcome as StageDto['outcome']) ?? null,
    gates: s.gates as Gate,
  };
}

export function toPipelineDto(p: PipelineRow, stages: StageRow[]): PipelineDto {
  return {
    id: p.id,
    name: p.name,
    isDefault: p.isDefault,
    unitId: p.unitId,
    productLine: p.productLine,
    stages: stages.filter((s) => s.pipelineId === p.id).sort((a, b) => a.position - b.position).map(toStageDto),
    version: p.version,
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.updatedAt),
  };
}

type NormalStage = { id?: string | undefined; key: string; name: string; position: number; probability: number; terminal: boolean; outcome: string | null; gates: Gate };

const invalid = (errors: FieldError[]) => {
  const first = errors[0];
  return new AppError('VALIDATION_FAILED', first ? `${first.path}: ${first.message}` : 'invalid stages', { errors });
};

/** The rules of a stage list: unique keys, open stages first, exactly one WON and one LOST stage. */
export function normaliseStages(input: StageInput[]): NormalStage[] {
  const errors: FieldError[] = [];
  const keys = new Set<string>();
  const ids = new Set<string>();
  let seenTerminal = false;
  const out = input.map((s, i): NormalStage => {
    const at = `stages.${i}`;
    const outcome = s.outcome ?? null;
    const terminal = s.terminal ?? outcome !== null;
    if (s.order !== undefined && s.order !== i + 1) errors.push({ path: `${at}.order`, message: `the order is the position in the list: ${i + 1} here` });
    if (keys.has(s.key)) errors.push({ path: `${at}.key`, message: `duplicate key ${s.key}` });
    keys.add(s.key);
    if (s.id) {
      if (ids.has(s.id)) errors.push({ path: `${at}.id`, message: 'duplicate stage id' });
      ids.add(s.id);
    }
    if (terminal && outcome === null) errors.push({ path: `${at}.outcome`, message: 'a terminal stage needs an outcome, WON or LOST' });
    if (!terminal && outcome !== null) errors.push({ path: `${at}.terminal`, message: 'a stage with an outcome is terminal' });
    if (terminal) seenTerminal = true;
    else if (seenTerminal) errors.push({ path: `${at}.terminal`, message: 'open stages come before the terminal ones' });
    const gates = s.gates ?? {};
    if (outcome === 'LOST' && Object.keys(gates).length > 0) errors.push({ path: `${at}.gates`, message: 'a LOST stage has no gates: a deal may be lost from any stage' });
    return { id: s.id, key: s.key, name: s.name, position: i + 1, probability: s.probability, terminal, outcome, gates };
  });
  if (!out.some((s) => !s.terminal)) errors.push({ path: 'stages', message: 'needs at least one open (non-terminal) stage' });
  for (const o of ['WON', 'LOST']) {
    const n = out.filter((s) => s.outcome === o).length;
    if (n !== 1) errors.push({ path: 'stages', message: `needs exactly one terminal stage with outcome ${o} (found ${n})` });
  }
  if (errors.length) throw invalid(errors);
  return out;
}

export function createPipelineService(database: Database) {
  const { db } = database;

  async function checkUnit(tx: Executor, p: Principal, unitId: string | null | undefined): Promise<void> {
    if (!unitId) return;
    if (!(await repo.unitVisible(tx, p, unitId))) throw fieldError('VALIDATION_FAILED', 'unitId', 'no such unit');
  }

  // Making one pipeline the default unsets the other in the same transaction.
  async function unsetDefault(tx: Executor, except: string): Promise<void> {
    await repo.unsetDefaultPipeline(tx, except);
  }

  async function loadPipeline(ex: Executor, id: string): Promise<PipelineDto> {
    const row = await repo.findPipeline(ex, id);
    if (!row) throw notFound('pipeline');
    return toPipelineDto(row, await repo.stagesOf(ex, [row.id]));
  }

  return {
    // ---- pipelines ----
    async listPipelines(p: Principal, q: WholeSyncQuery = {}): Promise<PipelineDto[]> {
      requirePermission(p, 'pipelines:read');
      const rows = await repo.listPipelines(db, { updatedAfter: q.updatedAfter }, wholeListOrder(q));
      const stages = await repo.stagesOf(
        db,
        rows.map((r) => r.id),
      );
      return rows.map((r) => toPipelineDto(r, stages));
    },

    async getPipeline(p: Principal, id: string): Promise<PipelineDto> {
      requirePermission(p, 'pipelines:read');
      return loadPipeline(db, id);
    },

    async createPipeline(p: Principal, input: CreatePipelineInput): Promise<PipelineDto> {
      requirePermission(p, 'pipelines:create');
      const stages = normaliseStages(input.stages);
      const given = stages.findIndex((s) => s.id !== undefined);
      if (given >= 0) throw fieldError('VALIDATION_FAILED', `stages.${given}.id`, 'a new pipeline has no stages yet; leave id out');
      return db.transaction(async (tx) => {
        await checkUnit(tx, p, input.unitId);
        const id = crypto.randomUUID();
        if (input.isDefault) await unsetDefault(tx, id);
        const row = await repo.insertPipeline(tx, { id, name: input.name, isDefault: input.isDefault ?? false, unitId: input.unitId ?? null, productLine: input.productLine ?? null });
        const inserted = await repo.insertStages(
          tx,
          stages.map((s) => ({ pipelineId: id, key: s.key, name: s.name, position: s.position, probability: s.probability, terminal: s.terminal, outcome: s.outcome, gates: s.gates })),
        );
        const dto = toPipelineDto(row, inserted);
        await recordChange(tx, p, { entityType: 'pipeline', entityId: id, action: 'created', before: null, after: dto });
        return dto;
      });
    },

    async updatePipeline(p: Principal, id: string, input: PatchPipelineInput, expectedVersion?: number): Promise<PipelineDto> {
      requirePermission(p, 'pipelines:update');
      const next = input.stages ? normaliseStages(input.stages) : undefined;
      return db.transaction(async (tx) => {
        const before = await repo.findPipeline(tx, id, true);
        if (!before) throw notFound('pipeline');
        checkVersion(expectedVersion, before.version);
        const current = await repo.stagesOf(tx, [id]);
        const beforeDto = toPipelineDto(before, current);
        if (input.isDefault === false && before.isDefault) {
          throw fieldError('VALIDATION_FAILED', 'isDefault', 'there is always a default pipeline: make another one the default instead');
        }
        if (input.unitId !== undefined) await checkUnit(tx, p, input.unitId);
        const set: Partial<PipelineRow> = {};
        if (input.name !== undefined && input.name !== before.name) set.name = input.name;
        if (input.isDefault === true && !before.isDefault) set.isDefault = true;
        if (input.unitId !== undefined && (input.unitId ?? null) !== before.unitId) set.unitId = input.unitId ?? null;
        if (input.productLine !== undefined && (input.productLine ?? null) !== before.productLine) set.productLine = input.productLine ?? null;

        let stagesChanged = false;
        if (next) {
          const byId = new Map(current.map((s) => [s.id, s]));
          next.forEach((s, i) => {
            if (s.id && !byId.has(s.id)) throw fieldError('VALIDATION_FAILED', `stages.${i}.id`, 'not a stage of this pipeline');
          });
          const kept = new Set(next.map((s) => s.id).filter((x): x is string => !!x));
          const removed = current.filter((s) => !kept.has(s.id));
          const usage = await repo.stageUsage(
            tx,
            current.map((s) => s.id),
          );
          for (const s of removed) {
            const u = usage.get(s.id);
            if (u && u.opportunities > 0) throw new AppError('STAGE_HAS_OPPORTUNITIES', `stage ${s.key} still holds ${u.opportunities} opportunit${u.opportunities === 1 ? 'y' : 'ies'}; move them first`, { extra: { stageId: s.id, stageKey: s.key, opportunities: u.opportunities } });
            if (u && u.transitions > 0) throw new AppError('STAGE_IN_HISTORY', `stage ${s.key} appears in ${u.transitions} recorded stage transition(s); it can be renamed but not deleted`, { extra: { stageId: s.id, stageKey: s.key, transitions: u.transitions } });
          }
          // A stage that holds opportunities keeps its nature: open opportunities in a terminal stage make no sense.
          for (const s of next) {
            const old = s.id ? byId.get(s.id) : undefined;
            const n = old ? (usage.get(old.id)?.opportunities ?? 0) : 0;
            if (old && n > 0 && (old.terminal !== s.terminal || (old.outcome ?? null) !== s.outcome)) {
              throw new AppError('STAGE_HAS_OPPORTUNITIES', `stage ${old.key} holds ${n} opportunit${n === 1 ? 'y' : 'ies'}; its terminal flag and outcome cannot change`, { extra: { stageId: old.id, stageKey: old.key, opportunities: n } });
            }
          }
          const shape = (s: { key: string; name: string; position: number; probability: number; terminal: boolean; outcome: string | null; gates: unknown }) =>
            JSON.stringify([s.key, s.name, s.position, s.probability, s.terminal, s.outcome ?? null, s.gates]);
          stagesChanged =
            removed.length > 0 ||
            next.some((s) => {
              const old = s.id ? byId.get(s.id) : undefined;
              return !old || shape(old) !== shape(s);
            });
          if (stagesChanged) {
            await repo.replaceStages(tx, id, removed.map((s) => s.id), [...kept], next);
          }
        }
        if (Object.keys(set).length === 0 && !stagesChanged) return beforeDto;
        if (set.isDefault) await unsetDefault(tx, id);
        const row = await repo.updatePipeline(tx, id, before.version, set);
        if (!row) throw staleWrite();
        const dto = toPipelineDto(row, await repo.stagesOf(tx, [id]));
        await recordChange(tx, p, { entityType: 'pipeline', entityId: id, action: 'updated', before: beforeDto, after: dto });
        return dto;
      });
    },

    // ---- batches for GraphQL nested fields ----
    async stagesByIds(_p: Principal, ids: readonly string[]): Promise<Map<string, StageDto>> {
      const rows = await repo.stagesByIds(db, [...new Set(ids)]);
      return new Map(rows.map((s) => [s.id, toStageDto(s)]));
    },

    async stagesByPipeline(pipelineIds: readonly string[]): Promise<Map<string, StageDto[]>> {
      const rows = await repo.stagesOf(db, [...new Set(pipelineIds)]);
      const out = new Map<string, StageDto[]>();
      for (const s of rows) out.set(s.pipelineId, [...(out.get(s.pipelineId) ?? []), toStageDto(s)]);
      return out;
    },

  };
}
