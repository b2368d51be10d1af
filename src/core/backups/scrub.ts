/**
 * What must not travel when a backup is restored into another environment than its own: whatever lets the
 * source environment's holders act on the target or the target act on the source's receivers. Refresh
 * tokens end (every session signs in again), API keys are revoked (they name their environment and would be
 * refused anyway: revoked says so in `apikeys list`), signing keys lose their private half (`gantry tokens
 * keys rotate` makes the target's own), webhook endpoints are switched off with their secrets dropped (they
 * were sealed under the source's data key), and deliveries still queued are not sent — so a staging copy
 * never signs events to production's receivers, nor production's copy to staging's.
 */
import type { Knex } from 'knex'

export interface ScrubSummary {
  readonly refreshTokens: number
  readonly apiKeys: number
  readonly signingKeys: number
  readonly webhookEndpoints: number
  readonly queuedDeliveries: number
}

/** Scrubs the restored database in `trx`; `from` names the backup's environment for the endpoints' reason. */
export async function scrubCredentials(trx: Knex, now: number, from: string): Promise<ScrubSummary> {
  const count = (n: unknown): number => Number(n)
  const refreshTokens = count(await trx('gantry_refresh_tokens').delete())
  const apiKeys = count(await trx('gantry_api_keys').whereNull('revoked_at').update({ revoked_at: now }))
  const signingKeys = count(
    await trx('gantry_signing_keys')
      .whereNotNull('private_jwk')
      .update({ private_jwk: null, retired_at: trx.raw('coalesce(retired_at, ?)', [now]) }),
  )
  const reason = `restored from ${from}: rotate its secret, then enable it`.slice(0, 255)
  const webhookEndpoints = count(
    await trx('gantry_webhook_endpoints').update({
      enabled: false,
      disabled_reason: reason,
      secret: '',
      previous_secret: null,
      previous_secret_until: null,
      updated_at: now,
    }),
  )
  const queuedDeliveries = count(
    await trx('gantry_webhook_deliveries')
      .where({ status: 'pending' })
      .update({ status: 'failed', next_attempt_at: null, last_error: `not sent: ${reason}`.slice(0, 1000), updated_at: now }),
  )
  await trx('gantry_jobs').where({ type: 'webhook.deliver' }).whereNull('finished_at').delete()
  return { refreshTokens, apiKeys, signingKeys, webhookEndpoints, queuedDeliveries }
}
