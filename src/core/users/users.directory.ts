/**
 * What the other features (API keys, sessions, roles, rate limits) may know of users, and the one change
 * they may make to one: the users feature's surface for them, so none reaches into gantry_users through
 * the users repo. Each call takes the knex to run on — the caller's own, or a transaction it holds — so a
 * lookup inside a caller's transaction sees, and locks, what that transaction does.
 */
import type { Knex } from 'knex'
import { insertIdentity, selectIdentitiesOfUser, selectIdentity, touchIdentity } from './identities.repo.js'
import { countUsersByRole, selectActiveHolders, selectUserByEmail, selectUserById, updateUserEndingSessions, type UserRow } from './users.repo.js'

/** A user as other features see one: no password hash, no failed-login count (those are the login's own). */
export type DirectoryUser = Omit<UserRow, 'password_hash' | 'failed_logins'>

export interface UserDirectory {
  /** One user by normalised email; `lock` holds the row until the transaction `k` ends. */
  byEmail(k: Knex, email: string, options?: { lock?: boolean }): Promise<DirectoryUser | undefined>
  byId(k: Knex, id: number): Promise<DirectoryUser | undefined>
  /** Ids of the active users holding one of `roles`, locked until `k` commits: the last-admin rule reads this. */
  activeHolders(k: Knex, roles: readonly string[]): Promise<number[]>
  /** How many users hold each role (any status). */
  countByRole(k: Knex): Promise<Map<string, number>>
  /** Ends every session of the user (tokens carry the session epoch this bumps), as of `at`. */
  endSessions(k: Knex, id: number, at: number): Promise<void>
  /** The user who holds `subject` at identity provider `provider`, and that identity's row id. */
  byIdentity(k: Knex, provider: string, subject: string): Promise<{ readonly identityId: number; readonly userId: number } | undefined>
  /** Links an identity to a user (single sign-on's first sign-in); the pair must be free. */
  linkIdentity(k: Knex, identity: { userId: number; provider: string; subject: string; email: string | null; at: number }): Promise<void>
  /** Whether the user already has an identity at `provider` (a second one by email would be someone else's account). */
  hasIdentityAt(k: Knex, userId: number, provider: string): Promise<boolean>
  /** Records a sign-in through an identity, with the email the provider asserts now. */
  identitySignedIn(k: Knex, identityId: number, email: string | null, at: number): Promise<void>
}

export const userDirectory: UserDirectory = {
  byEmail: (k, email, options = {}) => selectUserByEmail(k, email, options.lock ?? false),
  byId: (k, id) => selectUserById(k, id),
  activeHolders: (k, roles) => selectActiveHolders(k, roles),
  countByRole: (k) => countUsersByRole(k),
  endSessions: (k, id, at) => updateUserEndingSessions(k, id, { updated_at: at }),
  byIdentity: async (k, provider, subject) => {
    const row = await selectIdentity(k, provider, subject)
    return row && { identityId: row.id, userId: row.userId }
  },
  linkIdentity: (k, identity) => insertIdentity(k, identity),
  hasIdentityAt: async (k, userId, provider) => (await selectIdentitiesOfUser(k, userId)).some((i) => i.provider === provider),
  identitySignedIn: (k, identityId, email, at) => touchIdentity(k, identityId, email, at),
}
