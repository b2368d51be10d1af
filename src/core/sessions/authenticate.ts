/**
 * From a presented credential to the caller: an access token (JWT: a user's, or an OAuth client's from the
 * client-credentials grant) or an API key (`gk_…`, in a Bearer header or X-API-Key). Every front door that takes credentials — the bundled server, an app's middleware —
 * goes through here, so a token or key means the same everywhere.
 */
import type { ApiKeysService } from '../apikeys/apikeys.service.js'
import type { OAuthClientsService } from '../oauth/oauth-clients.service.js'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import type { SessionsService } from './sessions.service.js'

const API_KEY_PREFIX = 'gk_'

export interface Authenticator {
  /** The caller behind a credential; TOKEN_INVALID or APIKEY_INVALID (401) when it is not valid now. */
  authenticate(credential: string, ip?: string): Promise<ActorContext>
}

/** Which credentials an authenticator takes: both (the default), only access tokens, or only API keys. */
export type AcceptedCredential = 'any' | 'token' | 'apiKey'

/** Builds the authenticator over the sessions and API-key services; `accept` refuses the other kind of credential (401). */
export function createAuthenticator(
  deps: {
    sessions: Pick<SessionsService, 'accessTokens' | 'userAccess'>
    apikeys: Pick<ApiKeysService, 'verify'>
    oauthClients: Pick<OAuthClientsService, 'access'>
  },
  accept: AcceptedCredential = 'any',
): Authenticator {
  return {
    async authenticate(credential, ip) {
      const isApiKey = credential.startsWith(API_KEY_PREFIX)
      if (accept === 'apiKey' && !isApiKey) throw new GantryError('APIKEY_INVALID', 'Only an API key (gk_…) is accepted here, not an access token.')
      if (accept === 'token' && isApiKey) throw new GantryError('TOKEN_INVALID', 'Only an access token is accepted here, not an API key.')
      if (isApiKey) {
        const key = await deps.apikeys.verify(credential)
        return { actor: `apikey:${key.keyId}`, permissions: key.scopes, ip, userId: key.owner.id, apiKeyId: key.keyId, expiresAt: key.expiresAt ?? undefined }
      }
      const verified = await deps.sessions.accessTokens().verify(credential)
      if (verified.kind === 'client') {
        const client = await deps.oauthClients.access(verified)
        const { clientId, ownerId: userId, permissions } = client
        return { actor: `client:${clientId}`, permissions, ip, userId, clientId, expiresAt: verified.exp * 1000 }
      }
      const claims = await deps.sessions.userAccess(verified)
      const userId = Number(claims.sub)
      return { actor: `user:${userId}`, permissions: claims.permissions ?? [], ip, userId, expiresAt: claims.exp * 1000 }
    },
  }
}
