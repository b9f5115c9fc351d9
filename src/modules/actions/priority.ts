/**
 * The agenda's priority of an open action: a pure function of (value, urgency, dueAt, now).
 *
 *   priority = value × urgency × timeFactor(hours until due)
 *
 *   timeFactor = 1                                   no due date (ranks like "due some day")
 *              = 1 + 2·H / (H + h)                   due in h ≥ 0 hours (3 when due now, 2 at h = H,
 *                                                    falling towards 1 far ahead)
 *              = 3 + min(−h, R) / R                  overdue by −h hours (rising to 4 after R hours)
 *
 * with H = 48 hours and R = 168 hours (a week). The weight value × urgency runs 1–25 while the time
 * factor is bounded to [1, 4]: time can lift an action at most fourfold, so an action whose weight
 * is more than four times another's always ranks above it, whatever their due dates — an important,
 * urgent action is never buried under trivial ones that happen to be due a little earlier.
 *
 * The SQL in actions.repository.ts (`prioritySql`) evaluates exactly these floating-point
 * operations in the same order on the same integers (milliseconds), so the database orders the
 * agenda exactly as this function does.
 */

export const HORIZON_HOURS = 48;
export const OVERDUE_RAMP_HOURS = 168;
export const MAX_TIME_FACTOR = 4;
export const MS_PER_HOUR = 3_600_000;

// How much closeness of the due time multiplies the weight, in [1, 4].
export function timeFactor(dueAtMs: number | null, nowMs: number): number {
  if (dueAtMs === null) return 1;
  const h = (dueAtMs - nowMs) / MS_PER_HOUR;
  if (h >= 0) return 1 + (2 * HORIZON_HOURS) / (HORIZON_HOURS + h);
  return 3 + Math.min(-h, OVERDUE_RAMP_HOURS) / OVERDUE_RAMP_HOURS;
}

export function priority(value: number, urgency: number, dueAt: Date | null, now: Date): number {
  return value * urgency * timeFactor(dueAt === null ? null : dueAt.getTime(), now.getTime());
}
