/**
 * The knex queries of OAuth clients: the owned-credential queries on gantry_oauth_clients (public id:
 * client_id), and the token epoch their access tokens carry.
 */
import type { Knex } from 'knex'
import { credentialTable } from '../credentials/credential-table.js'

const TABLE = 'gantry_oauth_clients'

export const oauthClientsTable = credentialTable({
  table: TABLE,
  idColumn: 'client_id',
  extra: (raw) => ({ tokenEpoch: Number(raw.token_epoch) }),
})

export type OAuthClientRow = NonNullable<Awaited<ReturnType<typeof oauthClientsTable.find>>>

/** Ends every access token of a client: they carry the epoch they were signed at, and only the current one is accepted. */
export async function raiseTokenEpoch(k: Knex, id: number): Promise<void> {
  await k(TABLE).where({ id }).increment('token_epoch', 1)
}
