// The opportunity's own rules that need no database: money, qualification facts, the gate view of a stage.
import { fieldError } from '../../lib/errors.js';
import type { Gate, Qualification, StageForGates } from './gates.js';
import type { StageRow } from './opportunities.repository.js';

export const forGates = (s: StageRow): StageForGates => ({ id: s.id, key: s.key, position: s.position, terminal: s.terminal, outcome: s.outcome, gates: s.gates as Gate });

export function cleanQualification(q: Record<string, unknown>): Qualification {
  return Object.fromEntries(Object.entries(q).filter(([, v]) => v !== undefined && v !== null)) as Qualification;
}

// An amount is a sum in some currency: the two travel together.
export function checkMoney(amount: string | null, currency: string | null): void {
  if (amount !== null && currency === null) throw fieldError('VALIDATION_FAILED', 'currency', 'required with an amount (ISO 4217, e.g. "EUR")');
}

// "0015.5" → "15.50": the form numeric(18,2) answers with, so a PATCH to the same sum changes nothing.
export function canonicalMoney(v: string): string {
  const [int = '0', frac = ''] = v.split('.');
  return `${int.replace(/^0+(?=\d)/, '')}.${`${frac}00`.slice(0, 2)}`;
}

