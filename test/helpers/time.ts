// Time for tests: durations, instants as the API takes them, and waiting.

export const minute = 60_000;
export const hour = 60 * minute;
export const day = 24 * hour;

/** The instant `ms` from now (negative: ago), as the API takes it. */
export const inMs = (ms: number): string => new Date(Date.now() + ms).toISOString();
export const inHours = (h: number): string => inMs(h * hour);

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `cond` every `step` ms for up to `ms`; its last answer. */
export async function waitFor(cond: () => Promise<boolean>, ms: number, step = 250): Promise<boolean> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await cond()) return true;
    await sleep(step);
  }
  return cond();
}
