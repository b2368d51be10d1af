import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { AuditAction } from '../audit/audit.schema.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import { decodeCursor, parseInput, toPage } from '../pagination.js'
import { requireCoversTarget, requireHandOut, requirePermission } from '../roles/permissions.js'
import type { RolesService } from '../roles/roles.service.js'
import { eraseUser } from './erasure.js'
import { createCredentialsVerifier, type LockoutPolicy, type LoginTiming } from './login.js'
import { checkPassword, type PasswordPolicy } from './password-policy.js'
import { generatePassword, type PasswordHasher } from './passwords.js'
import { collectSubjectData, type SubjectData } from './subject-export.js'
import type { DirectoryUser } from './users.directory.js'
import { isUniqueViolation } from '../sql.js'
import {
  deleteUser,
  insertUser,
  selectActiveHolders,
  selectUserByEmail,
  selectUserById,
  selectUsers,
  countUsers,
  updateUser,
  updateUserEndingSessions,
  type UserRow,
} from './users.repo.js'
import {
  createUserInputSchema,
  deleteUserInputSchema,
  emailSchema,
  normaliseEmail,
  setPasswordInputSchema,
  updateUserInputSchema,
  userListInputSchema,
  type CreateUserInput,
  type DeleteUserInput,
  type DeleteUserResult,
  type SetPasswordInput,
  type UpdateUserInput,
  type User,
  type UserListInput,
  type UserPage,
  type UserWithPassword,
  type IdentityList,
  type UnlinkInput,
  type UnlinkResult,
  unlinkInputSchema,
  USER_TOTAL_CAP,
} from './users.schema.js'
import { deleteIdentities, identityView, selectIdentitiesOfUser } from './identities.repo.js'

/** Users: the admin use cases (permission-checked, audited) and the login check. */
export interface UsersService {
  create(ctx: ActorContext, input: CreateUserInput): Promise<UserWithPassword>
  list(ctx: ActorContext, input?: UserListInput): Promise<UserPage>
  get(ctx: ActorContext, email: string): Promise<User>
  update(ctx: ActorContext, email: string, patch: UpdateUserInput): Promise<User>
  disable(ctx: ActorContext, email: string): Promise<User>
  enable(ctx: ActorContext, email: string): Promise<User>
  /** Deletes the user; with `erase` (which needs users:erase too), also pseudonymises every trace of them and records it in the erasure ledger (erasure.ts). */
  delete(ctx: ActorContext, email: string, input?: DeleteUserInput): Promise<DeleteUserResult>
  /** One person's data (subject access): needs subjects:read, which `*:read` covers (subject-export.ts). */
  subjectData(ctx: ActorContext, email: string): Promise<SubjectData>
  setPassword(ctx: ActorContext, email: string, input: SetPasswordInput): Promise<UserWithPassword>
  unlock(ctx: ActorContext, email: string): Promise<User>
  /** Needs users:read: the user's accounts at identity providers (single sign-on). */
  identities(ctx: ActorContext, email: string): Promise<IdentityList>
  /** Needs users:write and permissions covering the user's: removes their identities at a provider, so that account no longer signs in as them. */
  unlink(ctx: ActorContext, email: string, input: UnlinkInput): Promise<UnlinkResult>
  /** The login check: the user, or INVALID_CREDENTIALS (never sooner than the login floor); counts failures and locks out. */
  verifyCredentials(email: string, password: string, ctx: ActorContext): Promise<User>
}

export interface UsersServiceDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  readonly roles: RolesService
  readonly hasher: PasswordHasher
  readonly passwordPolicy: PasswordPolicy
  readonly lockout: LockoutPolicy
  /** The login floor (default: measured) and its timer. */
  readonly loginTiming?: LoginTiming | undefined
  /** Called once a change of what the user's tokens may do (disable, new password, new role) has committed. */
  readonly accessChanged?: ((userId: number) => Promise<void>) | undefined
}

/** Builds the users service. */
export function createUsersService(deps: UsersServiceDeps): UsersService {
  const { knex, clock, audit, roles, hasher, passwordPolicy } = deps

  const find = async (k: Knex, email: string, lock = false): Promise<UserRow> => {
    const normalised = parseInput(emailSchema, email)
    const row = await selectUserByEmail(k, normalised, lock)
    if (!row) throw new GantryError('USER_NOT_FOUND', `No user with email ${normalised}.`)
    return row
  }
  /** The permissions of a role about to be given to a user: it must exist, and lie within the actor's own. */
  const assignable = async (ctx: ActorContext, k: Knex, role: string): Promise<void> => {
    const permissions = await roles.permissionsOf(k, role)
    if (permissions === undefined) throw new GantryError('ROLE_NOT_FOUND', `No role named "${role}".`)
    requireHandOut(ctx, permissions, `Role "${role}"`)
  }
  /** Acting on a user needs permissions covering theirs (their role's). */
  const requireCovers = async (ctx: ActorContext, k: Knex, row: UserRow): Promise<void> => {
    requireCoversTarget(ctx, (await roles.permissionsOf(k, row.role)) ?? [], row.email)
  }
  /**
   * Throws LAST_ADMIN when `row` is the only active holder of an admin (`*`) role. The caller took
   * roles.lockAdminRoles first, so two transactions removing two admins at once run one after the other.
   */
  const keepAnAdmin = async (k: Knex, row: UserRow, doing: string): Promise<void> => {
    const adminRoles = await roles.adminRoleNames(k)
    if (row.status !== 'active' || !adminRoles.includes(row.role)) return
    const holders = await selectActiveHolders(k, adminRoles)
    if (holders.every((id) => id === row.id)) {
      throw new GantryError('LAST_ADMIN', `${row.email} is the last active admin and cannot be ${doing}.`)
    }
  }
  /**
   * A new password from parsed input, which holds exactly one of a password and `generatePassword` (the
   * schema's rule, users.schema.ts): the password checked against the policy, or a generated one.
   */
  const newPassword = (input: { password?: string | undefined; generatePassword: boolean }): { password: string; generated: boolean } => {
    if (input.password === undefined) return { password: generatePassword(), generated: true }
    checkPassword(input.password, passwordPolicy)
    return { password: input.password, generated: false }
  }
  /** Runs `change` on the locked row of a user the actor covers, in a transaction, then audits before/after. */
  const mutate = (
    ctx: ActorContext,
    email: string,
    action: AuditAction,
    change: (trx: Knex, row: UserRow) => Promise<void>,
    guardAdmins = false,
  ): Promise<User> =>
    knex.transaction(async (trx) => {
      if (guardAdmins) await roles.lockAdminRoles(trx)
      const row = await find(trx, email, true)
      await requireCovers(ctx, trx, row)
      await change(trx, row)
      const after = toUser((await selectUserById(trx, row.id)) as UserRow)
      await audit.append(trx, ctx, { action, targetType: 'user', targetId: String(row.id), before: toUser(row), after })
      return after
    })
  const write = (ctx: ActorContext): void => requirePermission(ctx, 'users:write')

  return {
    async create(ctx, input) {
      write(ctx)
      const parsed = parseInput(createUserInputSchema, input)
      const { password, generated } = newPassword(parsed)
      const passwordHash = await hasher.hash(password)
      const now = clock.now()
      try {
        const user = await knex.transaction(async (trx) => {
          await assignable(ctx, trx, parsed.role)
          if (await selectUserByEmail(trx, parsed.email)) throw userExists(parsed.email)
          const id = await insertUser(trx, {
            email: parsed.email,
            name: parsed.name,
            role: parsed.role,
            status: 'active',
            password_hash: passwordHash,
            created_at: now,
            updated_at: now,
          })
          const created = toUser((await selectUserById(trx, id)) as UserRow)
          await audit.append(trx, ctx, { action: 'users.create', targetType: 'user', targetId: String(id), after: created })
          return created
        })
        return generated ? { user, password } : { user }
      } catch (err) {
        throw isUniqueViolation(err) ? userExists(parsed.email) : err
      }
    },

    async list(ctx, input = {}) {
      requirePermission(ctx, 'users:read')
      const parsed = parseInput(userListInputSchema, input)
      const filter = { role: parsed.role, status: parsed.status, search: parsed.search }
      // Counted on the first page only, and only up to USER_TOTAL_CAP: a later page costs what the first did.
      const [rows, total] = await Promise.all([
        selectUsers(knex, { ...filter, afterId: decodeCursor(parsed.cursor) }, parsed.limit + 1),
        parsed.cursor === undefined ? countUsers(knex, filter, USER_TOTAL_CAP) : null,
      ])
      return { ...toPage(rows, parsed.limit, toUser), total }
    },

    async get(ctx, email) {
      requirePermission(ctx, 'users:read')
      return toUser(await find(knex, email))
    },

    async update(ctx, email, patch) {
      write(ctx)
      const parsed = parseInput(updateUserInputSchema, patch)
      try {
        let newRole = false
        const user = await mutate(
          ctx,
          email,
          'users.update',
          async (trx, row) => {
            if (parsed.role !== undefined && parsed.role !== row.role) {
              newRole = true
              await assignable(ctx, trx, parsed.role)
              if (!(await roles.adminRoleNames(trx)).includes(parsed.role)) await keepAnAdmin(trx, row, 'demoted')
            }
            if (parsed.email !== undefined && parsed.email !== row.email && (await selectUserByEmail(trx, parsed.email))) throw userExists(parsed.email)
            await updateUser(trx, row.id, {
              email: parsed.email ?? row.email,
              name: parsed.name ?? row.name,
              role: parsed.role ?? row.role,
              updated_at: clock.now(),
            })
          },
          parsed.role !== undefined,
        )
        if (newRole) await deps.accessChanged?.(user.id)
        return user
      } catch (err) {
        throw isUniqueViolation(err) ? userExists(parsed.email ?? email) : err
      }
    },

    async disable(ctx, email) {
      write(ctx)
      const user = await mutate(
        ctx,
        email,
        'users.disable',
        async (trx, row) => {
          if (row.status === 'disabled') return
          await keepAnAdmin(trx, row, 'disabled')
          await updateUserEndingSessions(trx, row.id, { status: 'disabled', updated_at: clock.now() })
        },
        true,
      )
      await deps.accessChanged?.(user.id)
      return user
    },

    async enable(ctx, email) {
      write(ctx)
      return mutate(ctx, email, 'users.enable', async (trx, row) => {
        if (row.status !== 'active') await updateUser(trx, row.id, { status: 'active', updated_at: clock.now() })
      })
    },

    async delete(ctx, email, input = {}) {
      write(ctx)
      const { erase } = parseInput(deleteUserInputSchema, input)
      // Erasing rewrites audit history (the entries about them, their IPs): with users:write alone a role could
      // make an accomplice, act through it, then erase the trail. Checked before anything is read.
      if (erase) requirePermission(ctx, 'users:erase')
      const result = await knex.transaction(async (trx): Promise<DeleteUserResult> => {
        await roles.lockAdminRoles(trx)
        const row = await find(trx, email, true)
        await requireCovers(ctx, trx, row)
        await keepAnAdmin(trx, row, 'deleted')
        const deleted = toUser(row)
        if (!erase) {
          await deleteUser(trx, row.id)
          await audit.append(trx, ctx, { action: 'users.delete', targetType: 'user', targetId: String(row.id), before: deleted })
          return { deleted }
        }
        const erased = await eraseUser(trx, row, { actor: ctx.actor, at: clock.now() })
        // Its own entry names the pseudonym only: the email would be a trace of what was just erased.
        await audit.append(trx, ctx, { action: 'users.erased', targetType: 'user', targetId: String(row.id), after: { pseudonym: erased.pseudonym } })
        return { deleted, erased }
      })
      await deps.accessChanged?.(result.deleted.id)
      return result
    },

    async identities(ctx, email) {
      requirePermission(ctx, 'users:read')
      const row = await find(knex, email)
      return { user: row.email, identities: (await selectIdentitiesOfUser(knex, row.id)).map(identityView) }
    },

    async unlink(ctx, email, input) {
      write(ctx)
      const { provider } = parseInput(unlinkInputSchema, input)
      return knex
        .transaction(async (trx) => {
          const row = await find(trx, email, true)
          await requireCovers(ctx, trx, row)
          const unlinked = await deleteIdentities(trx, row.id, provider)
          if (unlinked === 0) throw new GantryError('IDENTITY_NOT_FOUND', `${row.email} has no identity at provider ${provider}.`)
          // What that account signed in to ends with the link: every session of the user (as a new password does).
          await updateUserEndingSessions(trx, row.id, { updated_at: clock.now() })
          // The provider and how many; never the provider's email, which erasure could not find again.
          await audit.append(trx, ctx, { action: 'users.unlink', targetType: 'user', targetId: String(row.id), after: { provider, unlinked } })
          return { userId: row.id, result: { user: row.email, provider, unlinked } }
        })
        .then(async ({ userId, result }) => {
          await deps.accessChanged?.(userId)
          return result
        })
    },

    async setPassword(ctx, email, input) {
      write(ctx)
      const { password, generated } = newPassword(parseInput(setPasswordInputSchema, input))
      const passwordHash = await hasher.hash(password)
      const user = await mutate(ctx, email, 'users.set-password', async (trx, row) => {
        await updateUserEndingSessions(trx, row.id, { password_hash: passwordHash, failed_logins: 0, updated_at: clock.now() })
      })
      await deps.accessChanged?.(user.id)
      return generated ? { user, password } : { user }
    },

    async unlock(ctx, email) {
      write(ctx)
      return mutate(ctx, email, 'users.unlock', async (trx, row) => {
        await updateUser(trx, row.id, { failed_logins: 0, locked_until: null })
      })
    },

    async subjectData(ctx, email) {
      return collectSubjectData({ knex, clock, roles, toUser }, ctx, parseInput(emailSchema, email))
    },

    verifyCredentials: createCredentialsVerifier({ knex, clock, audit, hasher, lockout: deps.lockout, toUser, timing: deps.loginTiming }),
  }
}

/** The public view of a row: never the hash, the counters or the session epoch. */
export function toUser(row: DirectoryUser): User {
  const iso = (ms: number | string | null): string | null => (ms === null ? null : new Date(Number(ms)).toISOString())
  return {
    id: Number(row.id),
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    lockedUntil: iso(row.locked_until),
    lastLoginAt: iso(row.last_login_at),
    createdAt: iso(row.created_at) as string,
    updatedAt: iso(row.updated_at) as string,
  }
}

export const userExists = (email: string): GantryError => new GantryError('USER_EXISTS', `A user with email ${normaliseEmail(email)} exists already.`)
