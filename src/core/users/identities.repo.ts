/**
 * The knex queries of users' identities at identity providers (gantry_user_identities): a (provider,
 * subject) pair belongs to one user; a user may have one per provider and more. Times are epoch-ms BIGINT
 * columns, mapped through Number() (PostgreSQL returns them as strings).
 */
import type { Knex } from 'knex'
import type { Identity } from './users.schema.js'

const TABLE = 'gantry_user_identities'

export interface IdentityRow {
  readonly id: number
  readonly userId: number
  readonly provider: string
  readonly subject: string
  readonly email: string | null
  readonly createdAt: number
  readonly lastLoginAt: number | null
}

function toRow(raw: Record<string, unknown>): IdentityRow {
  return {
    id: Number(raw.id),
    userId: Number(raw.user_id),
    provider: String(raw.provider),
    subject: String(raw.subject),
    email: raw.email === null ? null : String(raw.email),
    createdAt: Number(raw.created_at),
    lastLoginAt: raw.last_login_at === null ? null : Number(raw.last_login_at),
  }
}

/** The identity of `subject` at `provider`, if a user holds it. */
export async function selectIdentity(k: Knex, provider: string, subject: string): Promise<IdentityRow | undefined> {
  const raw = (await k(TABLE).where({ provider, subject }).first()) as Record<string, unknown> | undefined
  return raw && toRow(raw)
}

/** A user's identities, by provider then age. */
export async function selectIdentitiesOfUser(k: Knex, userId: number): Promise<IdentityRow[]> {
  return (
    (await k(TABLE)
      .where({ user_id: userId })
      .orderBy([{ column: 'provider' }, { column: 'id' }])) as Record<string, unknown>[]
  ).map(toRow)
}

export async function insertIdentity(k: Knex, row: { userId: number; provider: string; subject: string; email: string | null; at: number }): Promise<void> {
  await k(TABLE).insert({ user_id: row.userId, provider: row.provider, subject: row.subject, email: row.email, created_at: row.at, last_login_at: row.at })
}

/** A sign-in through an identity: when, and the email the provider asserts now. */
export async function touchIdentity(k: Knex, id: number, email: string | null, at: number): Promise<void> {
  await k(TABLE).where({ id }).update({ email, last_login_at: at })
}

/** Removes a user's identities at `provider`; how many there were. */
export async function deleteIdentities(k: Knex, userId: number, provider: string): Promise<number> {
  return Number(await k(TABLE).where({ user_id: userId, provider }).delete())
}

/** An identity as the users feature shows it (`users show`, a subject export). */
export function identityView(row: IdentityRow): Identity {
  return {
    provider: row.provider,
    subject: row.subject,
    email: row.email,
    linkedAt: new Date(row.createdAt).toISOString(),
    lastLoginAt: row.lastLoginAt === null ? null : new Date(row.lastLoginAt).toISOString(),
  }
}
