/**
 * A write load through `gantry serve`'s HTTP API that remembers every write the server acknowledged, and
 * when: CLIENTS closed-loop clients, each repeating one chain of writes whose rows reference each other —
 * a user (and its audit entry), an API key of that user, a login as that user (a refresh token of theirs),
 * a refresh (a successor token whose parent is marked rotated, in one transaction), and on every other
 * round the key's revocation (an update). A write counts as acknowledged once its answer arrived with the
 * expected status; its time is the wall clock (Date.now(), as a backup's manifest has it) read after the
 * answer, so it is never earlier than the commit. Any other answer, a 5xx or no answer is `unexpected`.
 * Logins come from a loopback address of their own each (127.0.0.2 …): the built-in per-address login
 * rule (20 at once) would otherwise throttle a load that logs a new user in every round.
 */
import type { Agent } from 'node:http'
import type { Knex } from 'knex'
import { hashToken } from '../../src/core/sessions/token-hash.js'
import { keepAliveAgent, shoot, type Shot } from './http-load.js'
import { until } from './serve-process.js'

/** When a write was sent and when its answer came (wall clock, Date.now()). */
interface Timed {
  readonly sentAt: number
  readonly at: number
}

/** A write the server acknowledged, what identifies its rows, and when. */
export type Ack = Timed &
  (
    | { readonly kind: 'user'; readonly email: string }
    | { readonly kind: 'apikey'; readonly keyId: string; readonly owner: string }
    | { readonly kind: 'revoke'; readonly keyId: string }
    | { readonly kind: 'session'; readonly tokenHash: string; readonly owner: string }
    | { readonly kind: 'rotation'; readonly tokenHash: string; readonly parentHash: string; readonly owner: string }
  )

export interface WriteLoad {
  /** Every acknowledged write so far, in the order the answers came. */
  readonly acks: readonly Ack[]
  /** Answers that were not the expected ones (status, body), and requests that got none. */
  readonly unexpected: readonly string[]
  /** Requests sent so far. */
  requests(): number
  /** Resolves once `count` writes in all have been acknowledged (bounded by `timeoutMs`). */
  waitForAcks(count: number, timeoutMs?: number): Promise<void>
  /** Lets each client finish its current request, then stops; resolves when all have. */
  stop(): Promise<void>
}

/** Users the load creates have emails with this prefix. */
export const LOAD_EMAIL_PREFIX = 'load-'

const password = (n: number): string => `write load passphrase ${n}`

/** Starts `clients` clients writing through the server at `url` as the admin whose access token is given. */
export function startWriteLoad(url: string, adminToken: string, clients: number): WriteLoad {
  const acks: Ack[] = []
  const unexpected: string[] = []
  let sent = 0
  let rounds = 0
  let stopped = false
  const admin = { authorization: `Bearer ${adminToken}` }

  /** One request; its parsed body when the status is `expected`, else undefined (and the answer noted). */
  const send = async <T>(agent: Agent | undefined, path: string, expected: number, options: { body?: unknown; localAddress?: string; auth?: boolean }) => {
    sent++
    const sentAt = Date.now()
    const shot: Shot = await shoot(0, url, path, {
      method: 'POST',
      body: options.body ?? {},
      ...(agent ? { agent } : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
      headers: options.auth === false ? {} : admin,
    })
    const at = Date.now()
    if (shot.status === expected) {
      try {
        return { sentAt, at, body: JSON.parse(shot.body) as T }
      } catch {
        // Not JSON: noted below like any other unexpected answer.
      }
    }
    if (unexpected.length < 1000) unexpected.push(`POST ${path}: ${shot.status} ${shot.error ?? shot.body.slice(0, 300)}`)
    return undefined
  }

  const client = async (): Promise<void> => {
    const agent = keepAliveAgent({ maxSockets: 1 })
    try {
      while (!stopped) {
        const n = rounds++
        const email = `${LOAD_EMAIL_PREFIX}${n}@example.com`
        const user = await send(agent, '/api/v1/admin/users', 201, { body: { email, role: 'viewer', password: password(n) } })
        if (!user) continue
        acks.push({ kind: 'user', sentAt: user.sentAt, at: user.at, email })
        const key = await send<{ apiKey: { id: string } }>(agent, '/api/v1/admin/api-keys', 201, { body: { name: `load ${n}`, owner: email } })
        if (key) acks.push({ kind: 'apikey', sentAt: key.sentAt, at: key.at, keyId: key.body.apiKey.id, owner: email })
        // A fresh connection from an address of its own (see the header): no agent.
        const login = await send<{ refreshToken: string }>(undefined, '/api/v1/auth/login', 200, {
          body: { email, password: password(n) },
          localAddress: `127.0.${Math.floor(n / 250) % 250}.${2 + (n % 250)}`,
          auth: false,
        })
        if (login) {
          const parentHash = hashToken(login.body.refreshToken)
          acks.push({ kind: 'session', sentAt: login.sentAt, at: login.at, tokenHash: parentHash, owner: email })
          const refresh = await send<{ refreshToken: string }>(agent, '/api/v1/auth/refresh', 200, {
            body: { refreshToken: login.body.refreshToken },
            auth: false,
          })
          if (refresh)
            acks.push({ kind: 'rotation', sentAt: refresh.sentAt, at: refresh.at, tokenHash: hashToken(refresh.body.refreshToken), parentHash, owner: email })
        }
        if (key && n % 2 === 1) {
          const revoke = await send(agent, `/api/v1/admin/api-keys/${key.body.apiKey.id}/revoke`, 200, {})
          if (revoke) acks.push({ kind: 'revoke', sentAt: revoke.sentAt, at: revoke.at, keyId: key.body.apiKey.id })
        }
      }
    } finally {
      agent.destroy()
    }
  }

  const running = Promise.all(Array.from({ length: clients }, () => client()))
  return {
    acks,
    unexpected,
    requests: () => sent,
    waitForAcks: async (count, timeoutMs = 60_000) => {
      const state = await until(async () => (acks.length >= count ? 'done' : unexpected.length > 50 ? 'failing' : undefined), `${count} acknowledged writes`, {
        timeoutMs,
      }).catch((err: Error) => err.message)
      if (state !== 'done') throw new Error(`${state === 'failing' ? 'the load is failing' : state}; unexpected answers: ${unexpected.slice(0, 5).join(' | ')}`)
    },
    stop: async () => {
      stopped = true
      await running
    },
  }
}

interface KeyRow {
  readonly key_id: string
  readonly owner_id: number | string
  readonly revoked_at: number | string | null
}

interface TokenRow {
  readonly id: number | string
  readonly user_id: number | string
  readonly token_hash: string
  readonly parent_id: number | string | null
  readonly rotated_at: number | string | null
}

/** The rows the load's writes touch, as a database (a restored copy) holds them. */
async function loadRows(k: Knex) {
  const users = (await k('gantry_users').select('id', 'email')) as Array<{ id: number | string; email: string }>
  const keys = (await k('gantry_api_keys').select('key_id', 'owner_id', 'revoked_at')) as KeyRow[]
  const tokens = (await k('gantry_refresh_tokens').select('id', 'user_id', 'token_hash', 'parent_id', 'rotated_at')) as TokenRow[]
  const audit = (await k('gantry_audit_log').select('action', 'target_id').whereIn('action', ['users.create', 'apikeys.create', 'apikeys.revoke'])) as Array<{
    action: string
    target_id: string
  }>
  return {
    users,
    keys,
    tokens,
    userIds: new Map(users.map((u) => [u.email, Number(u.id)])),
    keysById: new Map(keys.map((r) => [r.key_id, r])),
    tokensByHash: new Map(tokens.map((r) => [r.token_hash, r])),
    audited: new Set(audit.map((a) => `${a.action} ${a.target_id}`)),
    audit,
  }
}

/**
 * The acknowledged writes of `acks` that the database lacks, or holds otherwise than acknowledged (a key of
 * another owner, a revoked key not revoked, a refresh whose parent is not marked rotated): one line each.
 */
export async function missingWrites(k: Knex, acks: readonly Ack[]): Promise<string[]> {
  const { userIds, keysById, tokensByHash } = await loadRows(k)
  const problem = (ack: Ack): string | undefined => {
    switch (ack.kind) {
      case 'user':
        return userIds.has(ack.email) ? undefined : `user ${ack.email} missing`
      case 'apikey': {
        const row = keysById.get(ack.keyId)
        if (!row) return `API key ${ack.keyId} of ${ack.owner} missing`
        return Number(row.owner_id) === userIds.get(ack.owner) ? undefined : `API key ${ack.keyId} not ${ack.owner}'s`
      }
      case 'revoke': {
        const row = keysById.get(ack.keyId)
        return row && row.revoked_at !== null ? undefined : `revocation of API key ${ack.keyId} ${row ? 'lost (the key is live)' : 'missing with its key'}`
      }
      case 'session': {
        const row = tokensByHash.get(ack.tokenHash)
        if (!row) return `refresh token of ${ack.owner}'s login missing`
        return Number(row.user_id) === userIds.get(ack.owner) ? undefined : `refresh token of ${ack.owner}'s login not theirs`
      }
      case 'rotation': {
        const row = tokensByHash.get(ack.tokenHash)
        const parent = tokensByHash.get(ack.parentHash)
        if (!row) return `refreshed token of ${ack.owner} missing`
        if (!parent || Number(row.parent_id) !== Number(parent.id)) return `refreshed token of ${ack.owner} without its parent`
        return parent.rotated_at === null ? `the parent of ${ack.owner}'s refreshed token is not marked rotated` : undefined
      }
    }
  }
  return acks.flatMap((ack) => {
    const found = problem(ack)
    return found === undefined ? [] : [found]
  })
}

/**
 * Writes the database holds only in part: each of the load's writes is one transaction (the row and its
 * audit entry; a rotation's parent and successor), so a consistent copy holds all of one or none of it.
 * Users are those of the load (other users may have been inserted without an audit entry, in bulk).
 */
export async function tornWrites(k: Knex): Promise<string[]> {
  const { users, keys, tokens, audited, audit, userIds, keysById } = await loadRows(k)
  const torn: string[] = []
  for (const u of users)
    if (u.email.startsWith(LOAD_EMAIL_PREFIX) && !audited.has(`users.create ${u.id}`)) torn.push(`user ${u.email} without its users.create audit entry`)
  const userIdSet = new Set(userIds.values())
  for (const a of audit) {
    if (a.action === 'users.create' && !userIdSet.has(Number(a.target_id))) torn.push(`users.create audit entry of user ${a.target_id}, who is missing`)
    if (a.action === 'apikeys.create' && !keysById.has(a.target_id)) torn.push(`apikeys.create audit entry of key ${a.target_id}, which is missing`)
    if (a.action === 'apikeys.revoke' && keysById.get(a.target_id)?.revoked_at == null)
      torn.push(`apikeys.revoke audit entry of key ${a.target_id}, which is not revoked`)
  }
  for (const key of keys) {
    if (!audited.has(`apikeys.create ${key.key_id}`)) torn.push(`API key ${key.key_id} without its apikeys.create audit entry`)
    if (key.revoked_at !== null && !audited.has(`apikeys.revoke ${key.key_id}`)) torn.push(`API key ${key.key_id} revoked without its audit entry`)
  }
  const byId = new Map(tokens.map((t) => [Number(t.id), t]))
  const parents = new Set(tokens.filter((t) => t.parent_id !== null).map((t) => Number(t.parent_id)))
  for (const t of tokens) {
    const parent = t.parent_id === null ? undefined : byId.get(Number(t.parent_id))
    if (t.parent_id !== null && parent?.rotated_at == null) torn.push(`refresh token ${t.id}: its parent ${t.parent_id} is missing or not marked rotated`)
    if (t.rotated_at !== null && !parents.has(Number(t.id))) torn.push(`refresh token ${t.id} marked rotated without a successor`)
  }
  return torn
}

/**
 * Whether the database takes new rows of the tables the load writes (each id sequence or AUTO_INCREMENT
 * counter restored past the rows it holds): a user, a refresh token and an API key of theirs are inserted
 * in one transaction that is then rolled back. The error, or undefined when they went in.
 */
export async function newRowsRefused(k: Knex): Promise<string | undefined> {
  const now = Date.now()
  const probe = new Error('rolled back')
  try {
    await k.transaction(async (trx) => {
      const email = 'after-restore@example.com'
      await trx('gantry_users').insert({ email, role: 'viewer', created_at: now, updated_at: now })
      const { id } = (await trx('gantry_users').where({ email }).first('id')) as { id: number }
      await trx('gantry_refresh_tokens').insert({
        user_id: id,
        family_id: 'after-restore',
        token_hash: 'f'.repeat(64),
        session_epoch: 0,
        expires_at: now + 60_000,
        family_expires_at: now + 60_000,
        created_at: now,
      })
      await trx('gantry_api_keys').insert({
        key_id: 'afterRestore',
        name: 'after restore',
        owner_id: id,
        env: 'test',
        secret_hash: 'f'.repeat(64),
        scopes: '[]',
        created_at: now,
      })
      throw probe
    })
  } catch (err) {
    if (err === probe) return undefined
    return err instanceof Error ? err.message.slice(0, 300) : String(err)
  }
  return 'the transaction committed'
}
