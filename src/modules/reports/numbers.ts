// Exact arithmetic for reports: money as integer cents (BigInt), rates as integer ten-thousandths.
// Never floats for money or rates; durations (days) are plain numbers.

/** A share as a decimal string with four places, rounded half up; computed on integers, never floats. */
export function rateOf(part: number, whole: number): string {
  const tenThousandths = Math.floor((part * 10_000 * 2 + whole) / (2 * whole));
  return `${Math.floor(tenThousandths / 10_000)}.${String(tenThousandths % 10_000).padStart(4, '0')}`;
}

/** "0.2500" → 2500. */
export function rateUnits(rate: string): bigint {
  const [i = '0', f = ''] = rate.split('.');
  return BigInt(i) * 10_000n + BigInt(f.padEnd(4, '0').slice(0, 4));
}

/** 2500 → "0.2500". */
export function rateString(units: bigint): string {
  return `${units / 10_000n}.${String(units % 10_000n).padStart(4, '0')}`;
}

/** A non-negative decimal string ("1500", "1500.5", "1500.50") → cents. */
export function cents(amount: string): bigint {
  const [i = '0', f = ''] = amount.split('.');
  return BigInt(i) * 100n + BigInt(f.padEnd(2, '0').slice(0, 2));
}

/** Cents → "1500.50". */
export function money(c: bigint): string {
  const neg = c < 0n;
  const a = neg ? -c : c;
  return `${neg ? '-' : ''}${a / 100n}.${String(a % 100n).padStart(2, '0')}`;
}

/** a ÷ b rounded half up, for non-negative integers (b > 0). */
export function divRound(a: bigint, b: bigint): bigint {
  return (a * 2n + b) / (2n * b);
}

/** a ÷ b rounded up, for non-negative integers (b > 0). */
export function divCeil(a: bigint, b: bigint): bigint {
  return (a + b - 1n) / b;
}

/** An amount times a rate, rounded half up to the cent. */
export function applyRate(amountCents: bigint, rate: string): bigint {
  return divRound(amountCents * rateUnits(rate), 10_000n);
}

/** Seconds as days with two decimals (a number: durations are not money). */
export function days(seconds: number | null): number | null {
  return seconds === null ? null : Math.round((seconds / 86_400) * 100) / 100;
}
