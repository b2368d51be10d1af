/**
 * Tokens (`gantry tokens …`): under /api/v1/admin/users/:email a token minted for a script and the end of
 * every session of the user; under /api/v1/admin/signing-keys the EdDSA signing keys (under HS256 both
 * answer INVALID_INPUT).
 */
import { z } from 'zod'
import { issuedTokenSchema, issueTokenInputSchema, revokedSessionsSchema } from '../../core/sessions/sessions.schema.js'
import { rotatedSigningKeySchema, signingKeyListSchema } from '../../core/sessions/signing-keys.schema.js'
import { emailSchema } from '../../core/users/users.schema.js'
import { operation } from '../operation.js'

const USER = '/api/v1/admin/users/:email'
const byEmail = z.object({ email: emailSchema })
const SIGNING_KEYS = '/api/v1/admin/signing-keys'
const tag = 'tokens'

export const tokenOperations = {
  'tokens.issue': operation({
    tag,
    permission: 'sessions:write',
    summary: "An access token for a script, acting as the user (never beyond the caller's permissions); in this answer only.",
    http: { method: 'post', path: `${USER}/tokens`, status: 201 },
    params: byEmail,
    input: issueTokenInputSchema,
    output: issuedTokenSchema,
    errors: ['USER_NOT_FOUND'],
    audit: 'tokens.issue',
    authorization: { actsOn: 'user', handsOut: 'role' },
    run: ({ sessions }, ctx, { email }, input) => sessions.issueScriptToken(ctx, email, input),
  }),
  'tokens.revoke': operation({
    tag,
    permission: 'sessions:write',
    summary: 'End every session of a user: refresh tokens at once, access tokens within 1 s.',
    http: { method: 'delete', path: `${USER}/sessions` },
    params: byEmail,
    output: revokedSessionsSchema,
    errors: ['USER_NOT_FOUND'],
    audit: 'tokens.revoke',
    authorization: { actsOn: 'user' },
    run: ({ sessions }, ctx, { email }) => sessions.revokeUserSessions(ctx, email),
  }),
  'tokens.keys.list': operation({
    tag,
    permission: 'keys:read',
    summary: 'The EdDSA signing keys: the current one, then the previous ones that still verify. Metadata only.',
    http: { method: 'get', path: SIGNING_KEYS },
    output: signingKeyListSchema,
    errors: ['INVALID_INPUT'],
    run: ({ signingKeys }, ctx) => signingKeys.list(ctx),
  }),
  'tokens.keys.rotate': operation({
    tag,
    permission: 'keys:write',
    summary: 'A new current EdDSA signing key; the previous one keeps verifying the tokens it signed until they expire.',
    http: { method: 'post', path: `${SIGNING_KEYS}/rotate`, status: 201 },
    output: rotatedSigningKeySchema,
    errors: ['INVALID_INPUT'],
    audit: 'keys.rotate',
    run: ({ signingKeys }, ctx) => signingKeys.rotate(ctx),
  }),
} as const
