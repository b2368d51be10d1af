/**
 * What other features may know of OAuth clients: whether one exists (a rate-limit override names a client
 * by its id). The OAuth clients feature's surface for them, so none reads gantry_oauth_clients through its repo.
 */
import type { Knex } from 'knex'
import { oauthClientsTable } from './oauth-clients.repo.js'

export interface OAuthClientDirectory {
  /** The client's id when a client (live or revoked) has it; run on `k`, the caller's knex or transaction. */
  byClientId(k: Knex, clientId: string): Promise<{ readonly clientId: string } | undefined>
}

export const oauthClientDirectory: OAuthClientDirectory = {
  byClientId: async (k, clientId) => {
    const row = await oauthClientsTable.find(k, clientId)
    return row && { clientId: row.publicId }
  },
}
