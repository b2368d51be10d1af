/** Users (`gantry users …`, /api/v1/admin/users). */
import { z } from 'zod'
import { exportUsersInputSchema } from '../../core/users/export.js'
import { importResultSchema, importUsersInputSchema, type UserFileFormat } from '../../core/users/import.js'
import { subjectDataSchema } from '../../core/users/subject-export.js'
import {
  createUserInputSchema,
  deleteUserInputSchema,
  deleteUserResultSchema,
  emailSchema,
  setPasswordInputSchema,
  updateUserInputSchema,
  userListInputSchema,
  userPageSchema,
  userSchema,
  userWithPasswordSchema,
  identityListSchema,
  unlinkInputSchema,
  unlinkResultSchema,
} from '../../core/users/users.schema.js'
import { operation, type StreamOperation } from '../operation.js'

const USERS = '/api/v1/admin/users'
const USER = `${USERS}/:email`
const byEmail = z.object({ email: emailSchema })
const tag = 'users'
const read = { tag, permission: 'users:read' } as const
const write = { tag, permission: 'users:write' } as const

/** The media type of each users file format: what an import body is sent as, and an export answered with. */
export const USER_FILE_TYPES = { csv: 'text/csv', jsonl: 'application/x-ndjson' } as const satisfies Record<UserFileFormat, string>
const userFileTypes = Object.values(USER_FILE_TYPES)

export const userOperations = {
  'users.list': operation({
    ...read,
    summary: 'List users, filtered by role, status or a search on email and name.',
    http: { method: 'get', path: USERS },
    input: userListInputSchema,
    output: userPageSchema,
    run: ({ users }, ctx, _params, input) => users.list(ctx, input),
  }),
  'users.create': operation({
    ...write,
    summary: 'Create a user; a generated password is in this answer and nowhere else.',
    http: { method: 'post', path: USERS, status: 201 },
    input: createUserInputSchema,
    output: userWithPasswordSchema,
    errors: ['MISSING_INPUT', 'PASSWORD_POLICY', 'ROLE_NOT_FOUND', 'USER_EXISTS'],
    audit: 'users.create',
    authorization: { handsOut: 'role' },
    run: ({ users }, ctx, _params, input) => users.create(ctx, input),
  }),
  'users.get': operation({
    ...read,
    summary: 'One user.',
    http: { method: 'get', path: USER },
    params: byEmail,
    output: userSchema,
    errors: ['USER_NOT_FOUND'],
    run: ({ users }, ctx, { email }) => users.get(ctx, email),
  }),
  'users.identities': operation({
    ...read,
    summary: "A user's accounts at identity providers (single sign-on).",
    http: { method: 'get', path: `${USER}/identities` },
    params: byEmail,
    output: identityListSchema,
    errors: ['USER_NOT_FOUND'],
    run: ({ users }, ctx, { email }) => users.identities(ctx, email),
  }),
  'users.unlink': operation({
    ...write,
    summary: "Remove a user's identities at a provider: that account no longer signs in as them.",
    http: { method: 'post', path: `${USER}/unlink` },
    params: byEmail,
    input: unlinkInputSchema,
    output: unlinkResultSchema,
    errors: ['USER_NOT_FOUND', 'IDENTITY_NOT_FOUND'],
    audit: 'users.unlink',
    authorization: { actsOn: 'user' },
    run: ({ users }, ctx, { email }, input) => users.unlink(ctx, email, input),
  }),
  'users.update': operation({
    ...write,
    summary: "Change a user's email, name or role.",
    http: { method: 'patch', path: USER },
    params: byEmail,
    input: updateUserInputSchema,
    output: userSchema,
    errors: ['USER_NOT_FOUND', 'ROLE_NOT_FOUND', 'USER_EXISTS', 'LAST_ADMIN'],
    audit: 'users.update',
    authorization: { actsOn: 'user', handsOut: 'role' },
    run: ({ users }, ctx, { email }, patch) => users.update(ctx, email, patch),
  }),
  'users.delete': operation({
    ...write,
    summary: 'Delete a user (never the last active admin).',
    http: { method: 'delete', path: USER },
    params: byEmail,
    input: deleteUserInputSchema,
    output: deleteUserResultSchema,
    errors: ['USER_NOT_FOUND', 'LAST_ADMIN'],
    audit: 'users.delete',
    authorization: { actsOn: 'user' },
    destructive: ({ email }) => `Deleting user ${email}`,
    run: ({ users }, ctx, { email }, input) => users.delete(ctx, email, input),
  }),
  'users.subjectData': operation({
    tag,
    permission: 'subjects:read',
    summary:
      "One person's data (subject access): their user, role, API keys and sessions (metadata, never a secret) and the audit entries where they act or are acted on.",
    http: { method: 'get', path: `${USER}/data` },
    params: byEmail,
    output: subjectDataSchema,
    errors: ['USER_NOT_FOUND'],
    run: ({ users }, ctx, { email }) => users.subjectData(ctx, email),
  }),
  'users.disable': operation({
    ...write,
    summary: 'Disable a user: refresh tokens stop at once, access tokens within 1 s.',
    http: { method: 'post', path: `${USER}/disable` },
    params: byEmail,
    output: userSchema,
    errors: ['USER_NOT_FOUND', 'LAST_ADMIN'],
    audit: 'users.disable',
    authorization: { actsOn: 'user' },
    run: ({ users }, ctx, { email }) => users.disable(ctx, email),
  }),
  'users.enable': operation({
    ...write,
    summary: 'Enable a disabled user.',
    http: { method: 'post', path: `${USER}/enable` },
    params: byEmail,
    output: userSchema,
    errors: ['USER_NOT_FOUND'],
    audit: 'users.enable',
    authorization: { actsOn: 'user' },
    run: ({ users }, ctx, { email }) => users.enable(ctx, email),
  }),
  'users.unlock': operation({
    ...write,
    summary: 'End a login lockout and reset the failure counter.',
    http: { method: 'post', path: `${USER}/unlock` },
    params: byEmail,
    output: userSchema,
    errors: ['USER_NOT_FOUND'],
    audit: 'users.unlock',
    authorization: { actsOn: 'user' },
    run: ({ users }, ctx, { email }) => users.unlock(ctx, email),
  }),
  'users.setPassword': operation({
    ...write,
    summary: "Set a user's password (given, or generated and shown in this answer only); ends their sessions.",
    http: { method: 'post', path: `${USER}/password` },
    params: byEmail,
    input: setPasswordInputSchema,
    output: userWithPasswordSchema,
    errors: ['MISSING_INPUT', 'PASSWORD_POLICY', 'USER_NOT_FOUND'],
    audit: 'users.set-password',
    authorization: { actsOn: 'user' },
    run: ({ users }, ctx, { email }, input) => users.setPassword(ctx, email, input),
  }),
  'users.import': {
    ...write,
    kind: 'upload',
    summary: 'Import users from a CSV or JSON lines body (at most 100 MB); bad rows are reported by line.',
    http: { method: 'post', path: `${USERS}/import` },
    mediaTypes: userFileTypes,
    input: importUsersInputSchema,
    output: importResultSchema,
    errors: ['IMPORT_INVALID', 'ROLE_NOT_FOUND', 'USER_EXISTS', 'PAYLOAD_TOO_LARGE'],
    audit: 'users.import',
    authorization: { handsOut: 'role' },
  } satisfies StreamOperation,
  'users.export': {
    ...read,
    kind: 'download',
    summary: 'Every user (of a role or status) as CSV or JSON lines, streamed page by page; never a password hash.',
    http: { method: 'get', path: `${USERS}/export` },
    mediaTypes: userFileTypes,
    input: exportUsersInputSchema,
    output: z.string(),
  } satisfies StreamOperation,
} as const
