/**
 * From a presented credential to the caller: an access token (JWT) or an API key (`gk_…`, in a Bearer
 * header or X-API-Key). Every front door that takes credentials — the bundled server, an app's middleware —
 * goes through here, so a token or key means the same everywhere.
 */
import type { ApiKeysService } from '../apikeys/apikeys.service.js'
import type { ActorContext } from '../context.js'
import type { SessionsService } from './sessions.service.js'

const API_KEY_PREFIX = 'gk_'

export interface Authenticator {
  /** The caller behind a credential; TOKEN_INVALID or APIKEY_INVALID (401) when it is not valid now. */
  authenticate(credential: string, ip?: string): Promise<ActorContext>
}

/** Builds the authenticator over the sessions and API-key services. */
export function createAuthenticator(deps: { sessions: Pick<SessionsService, 'verifyAccess'>; apikeys: Pick<ApiKeysService, 'verify'> }): Authenticator {
  return {
    async authenticate(credential, ip) {
      if (credential.startsWith(API_KEY_PREFIX)) {
        const key = await deps.apikeys.verify(credential)
        return { actor: `apikey:${key.keyId}`, permissions: key.scopes, ip, userId: key.owner.id, apiKeyId: key.keyId }
      }
      const claims = await deps.sessions.verifyAccess(credential)
      const userId = Number(claims.sub)
      return { actor: `user:${userId}`, permissions: claims.permissions ?? [], ip, userId }
    },
  }
}
