/**
 * The events webhooks carry. Every audited change is one (its audit action, in the past tense), migration
 * runs are others, and an app adds its own through the library. Each type needs a read permission to be
 * subscribed to and to be sent: the endpoint's creator must hold it, at creation and at every delivery —
 * nobody receives by webhook what they could not read through the API.
 */
import type { AuditAction } from '../audit/audit.schema.js'
import { GantryError } from '../errors.js'

/** The event type of each audited change. */
export const AUDIT_EVENT_TYPES: Readonly<Record<AuditAction, string>> = Object.freeze({
  'users.create': 'users.created',
  'users.update': 'users.updated',
  'users.delete': 'users.deleted',
  'users.disable': 'users.disabled',
  'users.enable': 'users.enabled',
  'users.set-password': 'users.password_changed',
  'users.unlock': 'users.unlocked',
  'users.import': 'users.imported',
  'users.locked': 'users.locked',
  'users.link': 'users.identity_linked',
  'users.unlink': 'users.identity_unlinked',
  'users.erased': 'users.erased',
  'roles.create': 'roles.created',
  'roles.update': 'roles.updated',
  'roles.delete': 'roles.deleted',
  'apikeys.create': 'apikeys.created',
  'apikeys.revoke': 'apikeys.revoked',
  'apikeys.rotate': 'apikeys.rotated',
  'oauth.clients.create': 'oauth.client_created',
  'oauth.clients.revoke': 'oauth.client_revoked',
  'oauth.clients.rotate': 'oauth.client_rotated',
  'oauth.token-refused': 'oauth.token_refused',
  'oauth.tokens.revoke': 'oauth.tokens_revoked',
  'sessions.login': 'sessions.logged_in',
  'sessions.login-failed': 'sessions.login_failed',
  'sessions.break-glass': 'sessions.break_glass',
  'tokens.issue': 'sessions.token_issued',
  'tokens.revoke': 'sessions.revoked',
  'keys.create': 'keys.created',
  'keys.rotate': 'keys.rotated',
  'maintenance.on': 'maintenance.on',
  'maintenance.off': 'maintenance.off',
  'ratelimits.set': 'ratelimits.rule_set',
  'ratelimits.remove': 'ratelimits.rule_removed',
  'ratelimits.override': 'ratelimits.override_set',
  'ratelimits.override.remove': 'ratelimits.override_removed',
  'ratelimits.apply': 'ratelimits.applied',
  'webhooks.create': 'webhooks.created',
  'webhooks.update': 'webhooks.updated',
  'webhooks.enable': 'webhooks.enabled',
  'webhooks.disable': 'webhooks.disabled',
  'webhooks.delete': 'webhooks.deleted',
  'webhooks.rotate-secret': 'webhooks.secret_rotated',
  'webhooks.test': 'webhooks.tested',
  'webhooks.redeliver': 'webhooks.redelivered',
  'webhooks.replay': 'webhooks.replayed',
  'keys.rotate-encryption': 'keys.encryption_rotated',
  'migrations.apply': 'migrations.applied',
  'migrations.fail': 'migrations.failed',
  'migrations.rollback': 'migrations.rolled_back',
  'flags.create': 'flags.created',
  'flags.update': 'flags.updated',
  'flags.delete': 'flags.deleted',
  'flags.apply': 'flags.applied',
  'flags.segment.set': 'flags.segment_set',
  'flags.segment.delete': 'flags.segment_deleted',
  'db.backup': 'db.backed_up',
  'db.restore': 'db.restored',
  'audit.pruned': 'audit.pruned',
})

/** Events that are not audit rows: the test ping (`webhooks test`). */
export const TEST_EVENT_TYPE = 'webhook.test'

/**
 * The permission that reads each area's events. An area the table does not know (an app's own `orders.*`)
 * is read with `<area>:read`, as the app's own permissions are named.
 */
const READ_PERMISSION: Readonly<Record<string, string>> = Object.freeze({
  sessions: 'users:read',
  // A run is read where every change is: in the audit log.
  migrations: 'audit:read',
  // Backups and restores likewise: a run of a command on the database, read in the audit log.
  db: 'audit:read',
  webhook: 'webhooks:read',
})

/** An event type or pattern: lowercase words separated by dots, a pattern's last word `*` (`users.*`) or `*` alone. */
const WORD = /^[a-z][a-z0-9_-]{0,62}$/

/** The area of a type or pattern (`users` of `users.created`); `*` for every area. */
export function eventArea(typeOrPattern: string): string {
  return typeOrPattern.split('.', 1)[0] ?? ''
}

/** The permission needed to receive events of `typeOrPattern` (`*` needs every area's: `*:read`). */
export function readPermissionOf(typeOrPattern: string): string {
  const area = eventArea(typeOrPattern)
  return area === '*' ? '*:read' : (READ_PERMISSION[area] ?? `${area}:read`)
}

/** Whether `text` is a well-formed event type (`pattern`: a trailing `*` word allowed). Plain string work: no regex over the whole text. */
export function isEventType(text: string, options: { pattern: boolean }): boolean {
  if (text.length === 0 || text.length > 128) return false
  if (options.pattern && text === '*') return true
  const words = text.split('.')
  if (words.length < 2) return false
  return words.every((word, i) => (options.pattern && i === words.length - 1 && word === '*') || WORD.test(word))
}

/** Whether an endpoint subscribed to `patterns` wants an event of `type`. */
export function wants(patterns: readonly string[], type: string): boolean {
  return patterns.some((p) => p === '*' || p === type || (p.endsWith('.*') && type.startsWith(p.slice(0, -1))))
}

/** The event type an app emits, refused when malformed or when it claims one of Gantry's own areas. */
export function appEventType(type: string, ownAreas: ReadonlySet<string>): string {
  if (!isEventType(type, { pattern: false }))
    throw new GantryError('INVALID_INPUT', `"${type.slice(0, 64)}" is not an event type: use lowercase words separated by dots, like orders.created.`)
  if (ownAreas.has(eventArea(type)))
    throw new GantryError('INVALID_INPUT', `Event type ${type} is in an area of Gantry's own: name your events after your app's areas.`)
  return type
}

/** Gantry's own areas (users, roles, …): an app may not emit events in them. */
export const GANTRY_EVENT_AREAS: ReadonlySet<string> = new Set([...Object.values(AUDIT_EVENT_TYPES), TEST_EVENT_TYPE].map(eventArea))
