/** Roles (`gantry roles …`, /api/v1/admin/roles). */
import { z } from 'zod'
import {
  createRoleInputSchema,
  deleteRoleResultSchema,
  roleListSchema,
  roleNameSchema,
  roleSchema,
  updateRoleInputSchema,
} from '../../core/roles/roles.schema.js'
import { operation } from '../operation.js'

const ROLES = '/api/v1/admin/roles'
const ROLE = `${ROLES}/:name`
const byName = z.object({ name: roleNameSchema })
const tag = 'roles'
const read = { tag, permission: 'roles:read' } as const
const write = { tag, permission: 'roles:write' } as const

export const roleOperations = {
  'roles.list': operation({
    ...read,
    summary: 'Every role (built-in and custom) with its permissions and how many users hold it; one page.',
    http: { method: 'get', path: ROLES },
    output: roleListSchema,
    run: ({ roles }, ctx) => roles.list(ctx),
  }),
  'roles.create': operation({
    ...write,
    summary: 'Create a custom role.',
    http: { method: 'post', path: ROLES, status: 201 },
    input: createRoleInputSchema,
    output: roleSchema,
    errors: ['ROLE_EXISTS'],
    audit: 'roles.create',
    authorization: { handsOut: 'permissions' },
    run: ({ roles }, ctx, _params, input) => roles.create(ctx, input),
  }),
  'roles.get': operation({
    ...read,
    summary: 'One role.',
    http: { method: 'get', path: ROLE },
    params: byName,
    output: roleSchema,
    errors: ['ROLE_NOT_FOUND'],
    run: ({ roles }, ctx, { name }) => roles.get(ctx, name),
  }),
  'roles.update': operation({
    ...write,
    summary: 'Grant or revoke permissions of a custom role, or change its description.',
    http: { method: 'patch', path: ROLE },
    params: byName,
    input: updateRoleInputSchema,
    output: roleSchema,
    errors: ['ROLE_NOT_FOUND', 'ROLE_BUILTIN', 'LAST_ADMIN'],
    audit: 'roles.update',
    authorization: { actsOn: 'role', handsOut: 'permissions' },
    run: ({ roles }, ctx, { name }, input) => roles.update(ctx, name, input),
  }),
  'roles.delete': operation({
    ...write,
    summary: 'Delete a custom role no user holds.',
    http: { method: 'delete', path: ROLE },
    params: byName,
    output: deleteRoleResultSchema,
    errors: ['ROLE_NOT_FOUND', 'ROLE_BUILTIN', 'ROLE_IN_USE'],
    audit: 'roles.delete',
    authorization: { actsOn: 'role' },
    destructive: ({ name }) => `Deleting role ${name}`,
    run: ({ roles }, ctx, { name }) => roles.delete(ctx, name),
  }),
} as const
