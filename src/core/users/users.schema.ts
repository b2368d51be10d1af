import { z } from 'zod'
import { inputProblem } from '../errors.js'
import { atLeastOneField, exactlyOneOf } from '../input-rules.js'
import { pageInputSchema, pageSchema } from '../pagination.js'
import { roleNameSchema } from '../roles/roles.schema.js'
import { plainText } from '../text.js'

/** An email as Gantry compares and stores it: trimmed and lower-cased, wherever it comes from. */
export const normaliseEmail = (email: string): string => email.trim().toLowerCase()

/** An email as stored: normalised, valid, at most 254 characters. */
export const emailSchema = z
  .string()
  .overwrite(normaliseEmail)
  .max(254)
  .pipe(z.email({ message: 'not a valid email address' }))

export const userStatusSchema = z.enum(['active', 'disabled'])
export type UserStatus = z.infer<typeof userStatusSchema>

/** A user as every door shows it: never the password hash, counters or session epoch. */
export const userSchema = z.object({
  id: z.number().int(),
  email: z.string(),
  name: z.string(),
  role: z.string(),
  status: userStatusSchema,
  lockedUntil: z.string().nullable().describe('ISO 8601 while a lockout lasts, else null'),
  lastLoginAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type User = z.infer<typeof userSchema>

/** An account of the user at an identity provider (single sign-on), by the provider's stable subject. */
export const identitySchema = z.object({
  provider: z.string().describe("the provider's id in auth.sso.providers"),
  subject: z.string().describe("the provider's stable id of the account (`sub`)"),
  email: z.string().nullable().describe('as the provider asserted it at the last sign-in'),
  linkedAt: z.string(),
  lastLoginAt: z.string().nullable(),
})
export type Identity = z.infer<typeof identitySchema>
export const identityListSchema = z.object({ user: z.string().describe("the user's email"), identities: z.array(identitySchema) })
export type IdentityList = z.infer<typeof identityListSchema>

/** `users unlink EMAIL --provider ID`: the identities removed. */
export const unlinkInputSchema = z.object({ provider: z.string().regex(/^[a-z0-9][a-z0-9-]{0,31}$/, 'a provider id of auth.sso.providers') })
export type UnlinkInput = z.input<typeof unlinkInputSchema>
export const unlinkResultSchema = z.object({ user: z.string(), provider: z.string(), unlinked: z.number().int() })
export type UnlinkResult = z.infer<typeof unlinkResultSchema>

/** How a new password is given: typed/piped, or generated and returned once. */
const passwordInput = {
  password: z.string().max(4096).optional(),
  generatePassword: z.boolean().default(false),
}

/**
 * The one rule of a new password, for every door and the OpenAPI document alike: a password, or
 * `generatePassword: true` — exactly one of the two.
 */
const withOnePassword = <T extends z.ZodObject<typeof passwordInput>>(schema: T): T =>
  exactlyOneOf(
    schema,
    [
      { title: 'A password', schema: z.object({ password: z.string() }) },
      { title: 'A generated password', schema: z.object({ generatePassword: z.literal(true) }) },
    ],
    (value) =>
      value.password === undefined
        ? {
            code: 'MISSING_INPUT',
            message: 'A password is needed: give one, or ask for one to be generated',
            details: inputProblem(['password', 'generatePassword'], 'password-missing'),
          }
        : { message: 'Give a password or ask for a generated one, not both' },
  )

/** A new user's fields, each checked on its own: what the CLI checks before it asks for the password. */
export const newUserFieldsSchema = z.object({
  email: emailSchema,
  name: z.string().trim().max(200).check(plainText).default(''),
  role: roleNameSchema.default('viewer'),
  ...passwordInput,
})

export const createUserInputSchema = withOnePassword(newUserFieldsSchema)
export type CreateUserInput = z.input<typeof createUserInputSchema>

export const updateUserInputSchema = atLeastOneField(
  z.object({
    email: emailSchema.optional(),
    name: z.string().trim().max(200).check(plainText).optional(),
    role: roleNameSchema.optional(),
  }),
  'nothing to change: give a new email, name or role',
)
export type UpdateUserInput = z.input<typeof updateUserInputSchema>

export const setPasswordInputSchema = withOnePassword(z.object(passwordInput))
export type SetPasswordInput = z.input<typeof setPasswordInputSchema>

export const userListInputSchema = pageInputSchema.extend({
  role: roleNameSchema.optional(),
  status: userStatusSchema.optional(),
  search: z.string().trim().min(1).max(254).optional(),
})
export type UserListInput = z.input<typeof userListInputSchema>

/** A page of users, and how many match the filter in all (a count: cheap at the sizes a users table has). */
/** The most users a first page counts: beyond it, `total` is null (counting costs a scan of every match). */
export const USER_TOTAL_CAP = 10_000

export const userPageSchema = pageSchema(userSchema).extend({
  total: z
    .number()
    .int()
    .nonnegative()
    .nullable()
    .describe(`How many users the filters match, on the first page (no cursor) when at most ${USER_TOTAL_CAP}; null otherwise.`),
})
export type UserPage = z.infer<typeof userPageSchema>

/** A user and, only when it was generated, the new password (shown this once). */
export const userWithPasswordSchema = z.object({
  user: userSchema,
  password: z.string().optional().describe('only when the password was generated, shown once'),
})
export type UserWithPassword = z.infer<typeof userWithPasswordSchema>

/** `users delete` options: `erase` (right to erasure) also pseudonymises every trace of the user (erasure.ts). */
export const deleteUserInputSchema = z.object({
  erase: z
    .union([z.boolean(), z.stringbool()])
    .optional()
    .describe(
      'Erase them (right to erasure): also replace their email and name in the audit log and everywhere else Gantry wrote them with a random pseudonym, recorded in the erasure ledger that `db restore` re-applies (audited as users.erased)',
    ),
})
export type DeleteUserInput = z.input<typeof deleteUserInputSchema>

/** What an erasure changed: the pseudonym, how many rows it rewrote, and what it left for the operator. */
export const erasureSchema = z.object({
  pseudonym: z.string().describe('what their email and name were replaced with (erased-…): random, not derived from them'),
  auditEntries: z.number().int(),
  webhookMessages: z.number().int(),
  otherCells: z.number().int(),
  rateLimitOverrides: z.number().int().describe('overrides of the user and their keys, deleted'),
  flagsNaming: z.array(z.string()).describe('flags and segments whose rules name the email: not rewritten (edit them)'),
})
export type Erasure = z.infer<typeof erasureSchema>

export const deleteUserResultSchema = z.object({ deleted: userSchema, erased: erasureSchema.optional().describe('with erase only') })
export type DeleteUserResult = z.infer<typeof deleteUserResultSchema>
