/**
 * What the admin commands can do, whichever door they go through: LocalAdmin (services, straight against
 * the database) now, HttpAdmin (the server's API) later. Inputs and results are the services' zod types.
 */
import type { ApiKey, ApiKeyListInput, ApiKeyPage, ApiKeyWithSecret, CreateApiKeyInput, RotateApiKeyInput } from '../core/apikeys/apikeys.schema.js'
import type { AuditListInput, AuditPage } from '../core/audit/audit.schema.js'
import type { MaintenanceInput, MaintenanceState } from '../core/maintenance/maintenance.schema.js'
import type {
  ApplyInput,
  ApplyResult,
  OverrideInput,
  OverrideView,
  RateLimitList,
  RemoveOverrideInput,
  RuleView,
  RulesFile,
  SetRuleInput,
  TestInput,
  TestResult,
} from '../core/ratelimits/ratelimits.schema.js'
import type { CreateRoleInput, Role, RoleList, UpdateRoleInput } from '../core/roles/roles.schema.js'
import type { IssuedToken, IssueTokenInput, RevokedSessions } from '../core/sessions/sessions.schema.js'
import type { RotatedSigningKey, SigningKeyList } from '../core/sessions/signing-keys.schema.js'
import type { ExportUsersInput } from '../core/users/export.js'
import type { ImportProgress, ImportResult, ImportSource, ImportUsersInput } from '../core/users/import.js'
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
  /** Streams a CSV / JSON lines file of users in (src/core/users/import.ts). */
  import(source: ImportSource, input: ImportUsersInput, onProgress?: (progress: ImportProgress) => void): Promise<ImportResult>
  /** The users as CSV / JSON lines text chunks, page by page (src/core/users/export.ts). */
  export(input: ExportUsersInput, onPage?: (exported: number) => void): AsyncIterable<string>
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

export interface ApiKeysAdmin {
  create(input: CreateApiKeyInput): Promise<ApiKeyWithSecret>
  list(input?: ApiKeyListInput): Promise<ApiKeyPage>
  revoke(keyId: string): Promise<ApiKey>
  rotate(keyId: string, input?: RotateApiKeyInput): Promise<ApiKeyWithSecret>
}

/** EdDSA signing keys (auth.algorithm EdDSA; under HS256 both answer INVALID_INPUT). */
export interface SigningKeysAdmin {
  list(): Promise<SigningKeyList>
  rotate(): Promise<RotatedSigningKey>
}

export interface TokensAdmin {
  issue(email: string, input?: IssueTokenInput): Promise<IssuedToken>
  revoke(email: string): Promise<RevokedSessions>
  readonly keys: SigningKeysAdmin
}

/** Maintenance mode: reading it needs maintenance:read, turning it on or off maintenance:write. */
export interface MaintenanceAdmin {
  status(): Promise<MaintenanceState>
  on(input?: MaintenanceInput): Promise<MaintenanceState>
  off(): Promise<MaintenanceState>
}

/** Rate-limit rules and overrides: reading needs ratelimits:read, changing them ratelimits:write. */
export interface RateLimitsAdmin {
  list(): Promise<RateLimitList>
  set(name: string, input: SetRuleInput): Promise<RuleView>
  remove(name: string): Promise<{ removed: string; version: number }>
  override(input: OverrideInput): Promise<OverrideView>
  removeOverride(input: RemoveOverrideInput): Promise<{ removed: OverrideView; version: number }>
  export(): Promise<RulesFile>
  apply(input: ApplyInput): Promise<ApplyResult>
  test(input: TestInput): Promise<TestResult>
}

export interface AdminApi {
  readonly users: UsersAdmin
  readonly roles: RolesAdmin
  readonly audit: AuditAdmin
  readonly apikeys: ApiKeysAdmin
  readonly tokens: TokensAdmin
  readonly maintenance: MaintenanceAdmin
  readonly rateLimits: RateLimitsAdmin
}
