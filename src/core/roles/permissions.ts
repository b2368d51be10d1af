/**
 * Permissions are `resource:action` strings; `*` alone grants everything, and either half may be `*`
 * (`users:*`, `*:read`). A required permission is always concrete (`users:write`).
 */
import { z } from 'zod'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import { covers, hasPermission } from './permission-match.js'

export { covers, hasPermission }

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
  'users:read',
  'users:write',
  // Erasing a user (`users delete --erase`) rewrites audit history: it clears their IPs and pseudonymises the
  // entries about them. Beside users:write, so a role that manages users cannot make an accomplice, act
  // through it and then erase its trail. Neither a read nor a write: `*:read` and `users:write` miss it.
  'users:erase',
  'roles:read',
  'roles:write',
  'apikeys:read',
  'apikeys:write',
  // OAuth clients (machine clients of the client-credentials grant): owned credentials like API keys.
  'oauth:read',
  'oauth:write',
  'sessions:write',
  'ratelimits:read',
  'ratelimits:write',
  'audit:read',
  'audit:delete',
  'maintenance:read',
  'maintenance:write',
  'keys:read',
  'keys:write',
  'webhooks:read',
  'webhooks:write',
  'flags:read',
  'flags:write',
  'flags:evaluate',
  // A person's data in one answer (subject access): their user, keys, sessions and the audit entries about
  // them, so one permission an operation can state, which `*:read` covers as it covers each of those reads.
  'subjects:read',
  // The backups in the environment's backups.directory, as their manifests say (the admin API's read of what
  // `db backups list` shows): viewer and operator hold it through `*:read`. Taking and restoring one stay
  // local commands on the database itself, so there is no backups:write.
  'backups:read',
])

/** Whether the set `held` covers every element of `wanted` (each by some one element of `held`). */
export function coversAll(held: readonly string[], wanted: readonly string[]): boolean {
  return wanted.every((q) => held.some((p) => covers(p, q)))
}

/** The elements of `wanted` that `held` does not cover. */
export function uncovered(held: readonly string[], wanted: readonly string[]): string[] {
  return wanted.filter((q) => !held.some((p) => covers(p, q)))
}

/** Throws FORBIDDEN unless the actor holds `required`. */
export function requirePermission(ctx: ActorContext, required: string): void {
  if (!hasPermission(ctx.permissions, required)) {
    throw new GantryError('FORBIDDEN', `This needs the ${required} permission.`, { details: { required } })
  }
}

/**
 * Invariant 1 (DESIGN.md): an actor hands out only what it holds. Throws FORBIDDEN naming the permissions
 * in `handedOut` that the actor's own do not cover; `what` says what would carry them ("role admin").
 */
export function requireHandOut(ctx: ActorContext, handedOut: readonly string[], what: string): void {
  const beyond = uncovered(ctx.permissions, handedOut)
  if (beyond.length > 0) {
    throw new GantryError('FORBIDDEN', `${what} would carry permissions you do not hold: ${beyond.join(', ')}.`, { details: { beyond } })
  }
}

/**
 * Invariant 2 (DESIGN.md): an actor acts on another principal only if its own permissions cover the
 * target's. Throws FORBIDDEN otherwise; `target` names the principal ("admin@example.com").
 */
export function requireCoversTarget(ctx: ActorContext, targetPermissions: readonly string[], target: string): void {
  if (!coversAll(ctx.permissions, targetPermissions)) {
    throw new GantryError('FORBIDDEN', `${target} holds permissions you do not hold: only an actor whose permissions cover theirs may do this.`, {
      details: { beyond: uncovered(ctx.permissions, targetPermissions) },
    })
  }
}
