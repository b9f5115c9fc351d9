// Reading refusals: RFC 9457 problem answers (REST) and the field paths an error names (both doors).

type Answer = { status: number; headers: Record<string, unknown>; body: any; raw: string };

export const isProblem = (headers: Record<string, unknown>): boolean => String(headers['content-type'] ?? '').startsWith('application/problem+json');

/** The paths named by a problem's `errors[]` (REST) or by a GraphQL error's `extensions.errors`. */
export const errorPaths = (errors: { path: string }[] | undefined): string[] => (errors ?? []).map((e) => e.path);

/** The field paths every GraphQL error of an answer names in `extensions.errors`. */
export const gqlPaths = (g: { errors?: { extensions?: Record<string, any> }[] }): string[] =>
  (g.errors ?? []).flatMap((e) => ((e.extensions?.errors ?? []) as { path: string }[]).map((x) => x.path));

/** Null when `res` is a problem+json answer with this status (naming exactly `paths` when given), else what is wrong. */
export function problemOf(res: Answer, status: number, paths?: string[]): string | null {
  if (res.status !== status) return `status ${res.status}, expected ${status}: ${res.raw}`;
  if (!isProblem(res.headers)) return `not problem+json: ${String(res.headers['content-type'])}`;
  const b = res.body;
  if (typeof b?.type !== 'string' || typeof b?.title !== 'string' || b?.status !== status || typeof b?.detail !== 'string') return `not a problem: ${res.raw}`;
  if (paths) {
    const got = errorPaths(b.errors);
    if (JSON.stringify(got) !== JSON.stringify(paths)) return `errors name ${JSON.stringify(got)}, expected ${JSON.stringify(paths)}`;
  }
  return null;
}
