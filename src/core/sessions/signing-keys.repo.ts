/** The knex queries of gantry_signing_keys (EdDSA signing keys, see migrations/20261122000200_gantry_signing_keys.ts). */
import type { Knex } from 'knex'

const TABLE = 'gantry_signing_keys'

/** A gantry_signing_keys row as the drivers return it (BIGINT columns may come back as strings). */
export interface SigningKeyRow {
  id: number
  generation: number
  kid: string
  alg: string
  public_jwk: string
  /** The compact JWE of the private JWK; null once the key is retired. */
  private_jwk: string | null
  created_at: number | string
  retired_at: number | string | null
}

export type NewSigningKeyRow = Omit<SigningKeyRow, 'id'>

/** The keys that may still verify: not retired, or retired after `retiredAfter`; oldest first. */
export function selectLiveKeys(k: Knex, retiredAfter: number): Promise<SigningKeyRow[]> {
  return k<SigningKeyRow>(TABLE)
    .where((q) => q.whereNull('retired_at').orWhere('retired_at', '>', retiredAfter))
    .orderBy('generation')
}

/** The highest generation so far, 0 when there is no key. */
export async function selectMaxGeneration(k: Knex): Promise<number> {
  const row = (await k(TABLE).max({ max: 'generation' }).first()) as { max: number | string | null } | undefined
  return Number(row?.max ?? 0)
}

/** Inserts a key; a unique violation means another process took its generation first. */
export async function insertKey(k: Knex, row: NewSigningKeyRow): Promise<void> {
  await k(TABLE).insert(row)
}

/** Retires every current key older than `generation`, clearing its private key; returns them as retired, oldest first. */
export async function retireKeysBefore(k: Knex, generation: number, now: number): Promise<SigningKeyRow[]> {
  const current = () => k<SigningKeyRow>(TABLE).whereNull('retired_at').andWhere('generation', '<', generation)
  const rows = await current().orderBy('generation')
  if (rows.length > 0) await current().update({ retired_at: now, private_jwk: null })
  return rows.map((row) => ({ ...row, retired_at: now, private_jwk: null }))
}
