import { z } from 'zod'
import { plainText } from '../text.js'
import { permissionSchema } from './permissions.js'

/** A role name: lower case letters, digits, `-` and `_`, starting with a letter. */
export const roleNameSchema = z
  .string()
  .trim()
  .regex(/^[a-z][a-z0-9_-]{0,63}$/, 'a role name is lower case letters, digits, - and _, starting with a letter (at most 64)')

/** A role as lists and commands return it. */
export const roleSchema = z.object({
  name: z.string(),
  description: z.string(),
  permissions: z.array(z.string()),
  builtin: z.boolean(),
  users: z.number().int().describe('how many users hold the role'),
  createdAt: z.string(),
  updatedAt: z.string(),
})
export type Role = z.infer<typeof roleSchema>

export const roleListSchema = z.object({ data: z.array(roleSchema), nextCursor: z.null() })
export type RoleList = z.infer<typeof roleListSchema>

const dedupe = (ps: string[]): string[] => [...new Set(ps)]
const permissionList = z.array(permissionSchema).transform(dedupe)

export const createRoleInputSchema = z.object({
  name: roleNameSchema,
  description: z.string().trim().max(500).check(plainText).default(''),
  permissions: z.array(permissionSchema).min(1, 'a role needs at least one permission').transform(dedupe),
})
export type CreateRoleInput = z.input<typeof createRoleInputSchema>

export const updateRoleInputSchema = z.object({
  grant: permissionList.default([]),
  revoke: permissionList.default([]),
  description: z.string().trim().max(500).check(plainText).optional(),
})
export type UpdateRoleInput = z.input<typeof updateRoleInputSchema>

export const deleteRoleResultSchema = z.object({ deleted: z.string() })
