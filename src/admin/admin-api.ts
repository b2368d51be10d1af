/**
 * What the admin commands can do, whichever door they go through: LocalAdmin (services, straight against
 * the database) now, HttpAdmin (the server's API) later. Inputs and results are the services' zod types.
 */
import type { AuditListInput, AuditPage } from '../core/audit/audit.schema.js'
import type { CreateRoleInput, Role, RoleList, UpdateRoleInput } from '../core/roles/roles.schema.js'
import type { CreateUserInput, SetPasswordInput, UpdateUserInput, User, UserListInput, UserPage, UserWithPassword } from '../core/users/users.schema.js'

export interface UsersAdmin {
  create(input: CreateUserInput): Promise<UserWithPassword>
  list(input?: UserListInput): Promise<UserPage>
  get(email: string): Promise<User>
  update(email: string, patch: UpdateUserInput): Promise<User>
  disable(email: string): Promise<User>
  enable(email: string): Promise<User>
  delete(email: string): Promise<{ deleted: User }>
  setPassword(email: string, input: SetPasswordInput): Promise<UserWithPassword>
  unlock(email: string): Promise<User>
}

export interface RolesAdmin {
  list(): Promise<RoleList>
  get(name: string): Promise<Role>
  create(input: CreateRoleInput): Promise<Role>
  update(name: string, input: UpdateRoleInput): Promise<Role>
  delete(name: string): Promise<{ deleted: string }>
}

export interface AuditAdmin {
  list(input?: AuditListInput): Promise<AuditPage>
}

export interface AdminApi {
  readonly users: UsersAdmin
  readonly roles: RolesAdmin
  readonly audit: AuditAdmin
}
