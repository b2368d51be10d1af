/**
 * The built-in roles and the permissions each is created with (migrations/20261122000100_gantry_identity.ts
 * seeds the same sets; migrations are frozen, so src keeps its own copy and a later migration that changes
 * a built-in role changes this constant with it).
 *
 * An app may grant `operator` and `viewer` extra permissions (its own `orders:write`, say) and revoke those
 * extras again; the permissions listed here stay. `admin` (`*`) holds everything already and never changes.
 */
export const BUILTIN_ROLE_PERMISSIONS: Readonly<Record<'admin' | 'operator' | 'viewer', readonly string[]>> = Object.freeze({
  admin: Object.freeze(['*']),
  operator: Object.freeze(['*:read', 'ratelimits:write', 'maintenance:write', 'apikeys:write', 'sessions:write']),
  viewer: Object.freeze(['*:read']),
})

/** The built-in permissions of a built-in role; undefined for any other name. */
export function builtinPermissionsOf(name: string): readonly string[] | undefined {
  return Object.hasOwn(BUILTIN_ROLE_PERMISSIONS, name) ? BUILTIN_ROLE_PERMISSIONS[name as keyof typeof BUILTIN_ROLE_PERMISSIONS] : undefined
}

/**
 * Permissions that grant everything (`*`, and `*:*`, which covers every concrete permission too). None is
 * ever granted to a built-in role: `*` would make every operator or viewer an admin — and the last-admin
 * rule counting them — and revoking it again would demote them all at once. Make a custom role for that.
 */
export function grantsEverything(permission: string): boolean {
  return permission === '*' || permission === '*:*'
}
