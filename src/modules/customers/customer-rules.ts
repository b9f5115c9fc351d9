// Rules of the customer record that need no database: credit as the ERP gives it, external id patches.
import { fieldError } from '../../lib/errors.js';

// "0050000.5" → "50000.50": the form numeric(18,2) answers with, so a repeated sum changes nothing.
export function canonicalMoney(v: string): string {
  const [int = '0', frac = ''] = v.split('.');
  return `${int.replace(/^0+(?=\d)/, '')}.${`${frac}00`.slice(0, 2)}`;
}

type Credit = { creditLimit: string | null; creditCurrency: string | null };

/**
 * The credit limit and its currency after a create or a merge patch: a limit is a sum in some currency,
 * so the two travel together (a limit without a currency is refused naming `creditCurrency`).
 */
export function checkedCredit(before: Credit | null, input: { creditLimit?: string | null | undefined; creditCurrency?: string | null | undefined }): Credit {
  const creditLimit = input.creditLimit === undefined ? (before?.creditLimit ?? null) : input.creditLimit === null ? null : canonicalMoney(input.creditLimit);
  const creditCurrency = input.creditCurrency === undefined ? (before?.creditCurrency ?? null) : input.creditCurrency;
  if (creditLimit !== null && creditCurrency === null) throw fieldError('VALIDATION_FAILED', 'creditCurrency', 'required with a credit limit (ISO 4217, e.g. "EUR")');
  return { creditLimit, creditCurrency };
}

/** The merge patch that turns one `{ system: id }` map into another (null removes a system's id). */
export function externalIdsDiff(before: Record<string, string>, after: Record<string, string>): Record<string, string | null> {
  const patch: Record<string, string | null> = {};
  for (const k of Object.keys(before)) if (!(k in after)) patch[k] = null;
  for (const [k, v] of Object.entries(after)) if (before[k] !== v) patch[k] = v;
  return patch;
}
