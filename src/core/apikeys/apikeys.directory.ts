/**
 * What other features may know of API keys: whether one exists (a rate-limit override names a key by its
 * id). The API-keys feature's surface for them, so none reads gantry_api_keys through its repo.
 */
import type { Knex } from 'knex'
import { apiKeysTable } from './apikeys.repo.js'

export interface ApiKeyDirectory {
  /** The key's public id when a key (live or revoked) has it; run on `k`, the caller's knex or transaction. */
  byKeyId(k: Knex, keyId: string): Promise<{ readonly keyId: string } | undefined>
}

export const apiKeyDirectory: ApiKeyDirectory = {
  byKeyId: async (k, keyId) => {
    const row = await apiKeysTable.find(k, keyId)
    return row && { keyId: row.publicId }
  },
}
