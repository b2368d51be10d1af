/**
 * The knex queries of a table of owned credentials: API keys (gantry_api_keys) and OAuth clients
 * (gantry_oauth_clients) share their columns — a public id, a name, an owner, the environment, the hash of
 * the secret and of the previous one during a rotation's grace, scopes, expiry, last use, revocation — so
 * one set of queries serves both, each feature's repo binding it to its table. Every read joins the owner
 * (email, status, role), since every use of a credential needs them. Times are epoch-ms BIGINT columns,
 * which PostgreSQL returns as strings: rows are mapped through Number() here, so the services see numbers
 * on every dialect.
 */
import type { Knex } from 'knex'
import { insertedId } from '../sql.js'

/** One stored credential with its owner (never the secret itself: only hashes of secrets are stored). */
export interface CredentialRow {
  readonly id: number
  /** The public id: an API key's key id, an OAuth client's client_id. */
  readonly publicId: string
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

/** What a new row needs. */
export interface NewCredential {
  readonly publicId: string
  readonly name: string
  readonly ownerId: number
  readonly env: string
  readonly secretHash: string
  readonly scopes: readonly string[]
  readonly expiresAt: number | null
  readonly createdAt: number
}

/** The queries of one table; `R` is its row, the shared columns and those the table adds (`extra`). */
export interface CredentialTable<R extends CredentialRow = CredentialRow> {
  /** The credential with this public id (its row locked until commit when `lock`). */
  find(k: Knex, publicId: string, lock?: boolean): Promise<R | undefined>
  insert(k: Knex, row: NewCredential): Promise<number>
  /** Up to `limit` rows in id order after `afterId`, of one owner or all: keyset pagination. */
  select(k: Knex, filter: { ownerId?: number | undefined; afterId?: number | undefined }, limit: number): Promise<R[]>
  revoke(k: Knex, id: number, now: number): Promise<void>
  /** Replaces the secret; the previous one stays accepted until `previousExpiresAt` (null hash: not at all). */
  replaceSecret(k: Knex, id: number, secrets: { secretHash: string; previousSecretHash: string | null; previousExpiresAt: number | null }): Promise<void>
  /** Records a use, unless one was recorded in the last `minIntervalMs` (a conditional write: racing requests write once). */
  touchLastUsed(k: Knex, id: number, now: number, minIntervalMs: number): Promise<void>
}

type Raw = Record<string, unknown>

const nullableNumber = (value: unknown): number | null => (value === null || value === undefined ? null : Number(value))

/** Binds the queries to a table whose public id is in `idColumn`; `extra` reads the columns only that table has. */
export function credentialTable<E extends object = object>(options: {
  table: string
  idColumn: string
  extra?: (raw: Raw) => E
}): CredentialTable<CredentialRow & E> {
  const { table, idColumn } = options
  const toRow = (raw: Raw): CredentialRow & E => ({
    ...((options.extra?.(raw) ?? {}) as E),
    id: Number(raw.id),
    publicId: String(raw[idColumn]),
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
  })
  const withOwner = (k: Knex): Knex.QueryBuilder => k(`${table} as k`).join('gantry_users as u', 'u.id', 'k.owner_id').select('k.*', 'u.email as owner_email')

  return {
    async find(k, publicId, lock = false) {
      const q = withOwner(k).where(`k.${idColumn}`, publicId).first()
      const raw = (await (lock ? q.forUpdate() : q)) as Raw | undefined
      return raw && toRow(raw)
    },

    async insert(k, row) {
      return insertedId(
        await k(table).insert(
          {
            [idColumn]: row.publicId,
            name: row.name,
            owner_id: row.ownerId,
            env: row.env,
            secret_hash: row.secretHash,
            scopes: JSON.stringify(row.scopes),
            expires_at: row.expiresAt,
            created_at: row.createdAt,
          },
          ['id'],
        ),
      )
    },

    async select(k, filter, limit) {
      const q = withOwner(k).orderBy('k.id', 'asc').limit(limit)
      if (filter.ownerId !== undefined) q.where('k.owner_id', filter.ownerId)
      if (filter.afterId !== undefined) q.where('k.id', '>', filter.afterId)
      return ((await q) as Raw[]).map(toRow)
    },

    async revoke(k, id, now) {
      await k(table).where({ id }).whereNull('revoked_at').update({ revoked_at: now })
    },

    async replaceSecret(k, id, secrets) {
      await k(table).where({ id }).update({
        secret_hash: secrets.secretHash,
        previous_secret_hash: secrets.previousSecretHash,
        previous_expires_at: secrets.previousExpiresAt,
      })
    },

    async touchLastUsed(k, id, now, minIntervalMs) {
      await k(table)
        .where({ id })
        .where((w) => w.whereNull('last_used_at').orWhere('last_used_at', '<=', now - minIntervalMs))
        .update({ last_used_at: now })
    },
  }
}
