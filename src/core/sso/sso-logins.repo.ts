/** The knex queries of sign-ins under way (gantry_sso_logins): written at the redirect, taken once at the callback. */
import type { Knex } from 'knex'

const TABLE = 'gantry_sso_logins'

export interface PendingSignIn {
  readonly stateHash: string
  readonly bindingHash: string
  readonly provider: string
  readonly nonce: string
  readonly codeVerifier: string
  readonly returnTo: string
  readonly expiresAt: number
}

export async function insertPending(k: Knex, row: PendingSignIn): Promise<void> {
  await k(TABLE).insert({
    state_hash: row.stateHash,
    binding_hash: row.bindingHash,
    provider: row.provider,
    nonce: row.nonce,
    code_verifier: row.codeVerifier,
    return_to: row.returnTo,
    expires_at: row.expiresAt,
  })
}

/** The sign-in of this state, deleted as it is read: a second callback with the same state finds nothing. */
export async function takePending(k: Knex, stateHash: string): Promise<PendingSignIn | undefined> {
  return k.transaction(async (trx) => {
    const raw = (await trx(TABLE).where({ state_hash: stateHash }).forUpdate().first()) as Record<string, unknown> | undefined
    if (!raw) return undefined
    // Only the transaction that deletes the row goes on: two callbacks racing with one state get one sign-in.
    if (Number(await trx(TABLE).where({ state_hash: stateHash }).delete()) !== 1) return undefined
    return {
      stateHash,
      bindingHash: String(raw.binding_hash),
      provider: String(raw.provider),
      nonce: String(raw.nonce),
      codeVerifier: String(raw.code_verifier),
      returnTo: String(raw.return_to),
      expiresAt: Number(raw.expires_at),
    }
  })
}

/** Deletes up to `limit` sign-ins that were never finished and have expired; how many. */
export async function deleteExpiredPending(k: Knex, now: number, limit: number): Promise<number> {
  const states = (await k(TABLE).where('expires_at', '<', now).limit(limit).pluck('state_hash')) as string[]
  return states.length === 0 ? 0 : Number(await k(TABLE).whereIn('state_hash', states).delete())
}
