/** The knex queries of API keys: the owned-credential queries, on gantry_api_keys (public id: key_id). */
import { credentialTable } from '../credentials/credential-table.js'

export const apiKeysTable = credentialTable({ table: 'gantry_api_keys', idColumn: 'key_id' })
