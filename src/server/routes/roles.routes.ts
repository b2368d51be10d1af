/** Roles under /api/v1/admin/roles: the same use cases as `gantry roles …`, one route each. */
import { z } from 'zod'
import {
  createRoleInputSchema,
  deleteRoleResultSchema,
  roleListSchema,
  roleNameSchema,
  roleSchema,
  updateRoleInputSchema,
} from '../../core/roles/roles.schema.js'
import type { Services } from '../../core/services.js'
import { route, type RouteSpec } from './route.js'

const ROLES = '/api/v1/admin/roles'
const ROLE = `${ROLES}/:name`
const byName = z.object({ name: roleNameSchema })

/** The role routes. */
export function roleRoutes(services: Services): RouteSpec[] {
  const { roles } = services
  const tag = 'roles'
  return [
    route({
      method: 'get',
      path: ROLES,
      tag,
      summary: 'Every role (built-in and custom) with its permissions and how many users hold it; one page.',
      auth: 'required',
      permission: 'roles:read',
      response: roleListSchema,
      handler: ({ ctx }) => roles.list(ctx),
    }),
    route({
      method: 'post',
      path: ROLES,
      tag,
      summary: 'Create a custom role.',
      auth: 'required',
      permission: 'roles:write',
      body: createRoleInputSchema,
      response: roleSchema,
      status: 201,
      handler: ({ ctx, body }) => roles.create(ctx, body),
    }),
    route({
      method: 'get',
      path: ROLE,
      tag,
      summary: 'One role.',
      auth: 'required',
      permission: 'roles:read',
      params: byName,
      response: roleSchema,
      handler: ({ ctx, params }) => roles.get(ctx, params.name),
    }),
    route({
      method: 'patch',
      path: ROLE,
      tag,
      summary: 'Grant or revoke permissions of a custom role, or change its description.',
      auth: 'required',
      permission: 'roles:write',
      params: byName,
      body: updateRoleInputSchema,
      response: roleSchema,
      handler: ({ ctx, params, body }) => roles.update(ctx, params.name, body),
    }),
    route({
      method: 'delete',
      path: ROLE,
      tag,
      summary: 'Delete a custom role no user holds.',
      auth: 'required',
      permission: 'roles:write',
      params: byName,
      response: deleteRoleResultSchema,
      handler: ({ ctx, params }) => roles.delete(ctx, params.name),
    }),
  ]
}
