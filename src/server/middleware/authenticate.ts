/**
 * The Express side of authentication: pull the credential out of `Authorization: Bearer …` or
 * `X-API-Key`, and let the core authenticator say who it is.
 */
import type { Request } from 'express'
import type { ActorContext } from '../../core/context.js'
import { GantryError } from '../../core/errors.js'
import type { Authenticator } from '../../core/sessions/authenticate.js'

/** The credential a request presents, if any; a malformed Authorization header is refused. */
export function presentedCredential(req: Request): string | undefined {
  const header = req.get('authorization')
  if (header !== undefined) {
    const match = /^Bearer +([\x21-\x7e]{1,8192})$/i.exec(header.trim())
    if (!match) throw new GantryError('UNAUTHENTICATED', 'The Authorization header must be `Bearer <access token or API key>`.')
    return match[1]
  }
  const apiKey = req.get('x-api-key')
  return apiKey === undefined ? undefined : apiKey.trim()
}

/** The caller of a route that requires credentials; UNAUTHENTICATED (401) without any. */
export async function authenticateRequest(req: Request, authenticator: Authenticator): Promise<ActorContext> {
  const credential = presentedCredential(req)
  if (!credential) throw new GantryError('UNAUTHENTICATED', 'This route needs credentials.')
  return authenticator.authenticate(credential, req.ip)
}
