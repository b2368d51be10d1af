import { z } from 'zod'
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

/** How a new password is given: typed/piped, or generated and returned once. */
const passwordInput = {
  password: z.string().max(4096).optional(),
  generatePassword: z.boolean().default(false),
}

export const createUserInputSchema = z.object({
  email: emailSchema,
  name: z.string().trim().max(200).check(plainText).default(''),
  role: roleNameSchema.default('viewer'),
  ...passwordInput,
})
export type CreateUserInput = z.input<typeof createUserInputSchema>

export const updateUserInputSchema = z
  .object({
    email: emailSchema.optional(),
    name: z.string().trim().max(200).check(plainText).optional(),
    role: roleNameSchema.optional(),
  })
  .refine((p) => p.email !== undefined || p.name !== undefined || p.role !== undefined, 'nothing to change: give a new email, name or role')
export type UpdateUserInput = z.input<typeof updateUserInputSchema>

export const setPasswordInputSchema = z.object(passwordInput)
export type SetPasswordInput = z.input<typeof setPasswordInputSchema>

export const userListInputSchema = pageInputSchema.extend({
  role: roleNameSchema.optional(),
  status: userStatusSchema.optional(),
  search: z.string().trim().min(1).max(254).optional(),
})
export type UserListInput = z.input<typeof userListInputSchema>

/** A page of users, and how many match the filter in all (a count: cheap at the sizes a users table has). */
export const userPageSchema = pageSchema(userSchema).extend({ total: z.number().int().nonnegative() })
export type UserPage = z.infer<typeof userPageSchema>

/** A user and, only when it was generated, the new password (shown this once). */
export const userWithPasswordSchema = z.object({
  user: userSchema,
  password: z.string().optional().describe('only when the password was generated, shown once'),
})
export type UserWithPassword = z.infer<typeof userWithPasswordSchema>

export const deleteUserResultSchema = z.object({ deleted: userSchema })
