/**
 * The knex queries of API keys. Every read joins the owner (email, status, role), since every use of a key
 * needs them. Times are epoch-ms BIGINT columns, which PostgreSQL returns as strings: rows are mapped
 * through Number() here, so the service sees numbers on every dialect.
 */
import type { Knex } from 'knex'
import { insertedId } from '../sql.js'

const TABLE = 'gantry_api_keys'

/** One stored key with its owner (never the key itself: only hashes of secrets are stored). */
export interface ApiKeyRow {
  readonly id: number
  readonly keyId: string
  readonly name: string
  readonly ownerId: number
  readonly ownerEmail: string
  readonly env: string
  readonly secretHash: string
  readonly previousSecretHash: string | null
  readonly previousExpiresAt: number | null
  readonly scopes: string[]
  readonly expiresAt: number | null
  readonly lastUsedAt: number | null
  readonly revokedAt: number | null
  readonly createdAt: number
}

/** What a new key row needs. */
export interface NewApiKey {
  readonly keyId: string
  readonly name: string
  readonly ownerId: number
  readonly env: string
  readonly secretHash: string
  readonly scopes: readonly string[]
  readonly expiresAt: number | null
  readonly createdAt: number
}

type Raw = Record<string, unknown>

const nullableNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))

function toRow(raw: Raw): ApiKeyRow {
  return {
    id: Number(raw.id),
    keyId: String(raw.key_id),
    name: String(raw.name),
    ownerId: Number(raw.owner_id),
    ownerEmail: String(raw.owner_email),
    env: String(raw.env),
    secretHash: String(raw.secret_hash),
    previousSecretHash: raw.previous_secret_hash === null ? null : String(raw.previous_secret_hash),
    previousExpiresAt: nullableNumber(raw.previous_expires_at),
    scopes: JSON.parse(String(raw.scopes)) as string[],
    expiresAt: nullableNumber(raw.expires_at),
    lastUsedAt: nullableNumber(raw.last_used_at),
    revokedAt: nullableNumber(raw.revoked_at),
    createdAt: Number(raw.created_at),
  }
}

const withOwner = (k: Knex): Knex.QueryBuilder => k(`${TABLE} as k`).join('gantry_users as u', 'u.id', 'k.owner_id').select('k.*', 'u.email as owner_email')

/** The key with this public id (its row locked until commit when `lock`). */
export async function findByKeyId(k: Knex, keyId: string, lock = false): Promise<ApiKeyRow | undefined> {
  const q = withOwner(k).where('k.key_id', keyId).first()
  const raw = (await (lock ? q.forUpdate() : q)) as Raw | undefined
  return raw && toRow(raw)
}

/** Inserts a key. */
export async function insertKey(k: Knex, key: NewApiKey): Promise<number> {
  return insertedId(
    await k(TABLE).insert(
      {
        key_id: key.keyId,
        name: key.name,
        owner_id: key.ownerId,
        env: key.env,
        secret_hash: key.secretHash,
        scopes: JSON.stringify(key.scopes),
        expires_at: key.expiresAt,
        created_at: key.createdAt,
      },
      ['id'],
    ),
  )
}

/** Up to `limit` keys in id order after `afterId`, of one owner or all: keyset pagination. */
export async function selectKeys(k: Knex, filter: { ownerId?: number | undefined; afterId?: number | undefined }, limit: number): Promise<ApiKeyRow[]> {
  const q = withOwner(k).orderBy('k.id', 'asc').limit(limit)
  if (filter.ownerId !== undefined) q.where('k.owner_id', filter.ownerId)
  if (filter.afterId !== undefined) q.where('k.id', '>', filter.afterId)
  return ((await q) as Raw[]).map(toRow)
}

/** Marks a key revoked. */
export async function revokeKey(k: Knex, id: number, now: number): Promise<void> {
  await k(TABLE).where({ id }).whereNull('revoked_at').update({ revoked_at: now })
}

/** Replaces the secret; the previous one stays accepted until `previousExpiresAt` (null hash: not at all). */
export async function replaceSecret(
  k: Knex,
  id: number,
  secrets: { secretHash: string; previousSecretHash: string | null; previousExpiresAt: number | null },
): Promise<void> {
  await k(TABLE).where({ id }).update({
    secret_hash: secrets.secretHash,
    previous_secret_hash: secrets.previousSecretHash,
    previous_expires_at: secrets.previousExpiresAt,
  })
}

/** Records a use, unless one was recorded in the last `minIntervalMs` (a conditional write: racing requests write once). */
export async function touchLastUsed(k: Knex, id: number, now: number, minIntervalMs: number): Promise<void> {
  await k(TABLE)
    .where({ id })
    .where((w) => w.whereNull('last_used_at').orWhere('last_used_at', '<=', now - minIntervalMs))
    .update({ last_used_at: now })
}
