import pg from 'pg';
import type { BaselineStatement } from './baseline.js';

// Records the SQL the app sends while `on` is set, at the one place every statement passes: pg's
// Client.query (drizzle's pool queries go through it too). The baseline replays exactly these.

type QueryConfigLike = { text?: unknown; values?: unknown; name?: unknown };

export const sqlCapture = {
  on: false,
  items: [] as BaselineStatement[],
};

let installed = false;

export function installSqlCapture(): void {
  if (installed) return;
  installed = true;
  const proto = pg.Client.prototype as unknown as { query: (...args: unknown[]) => unknown };
  const original = proto.query;
  proto.query = function (this: unknown, ...args: unknown[]) {
    if (sqlCapture.on) {
      const [first, second] = args;
      if (typeof first === 'string') {
        sqlCapture.items.push({ text: first, values: Array.isArray(second) ? second : [] });
      } else if (first && typeof first === 'object' && typeof (first as QueryConfigLike).text === 'string') {
        const c = first as QueryConfigLike;
        const values = Array.isArray(c.values) ? c.values : Array.isArray(second) ? second : [];
        // A named (prepared) statement is replayed prepared too, so both sides skip the same parsing.
        sqlCapture.items.push({ text: c.text as string, values, ...(typeof c.name === 'string' ? { name: c.name } : {}) });
      }
    }
    return original.apply(this, args);
  };
}

/** Runs fn and returns the statements it sent, minus the principal lookup (the baseline has no auth). */
export async function captureSql(fn: () => Promise<unknown>): Promise<BaselineStatement[]> {
  sqlCapture.items = [];
  sqlCapture.on = true;
  try {
    await fn();
  } finally {
    sqlCapture.on = false;
  }
  return sqlCapture.items
    .filter((s) => !s.text.includes('AS partner_path'))
    .map((s) => ({ ...s, values: s.values.map((v) => (v instanceof Date ? v.toISOString() : v)) }));
}
