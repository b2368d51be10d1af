/**
 * Subject access (`gantry users export --user EMAIL`): one person's data as Gantry holds it — their user
 * row's public view, their role and its permissions, the API keys and OAuth clients they own, their
 * accounts at identity providers and their sessions (metadata only: never a secret, hash or token), and the
 * audit entries where they (or one of their keys or clients) are the actor or the target.
 *
 * It needs subjects:read, one permission the operation can state (a role that answers subject access
 * requests is given it; `*:read` covers it as it covers users:read, apikeys:read and audit:read, whose rows
 * it reads). An entry where the person acted on someone else keeps what
 * was done, to what and when, without its before/after documents: those are the other party's data.
 */
import type { Knex } from 'knex'
import { z } from 'zod'
import { auditEntrySchema, type AuditEntry } from '../audit/audit.schema.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import { requirePermission } from '../roles/permissions.js'
import type { RolesService } from '../roles/roles.service.js'
import { actorsOf, isAboutPerson } from './erasure.js'
import { AUDIT_TABLE, tableExists } from './erasure.repo.js'
import { identityView, selectIdentitiesOfUser } from './identities.repo.js'
import { selectUserByEmail, type UserRow } from './users.repo.js'
import { identitySchema, userSchema, type User } from './users.schema.js'

const isoOrNull = z.string().nullable().describe('ISO 8601, or null')

/** An API key or OAuth client the person owns: what it is, never its secret. */
const ownedCredentialSchema = z.object({
  id: z.string(),
  name: z.string(),
  env: z.string(),
  scopes: z.array(z.string()),
  createdAt: z.string(),
  expiresAt: isoOrNull,
  lastUsedAt: isoOrNull,
  revokedAt: isoOrNull,
})

export const subjectDataSchema = z.object({
  exportedAt: z.string().describe('ISO 8601'),
  user: userSchema,
  role: z.object({ name: z.string(), permissions: z.array(z.string()) }),
  apiKeys: z.array(ownedCredentialSchema),
  oauthClients: z.array(ownedCredentialSchema),
  identities: z.array(identitySchema).describe('their accounts at identity providers (single sign-on)'),
  sessions: z
    .array(
      z.object({
        family: z.string().describe('the session (refresh token family) id'),
        startedAt: z.string(),
        lastRefreshedAt: z.string(),
        expiresAt: z.string().describe('when the session ends at the latest'),
        revokedAt: isoOrNull,
      }),
    )
    .describe('login sessions (refresh token families); Gantry stores no IP address or user agent for them'),
  audit: z.array(auditEntrySchema).describe(
    // The published wording (the v1 document only grows): "their keys" takes in their OAuth clients.
    'entries where they are the actor (themselves or one of their keys) or the target; before/after only where they are the target, the IP only where they acted',
  ),
})
export type SubjectData = z.infer<typeof subjectDataSchema>

type Raw = Record<string, unknown>
const iso = (ms: unknown): string => new Date(Number(ms)).toISOString()
const isoNullable = (ms: unknown): string | null => (ms === null || ms === undefined ? null : iso(ms))
const parsed = (doc: unknown): unknown => (typeof doc === 'string' ? (JSON.parse(doc) as unknown) : (doc ?? null))

/** Collects the data of the user with normalised `email`; `toUser` is the users service's public view of a row. */
export async function collectSubjectData(
  deps: { knex: Knex; clock: Clock; roles: RolesService; toUser: (row: UserRow) => User },
  ctx: ActorContext,
  email: string,
): Promise<SubjectData> {
  requirePermission(ctx, 'subjects:read')
  const { knex } = deps
  const row = await selectUserByEmail(knex, email)
  if (!row) throw new GantryError('USER_NOT_FOUND', `No user with email ${email}.`)
  const keys = (await knex('gantry_api_keys').where({ owner_id: row.id }).orderBy('id')) as Raw[]
  // A restored database older than OAuth clients has no table of them.
  const clients = (await tableExists(knex, 'gantry_oauth_clients'))
    ? ((await knex('gantry_oauth_clients').where({ owner_id: row.id }).orderBy('id')) as Raw[])
    : []
  const who = { userId: row.id, keyIds: keys.map((k) => String(k.key_id)), clientIds: clients.map((c) => String(c.client_id)) }
  const tokens = (await knex('gantry_refresh_tokens')
    .select('family_id', 'created_at', 'family_expires_at', 'revoked_at')
    .where({ user_id: row.id })
    .orderBy('id')) as Raw[]
  const actors = actorsOf(who)
  const entries = (await knex(AUDIT_TABLE)
    .where((w) => {
      w.whereIn('actor', actors).orWhere({ target_type: 'user', target_id: String(row.id) })
      if (who.keyIds.length > 0) w.orWhere((kw) => kw.where('target_type', 'apikey').whereIn('target_id', who.keyIds))
      if (who.clientIds.length > 0) w.orWhere((cw) => cw.where('target_type', 'oauth-client').whereIn('target_id', who.clientIds))
    })
    .orderBy('id')) as Raw[]
  const owned = (c: Raw) => ({
    name: String(c.name),
    env: String(c.env),
    scopes: JSON.parse(String(c.scopes)) as string[],
    createdAt: iso(c.created_at),
    expiresAt: isoNullable(c.expires_at),
    lastUsedAt: isoNullable(c.last_used_at),
    revokedAt: isoNullable(c.revoked_at),
  })
  return {
    exportedAt: iso(deps.clock.now()),
    user: deps.toUser(row),
    role: { name: row.role, permissions: (await deps.roles.permissionsOf(knex, row.role)) ?? [] },
    apiKeys: keys.map((k) => ({ id: String(k.key_id), ...owned(k) })),
    oauthClients: clients.map((c) => ({ id: String(c.client_id), ...owned(c) })),
    identities: (await selectIdentitiesOfUser(knex, row.id)).map(identityView),
    sessions: sessionsOf(tokens),
    audit: entries.map((e) => toEntry(e, { target: isAboutPerson(who, e.target_type, e.target_id), actor: actors.includes(String(e.actor)) })),
  }
}

/** Refresh tokens grouped by family (one login session, rotated on every refresh), in the order they began. */
function sessionsOf(tokens: readonly Raw[]): SubjectData['sessions'] {
  const families = new Map<string, { started: number; last: number; expires: number; revoked: number | null }>()
  for (const t of tokens) {
    const family = String(t.family_id)
    const created = Number(t.created_at)
    const revoked = t.revoked_at === null ? null : Number(t.revoked_at)
    const seen = families.get(family)
    if (!seen) families.set(family, { started: created, last: created, expires: Number(t.family_expires_at), revoked })
    else families.set(family, { ...seen, last: Math.max(seen.last, created), revoked: revoked === null ? seen.revoked : Math.max(seen.revoked ?? 0, revoked) })
  }
  return [...families].map(([family, f]) => ({
    family,
    startedAt: iso(f.started),
    lastRefreshedAt: iso(f.last),
    expiresAt: iso(f.expires),
    revokedAt: isoNullable(f.revoked),
  }))
}

/** An entry as the export shows it: the documents where they are the target, the address where they acted (else another's). */
function toEntry(e: Raw, them: { target: boolean; actor: boolean }): AuditEntry {
  return {
    id: Number(e.id),
    at: iso(e.at),
    actor: String(e.actor),
    action: String(e.action),
    targetType: String(e.target_type),
    targetId: String(e.target_id),
    before: them.target ? parsed(e.before) : null,
    after: them.target ? parsed(e.after) : null,
    ip: them.actor ? ((e.ip as string | null) ?? null) : null,
  }
}
