// Permissions are `resource:action` strings (with `*` wildcards); a role grants them within a data scope.
export const SCOPES = ['OWN', 'UNIT', 'SUBTREE', 'ALL'] as const;
export type Scope = (typeof SCOPES)[number];

export const SCOPE_RANK: Record<Scope, number> = { OWN: 0, UNIT: 1, SUBTREE: 2, ALL: 3 };

export function permits(granted: readonly string[], wanted: string): boolean {
  const [resource, action] = wanted.split(':');
  return granted.some((g) => {
    const [r, a] = g.split(':');
    return (r === '*' || r === resource) && (a === '*' || a === action);
  });
}
