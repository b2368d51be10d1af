import type { Knex } from 'knex'

export const ROLES_TABLE = 'gantry_roles'

/** A gantry_roles row as the drivers return it. */
export interface RoleRow {
  name: string
  description: string
  permissions: string
  builtin: boolean | number
  created_at: number | string
  updated_at: number | string
}

/** Every role, by name. */
export function selectRoles(k: Knex): Promise<RoleRow[]> {
  return k<RoleRow>(ROLES_TABLE).select('*').orderBy('name')
}

/** One role, or undefined. */
export function selectRole(k: Knex, name: string): Promise<RoleRow | undefined> {
  return k<RoleRow>(ROLES_TABLE).where({ name }).first()
}

export async function insertRole(k: Knex, row: RoleRow): Promise<void> {
  await k(ROLES_TABLE).insert(row)
}

export async function updateRole(k: Knex, name: string, patch: Partial<RoleRow>): Promise<void> {
  await k(ROLES_TABLE).where({ name }).update(patch)
}

export async function deleteRole(k: Knex, name: string): Promise<void> {
  await k(ROLES_TABLE).where({ name }).delete()
}

/** Locks the named roles' rows until commit (in name order, so lockers never deadlock). */
export async function lockRoles(k: Knex, names: readonly string[]): Promise<void> {
  if (names.length > 0) await k(ROLES_TABLE).select('name').whereIn('name', names).orderBy('name').forUpdate()
}
