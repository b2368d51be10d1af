/**
 * Permissions are `resource:action` strings; `*` alone grants everything, and either half may be `*`
 * (`users:*`, `*:read`). A required permission is always concrete (`users:write`).
 */
import { z } from 'zod'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'

const part = '[a-z][a-z0-9-]*'
/** `*`, or `resource:action` where either half may be `*`. */
export const permissionSchema = z
  .string()
  .trim()
  .regex(new RegExp(`^(\\*|(${part}|\\*):(${part}|\\*))$`), 'a permission is resource:action (lower case), with * wildcards, e.g. users:read, *:read, users:*')

/**
 * Gantry's own permissions, as its services check them. An app may require these too (a route for
 * operators: `ratelimits:write`) without declaring them.
 */
export const GANTRY_PERMISSIONS: readonly string[] = Object.freeze([
  'users:read', 'users:write',
  'roles:read', 'roles:write',
  'apikeys:read', 'apikeys:write',
  'sessions:write',
  'ratelimits:read', 'ratelimits:write',
  'audit:read',
  'maintenance:read', 'maintenance:write',
  'keys:read', 'keys:write',
])

/** Whether `granted` (a possibly wildcarded permission) covers the concrete `required` one. */
export function grants(granted: string, required: string): boolean {
  if (granted === '*') return true
  const [gr, ga] = granted.split(':')
  const [rr, ra] = required.split(':')
  return (gr === '*' || gr === rr) && (ga === '*' || ga === ra)
}

/** Whether any of `permissions` covers `required`. */
export function hasPermission(permissions: readonly string[], required: string): boolean {
  return permissions.some((p) => grants(p, required))
}

/** Throws FORBIDDEN unless the actor holds `required`. */
export function requirePermission(ctx: ActorContext, required: string): void {
  if (!hasPermission(ctx.permissions, required)) {
    throw new GantryError('FORBIDDEN', `This needs the ${required} permission.`, { details: { required } })
  }
}
