/**
 * The one service layer (DESIGN.md "The one idea"): every front door — local CLI, HTTP server, remote CLI
 * through the server — calls these, so a rule is written once.
 */
import type { Knex } from 'knex'
import { createAuditService, type AuditService } from './audit/audit.service.js'
import type { Clock } from './clock.js'
import { createRolesService, type RolesService } from './roles/roles.service.js'
import { DEFAULT_LOCKOUT, type LockoutPolicy } from './users/login.js'
import { passwordPolicy, type PasswordPolicy } from './users/password-policy.js'
import { argon2Hasher, type PasswordHasher } from './users/passwords.js'
import { createUsersService, type UsersService } from './users/users.service.js'

export interface ServiceDeps {
  readonly knex: Knex
  readonly clock: Clock
  /** Default: argon2id with the OWASP parameters. */
  readonly hasher?: PasswordHasher | undefined
  readonly passwordPolicy?: Partial<PasswordPolicy> | undefined
  readonly lockout?: Partial<LockoutPolicy> | undefined
}

export interface Services {
  readonly users: UsersService
  readonly roles: RolesService
  readonly audit: AuditService
}

/** Builds every service over one database and clock. */
export function createServices(deps: ServiceDeps): Services {
  const { knex, clock } = deps
  const audit = createAuditService({ knex, clock })
  const roles = createRolesService({ knex, clock, audit })
  const users = createUsersService({
    knex,
    clock,
    audit,
    roles,
    hasher: deps.hasher ?? argon2Hasher(),
    passwordPolicy: passwordPolicy(deps.passwordPolicy),
    lockout: { ...DEFAULT_LOCKOUT, ...deps.lockout },
  })
  return { users, roles, audit }
}
