// Who counts as a manager, defined once. Two questions, two answers:
// - Who heads a unit (receives escalations, takes over a departed colleague's open actions): an
//   active holder of one of these built-in roles in the unit, or above it (this file).
// - Who has a manager's authority over a record or a user: a principal whose scope for the
//   permission reaches beyond its own records, SUBTREE or ALL (`hasManagerScope` in lib/access).
export const HEAD_OF_UNIT_ROLES = ['manager', 'partner_manager'] as const;
