/**
 * The row side of `users import`: each record read from the file checked with the users' schemas and
 * turned into a row to write, or into the reason it is skipped. A row's role obeys invariant 1 (DESIGN.md):
 * an actor assigns only a role whose permissions its own cover; a row with a role beyond them is a bad row
 * like any other. The second row with an email already seen in the file is a duplicate.
 *
 * Passwords: a row carries none or a hash from another system — argon2 in PHC form or bcrypt
 * $2a$/$2b$/$2y$ — stored as it is (login.ts verifies it at the first login and re-hashes it to argon2id).
 */
import { z } from 'zod'
import { uncovered } from '../roles/permissions.js'
import { roleNameSchema } from '../roles/roles.schema.js'
import type { RawRecord } from './import-file.js'
import type { ImportSkip } from './import.js'
import { parseArgon2 } from './passwords.js'
import type { NewUserRow } from './users.repo.js'
import { newUserFieldsSchema, normaliseEmail, userStatusSchema } from './users.schema.js'

/** argon2 (any variant) in PHC form, or bcrypt $2a$/$2b$/$2y$ with its 53-character salt and hash. */
function isImportableHash(hash: string): boolean {
  return /^\$2[aby]\$\d\d\$[./A-Za-z0-9]{53}$/.test(hash) || parseArgon2(hash) !== undefined
}

const rowSchema = newUserFieldsSchema.pick({ email: true, name: true }).extend({
  role: roleNameSchema.optional(),
  status: userStatusSchema.default('active'),
  password_hash: z.string().trim().refine(isImportableHash, 'not an argon2 (PHC) or bcrypt ($2a$/$2b$/$2y$) hash').optional(),
})

/** A good row, with the line of the file it came from. */
export interface Candidate {
  readonly line: number
  readonly row: NewUserRow
}

/**
 * A checker for one import's records: a good record becomes a candidate, a bad one the skip that reports
 * it. It remembers the emails it has passed, to find duplicates within the file.
 */
export function createRowChecker(options: {
  /** Every role's permissions. */
  readonly roles: ReadonlyMap<string, readonly string[]>
  /** The role of a row that names none. */
  readonly defaultRole: string
  /** What the importing actor holds: a row's role must not carry more. */
  readonly actorPermissions: readonly string[]
}): (record: RawRecord, now: number) => Candidate | ImportSkip {
  const { roles, defaultRole, actorPermissions } = options
  // Worked out once per role.
  const refusals = new Map<string, string | undefined>()
  const refusal = (role: string, permissions: readonly string[]): string | undefined => {
    if (!refusals.has(role)) {
      const beyond = uncovered(actorPermissions, permissions)
      refusals.set(role, beyond.length === 0 ? undefined : `role ${role} would carry permissions you do not hold: ${beyond.join(', ')}`)
    }
    return refusals.get(role)
  }
  const seen = new Map<string, number>()
  const skip = (line: number, reason: string, email?: string): ImportSkip => (email === undefined ? { line, reason } : { line, email, reason })

  return (record, now) => {
    if ('error' in record) return skip(record.line, record.error, record.email)
    const parsed = rowSchema.safeParse(record.fields)
    const rawEmail = typeof record.fields.email === 'string' ? normaliseEmail(record.fields.email) : undefined
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const field = issue?.path.join('.') ?? ''
      return skip(record.line, `${field ? `${field}: ` : ''}${issue?.message ?? 'invalid row'}`, rawEmail || undefined)
    }
    const { email, name, status } = parsed.data
    const role = parsed.data.role ?? defaultRole
    const permissions = roles.get(role)
    if (!permissions) return skip(record.line, `role: no role named "${role}"`, email)
    const refused = refusal(role, permissions)
    if (refused !== undefined) return skip(record.line, `forbidden: ${refused}`, email)
    const first = seen.get(email)
    if (first !== undefined) return skip(record.line, `duplicate: the same email as line ${first}`, email)
    seen.set(email, record.line)
    return { line: record.line, row: { email, name, role, status, password_hash: parsed.data.password_hash ?? null, created_at: now, updated_at: now } }
  }
}
