import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import { parseInput } from '../pagination.js'
import { isUniqueViolation } from '../sql.js'
import type { UserDirectory } from '../users/users.directory.js'
import { builtinPermissionsOf, grantsEverything } from './builtin-roles.js'
import { requireCoversTarget, requireHandOut, requirePermission } from './permissions.js'
import { deleteRole, insertRole, lockRoles, selectRole, selectRoles, updateRole, type RoleRow } from './roles.repo.js'
import {
  createRoleInputSchema,
  roleNameSchema,
  updateRoleInputSchema,
  type CreateRoleInput,
  type Role,
  type RoleList,
  type UpdateRoleInput,
} from './roles.schema.js'

/** Roles and their permissions. */
export interface RolesService {
  list(ctx: ActorContext): Promise<RoleList>
  get(ctx: ActorContext, name: string): Promise<Role>
  create(ctx: ActorContext, input: CreateRoleInput): Promise<Role>
  update(ctx: ActorContext, name: string, input: UpdateRoleInput): Promise<Role>
  delete(ctx: ActorContext, name: string): Promise<{ deleted: string }>
  /** The permissions of a role (for login and the last-admin rule), no permission check; undefined when unknown. */
  permissionsOf(k: Knex, name: string): Promise<string[] | undefined>
  /** Every role's permissions by name, no permission check: what the access-token check resolves against. */
  permissionsByRole(k: Knex): Promise<Map<string, string[]>>
  /** Names of the roles that grant everything (`*`): their active holders count as admins. */
  adminRoleNames(k: Knex): Promise<string[]>
  /** Locks the admin roles' rows until commit: the mutex of every change that could remove the last admin. */
  lockAdminRoles(trx: Knex): Promise<void>
}

/** Builds the roles service. `permissionsChanged` hears of every committed change of a role's permissions. */
export function createRolesService(deps: {
  knex: Knex
  clock: Clock
  audit: AuditService
  /** Who holds a role: the last-admin rule asks the users feature. */
  directory: UserDirectory
  permissionsChanged?: (() => Promise<void>) | undefined
}): RolesService {
  const { knex, clock, audit } = deps

  const load = async (k: Knex, name: string): Promise<RoleRow> => {
    const row = await selectRole(k, parseInput(roleNameSchema, name))
    if (!row) throw new GantryError('ROLE_NOT_FOUND', `No role named "${name}".`)
    return row
  }
  const adminRoleNames = async (k: Knex): Promise<string[]> => (await selectRoles(k)).filter((r) => parsePermissions(r).includes('*')).map((r) => r.name)
  const usersOf = async (k: Knex, name: string): Promise<number> => (await deps.directory.countByRole(k)).get(name) ?? 0
  /** LAST_ADMIN when `role` stopping to grant * would leave no active admin (the caller locked the admin roles). */
  const keepAnAdmin = async (k: Knex, role: string): Promise<void> => {
    const others = (await adminRoleNames(k)).filter((n) => n !== role)
    if ((await deps.directory.activeHolders(k, others)).length > 0) return
    const holders = await deps.directory.activeHolders(k, [role])
    if (holders.length > 0) {
      throw new GantryError(
        'LAST_ADMIN',
        `Revoking * from role "${role}" would leave no active admin: its ${holders.length} active holder(s) are the only ones.`,
      )
    }
  }

  return {
    async list(ctx) {
      requirePermission(ctx, 'roles:read')
      const [rows, counts] = await Promise.all([selectRoles(knex), deps.directory.countByRole(knex)])
      return { data: rows.map((r) => toRole(r, counts.get(r.name) ?? 0)), nextCursor: null }
    },

    async get(ctx, name) {
      requirePermission(ctx, 'roles:read')
      const row = await load(knex, name)
      return toRole(row, await usersOf(knex, row.name))
    },

    async create(ctx, input) {
      requirePermission(ctx, 'roles:write')
      const parsed = parseInput(createRoleInputSchema, input)
      requireHandOut(ctx, parsed.permissions, `Role "${parsed.name}"`)
      const now = clock.now()
      const row: RoleRow = {
        name: parsed.name,
        description: parsed.description,
        permissions: JSON.stringify(parsed.permissions),
        builtin: false,
        created_at: now,
        updated_at: now,
      }
      try {
        return await knex.transaction(async (trx) => {
          if (await selectRole(trx, parsed.name)) throw roleExists(parsed.name)
          await insertRole(trx, row)
          const role = toRole(row, 0)
          await audit.append(trx, ctx, { action: 'roles.create', targetType: 'role', targetId: role.name, after: role })
          return role
        })
      } catch (err) {
        throw isUniqueViolation(err) ? roleExists(parsed.name) : err
      }
    },

    async update(ctx, name, input) {
      requirePermission(ctx, 'roles:write')
      const parsed = parseInput(updateRoleInputSchema, input)
      const updated = await knex.transaction(async (trx) => {
        // Revoking * may demote admins: take the last-admin mutex first, as users.service does.
        if (parsed.revoke.includes('*')) await lockRoles(trx, await adminRoleNames(trx))
        const row = await load(trx, name)
        if (row.builtin) checkBuiltinUpdate(row.name, parsed)
        const before = toRole(row, await usersOf(trx, row.name))
        // Changing a role acts on everyone who holds it: the actor must cover it as it is and as it will be.
        requireCoversTarget(ctx, before.permissions, `Role "${row.name}"`)
        const revoked = new Set(parsed.revoke)
        const permissions = [...new Set([...before.permissions.filter((p) => !revoked.has(p)), ...parsed.grant])]
        requireHandOut(ctx, permissions, `Role "${row.name}"`)
        if (permissions.length === 0)
          throw new GantryError('INVALID_INPUT', `Role "${row.name}" would have no permission left.`, { hint: 'Grant one, or delete the role.' })
        if (before.permissions.includes('*') && !permissions.includes('*')) await keepAnAdmin(trx, row.name)
        const patch = { permissions: JSON.stringify(permissions), description: parsed.description ?? row.description, updated_at: clock.now() }
        await updateRole(trx, row.name, patch)
        const after = toRole({ ...row, ...patch }, before.users)
        await audit.append(trx, ctx, { action: 'roles.update', targetType: 'role', targetId: row.name, before, after })
        return after
      })
      await deps.permissionsChanged?.()
      return updated
    },

    async delete(ctx, name) {
      requirePermission(ctx, 'roles:write')
      const deleted = await knex.transaction(async (trx) => {
        const row = await load(trx, name)
        if (row.builtin) throw builtin(row.name)
        requireCoversTarget(ctx, parsePermissions(row), `Role "${row.name}"`)
        const users = await usersOf(trx, row.name)
        if (users > 0) throw new GantryError('ROLE_IN_USE', `Role "${row.name}" is held by ${users} user(s).`, { details: { users } })
        await deleteRole(trx, row.name)
        await audit.append(trx, ctx, { action: 'roles.delete', targetType: 'role', targetId: row.name, before: toRole(row, 0) })
        return { deleted: row.name }
      })
      await deps.permissionsChanged?.()
      return deleted
    },

    async permissionsOf(k, name) {
      const row = await selectRole(k, name)
      return row ? parsePermissions(row) : undefined
    },

    async permissionsByRole(k) {
      return new Map((await selectRoles(k)).map((r) => [r.name, parsePermissions(r)]))
    },

    adminRoleNames,

    async lockAdminRoles(trx) {
      await lockRoles(trx, await adminRoleNames(trx))
    },
  }
}

function parsePermissions(row: RoleRow): string[] {
  return JSON.parse(row.permissions) as string[]
}

function toRole(row: RoleRow, users: number): Role {
  return {
    name: row.name,
    description: row.description,
    permissions: parsePermissions(row),
    builtin: Boolean(row.builtin),
    users,
    createdAt: new Date(Number(row.created_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  }
}

const roleExists = (name: string): GantryError => new GantryError('ROLE_EXISTS', `A role named "${name}" exists already.`)
const builtin = (name: string): GantryError => new GantryError('ROLE_BUILTIN', `"${name}" is a built-in role.`)

/**
 * What may change on a built-in role (BUILTIN_ROLE_PERMISSIONS): `operator` and `viewer` take extra
 * permissions (an app's `orders:write`) and give those back, and their description may change; their
 * built-in permissions stay, and none of them is ever given `*` (every holder would become an admin, and
 * revoking it later would demote them all — a custom role is the way to a second kind of admin).
 * `admin` already grants everything and does not change at all.
 */
function checkBuiltinUpdate(name: string, input: { grant: string[]; revoke: string[] }): void {
  const base = builtinPermissionsOf(name)
  if (!base || base.some(grantsEverything)) {
    throw new GantryError('ROLE_BUILTIN', `"${name}" is a built-in role that cannot be changed${base ? ': it grants every permission (*) already' : ''}.`, {
      hint: 'Create a custom role with `gantry roles create` instead.',
    })
  }
  const everything = input.grant.filter(grantsEverything)
  if (everything.length > 0) {
    throw new GantryError('ROLE_BUILTIN', `${everything.join(', ')} cannot be granted to the built-in role "${name}": every ${name} would become an admin.`, {
      hint: 'Make those users admins, or create a custom role with * (`gantry roles create`).',
      details: { role: name, permissions: everything },
    })
  }
  const kept = input.revoke.filter((p) => base.includes(p))
  if (kept.length > 0) {
    throw new GantryError(
      'ROLE_BUILTIN',
      `${kept.join(', ')} cannot be revoked from the built-in role "${name}": ${kept.length === 1 ? 'it is one' : 'they are'} of its built-in permissions (${base.join(', ')}). Only permissions granted to it since can be revoked.`,
      {
        hint: 'Create a custom role with fewer permissions (`gantry roles create`) and move the users to it.',
        details: { role: name, permissions: kept, builtin: [...base] },
      },
    )
  }
}
