/**
 * The knex queries of sign-ins under way (gantry_sso_logins): written at the redirect, taken once at the
 * callback; of the handoffs to a CLI (gantry_sso_handoffs): written at the callback, taken once by the CLI; and
 * of device sign-ins (gantry_sso_devices): written when a CLI asks for one, polled, deleted when it ends.
 */
import type { Knex } from 'knex'

const TABLE = 'gantry_sso_logins'

export interface PendingSignIn {
  readonly stateHash: string
  readonly bindingHash: string
  readonly provider: string
  readonly nonce: string
  readonly codeVerifier: string
  readonly returnTo: string
  /** `gantry login --sso`: where the CLI listens, its state and its PKCE challenge. */
  readonly cli: { readonly redirect: string; readonly state: string; readonly challenge: string } | null
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
    cli_redirect: row.cli?.redirect ?? null,
    cli_state: row.cli?.state ?? null,
    cli_challenge: row.cli?.challenge ?? null,
    expires_at: row.expiresAt,
  })
}

/** The row of `key`, deleted as it is read: only the transaction that deletes it gets it, however many race. */
function take(k: Knex, table: string, column: string, key: string): Promise<Record<string, unknown> | undefined> {
  return k.transaction(async (trx) => {
    const raw = (await trx(table).where(column, key).forUpdate().first()) as Record<string, unknown> | undefined
    if (!raw || Number(await trx(table).where(column, key).delete()) !== 1) return undefined
    return raw
  })
}

/** Deletes up to `limit` rows of `table` past their expires_at; how many. */
async function deleteExpired(k: Knex, table: string, column: string, now: number, limit: number): Promise<number> {
  const keys = (await k(table).where('expires_at', '<', now).limit(limit).pluck(column)) as string[]
  return keys.length === 0 ? 0 : Number(await k(table).whereIn(column, keys).delete())
}

/** The sign-in of this state, deleted as it is read: a second callback with the same state finds nothing. */
export async function takePending(k: Knex, stateHash: string): Promise<PendingSignIn | undefined> {
  const raw = await take(k, TABLE, 'state_hash', stateHash)
  return (
    raw && {
      stateHash,
      bindingHash: String(raw.binding_hash),
      provider: String(raw.provider),
      nonce: String(raw.nonce),
      codeVerifier: String(raw.code_verifier),
      returnTo: String(raw.return_to),
      cli:
        raw.cli_redirect === null || raw.cli_redirect === undefined
          ? null
          : { redirect: String(raw.cli_redirect), state: String(raw.cli_state), challenge: String(raw.cli_challenge) },
      expiresAt: Number(raw.expires_at),
    }
  )
}

/** Deletes up to `limit` sign-ins that were never finished and have expired; how many. */
export function deleteExpiredPending(k: Knex, now: number, limit: number): Promise<number> {
  return deleteExpired(k, TABLE, 'state_hash', now, limit)
}

export interface Handoff {
  readonly userId: number
  readonly provider: string
  readonly challenge: string
  readonly expiresAt: number
}

const HANDOFFS = 'gantry_sso_handoffs'

export async function insertHandoff(k: Knex, codeHash: string, handoff: Handoff): Promise<void> {
  await k(HANDOFFS).insert({
    code_hash: codeHash,
    user_id: handoff.userId,
    provider: handoff.provider,
    challenge: handoff.challenge,
    expires_at: handoff.expiresAt,
  })
}

/** The handoff of this code, deleted as it is read (one exchange per code, however many race). */
export async function takeHandoff(k: Knex, codeHash: string): Promise<Handoff | undefined> {
  const raw = await take(k, HANDOFFS, 'code_hash', codeHash)
  return raw && { userId: Number(raw.user_id), provider: String(raw.provider), challenge: String(raw.challenge), expiresAt: Number(raw.expires_at) }
}

/** Deletes up to `limit` handoffs no CLI took in time; how many. */
export function deleteExpiredHandoffs(k: Knex, now: number, limit: number): Promise<number> {
  return deleteExpired(k, HANDOFFS, 'code_hash', now, limit)
}

export interface DeviceSignIn {
  readonly provider: string
  readonly deviceCode: string
  /** Seconds between questions to the provider, as it asked (5 more after each `slow_down`). */
  readonly interval: number
  /** When the provider may be asked next (epoch ms). */
  readonly nextPollAt: number
  readonly expiresAt: number
}

const DEVICES = 'gantry_sso_devices'

export async function insertDevice(k: Knex, handleHash: string, device: DeviceSignIn): Promise<void> {
  await k(DEVICES).insert({
    handle_hash: handleHash,
    provider: device.provider,
    device_code: device.deviceCode,
    interval_s: device.interval,
    next_poll_at: device.nextPollAt,
    expires_at: device.expiresAt,
  })
}

/** The device sign-in of this handle, left in place: the CLI polls it until it ends. */
export async function selectDevice(k: Knex, handleHash: string): Promise<DeviceSignIn | undefined> {
  const raw = (await k(DEVICES).where('handle_hash', handleHash).first()) as Record<string, unknown> | undefined
  return (
    raw && {
      provider: String(raw.provider),
      deviceCode: String(raw.device_code),
      interval: Number(raw.interval_s),
      nextPollAt: Number(raw.next_poll_at),
      expiresAt: Number(raw.expires_at),
    }
  )
}

/**
 * Takes the turn to ask the provider, due at `due`: moves the next turn to `next` (and the interval to
 * `interval`, after a `slow_down`). False when another poll took this turn first: of two polls at once, one
 * asks.
 */
export async function takeDevicePoll(k: Knex, handleHash: string, due: number, next: { at: number; interval: number }): Promise<boolean> {
  const updated = await k(DEVICES).where({ handle_hash: handleHash, next_poll_at: due }).update({ next_poll_at: next.at, interval_s: next.interval })
  return Number(updated) === 1
}

/**
 * Ends a device sign-in; whether this call did (of two polls that both finish, one signs in). With `heldUntil`,
 * only while the poll that wrote that turn still holds it.
 */
export async function deleteDevice(k: Knex, handleHash: string, heldUntil?: number): Promise<boolean> {
  const row = k(DEVICES).where('handle_hash', handleHash)
  if (heldUntil !== undefined) row.andWhere('next_poll_at', heldUntil)
  return Number(await row.delete()) === 1
}

/** Deletes up to `limit` device sign-ins past their expiry; how many. */
export function deleteExpiredDevices(k: Knex, now: number, limit: number): Promise<number> {
  return deleteExpired(k, DEVICES, 'handle_hash', now, limit)
}
