/**
 * The worker's clean-up of refresh tokens (auth.expiredTokenRetention): rows of sessions over for longer
 * than the retention go, a batch at a time (refresh-tokens.repo.ts says which rows are safe to delete).
 */
import type { Knex } from 'knex'
import { parseDuration } from '../duration.js'
import { MAX_TOLERANCE_SECONDS } from './access-tokens.js'
import { pruneExpiredTokens } from './refresh-tokens.repo.js'
import { DEFAULT_MAX_TOKEN_TTL, type AuthSettings } from './sessions.schema.js'

/** Default auth.expiredTokenRetention. */
export const DEFAULT_EXPIRED_TOKEN_RETENTION = '7d'

/** A housekeeping task deleting up to `batch` refresh tokens that `now` makes old; it says how many went. */
export function expiredTokenPruner(knex: Knex, auth: AuthSettings | undefined, batch: number): (now: number) => Promise<number> {
  const retentionMs = parseDuration(auth?.expiredTokenRetention ?? DEFAULT_EXPIRED_TOKEN_RETENTION)
  // A revoked family's rows are what refuses its access tokens: never gone while one of them may live,
  // however short the retention is set.
  const floorMs = parseDuration(auth?.maxTokenTtl ?? DEFAULT_MAX_TOKEN_TTL) + MAX_TOLERANCE_SECONDS * 1000
  const keepMs = Math.max(retentionMs, floorMs)
  return (now) => pruneExpiredTokens(knex, now - keepMs, batch)
}
