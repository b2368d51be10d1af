/**
 * How a held permission pattern covers a wanted one. Kept apart from permissions.ts (which builds zod schemas
 * and errors) so the admin console, which offers only the actions its user holds, bundles these few lines alone.
 */
/**
 * Whether pattern `p` covers pattern `q`: every concrete permission `q` matches, `p` matches too. `*` (and
 * `*:*`) covers everything; otherwise each half of `p` is `*` or equal to that half of `q` — a `*` half of
 * `q` stands for names not yet written, so only `*` covers it (`*:read` covers `audit:read`, not `audit:*`).
 * With a concrete `q` this is "p grants q".
 */
export function covers(p: string, q: string): boolean {
  const [pr, pa] = halves(p)
  const [qr, qa] = halves(q)
  return (pr === '*' || pr === qr) && (pa === '*' || pa === qa)
}

/** Whether any of `permissions` covers `required`. */
export function hasPermission(permissions: readonly string[], required: string): boolean {
  return permissions.some((p) => covers(p, required))
}

// `*` is `*:*`: every concrete permission has both halves.
const halves = (pattern: string): [string, string | undefined] => {
  if (pattern === '*') return ['*', '*']
  const colon = pattern.indexOf(':')
  return colon < 0 ? [pattern, undefined] : [pattern.slice(0, colon), pattern.slice(colon + 1)]
}
