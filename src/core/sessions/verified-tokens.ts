/**
 * The access tokens this process verified lately, so that a token presented again skips the signature
 * check: on a route that does little else, verifying (HMAC or Ed25519 through WebCrypto, an async call on
 * the thread pool) costs more than all the rest of the request.
 *
 * Only what a token is gets cached: its signature, algorithm, issuer, audience, environment and lifetime
 * were checked, and none of that changes once signed. What its user may do now (status, session epoch,
 * ended sessions, role, the role's permissions) is not a property of the token: sessions.service.ts checks it
 * on every request, so a revocation stops a cached token exactly as soon as an uncached one.
 *
 * Bounded three ways: an entry lasts until the token expires or TTL_MS after it was verified, whichever is
 * first; the least recently used entry goes once MAX_ENTRIES are held. Keyed by the token's sha256, so no
 * bearer credential outlives the request that brought it.
 */
import { hash } from 'node:crypto'
import type { Clock } from '../clock.js'
import type { AccessTokenClaims } from './sessions.schema.js'

/**
 * Short, and no longer than the keys are trusted without reading them again: the one thing that can undo a
 * verification is its key leaving the key set, which the EdDSA key ring notices for a kid it knows only
 * once a minute (signing-key-ring.ts). A client calling more often than this pays one verification per period.
 */
const TTL_MS = 10_000
/** A few MB of claims at most; an app with more callers than this within TTL_MS verifies some of them twice. */
const MAX_ENTRIES = 10_000

export interface VerifiedTokens {
  /** The claims `token` was verified to carry, or undefined when it was not verified lately (or has expired since). */
  get(token: string): AccessTokenClaims | undefined
  /** Remembers what `token` was just verified to carry. */
  set(token: string, claims: AccessTokenClaims): void
}

/** Builds an empty cache; `maxEntries` and `ttlMs` are for tests. */
export function createVerifiedTokens(options: { clock: Clock; maxEntries?: number; ttlMs?: number }): VerifiedTokens {
  const { clock, maxEntries = MAX_ENTRIES, ttlMs = TTL_MS } = options
  // A Map iterates in insertion order: re-inserting on every hit keeps the least recently used first.
  const entries = new Map<string, { claims: AccessTokenClaims; from: number; until: number }>()

  return {
    get(token) {
      const key = digest(token)
      const entry = entries.get(key)
      if (!entry) return undefined
      entries.delete(key)
      const now = clock.now()
      // A clock set back before the verification counts as a miss: the token may not have been valid then.
      if (now < entry.from || now >= entry.until) return undefined
      entries.set(key, entry)
      return entry.claims
    },

    set(token, claims) {
      const from = clock.now()
      // Past exp only jose's clock tolerance still accepts the token: that is left to a full verification.
      const until = Math.min(claims.exp * 1000, from + ttlMs)
      if (until <= from) return
      const key = digest(token)
      entries.delete(key)
      if (entries.size >= maxEntries) entries.delete(entries.keys().next().value as string)
      entries.set(key, { claims: Object.freeze(claims), from, until })
    },
  }
}

// The one-shot hash: about twice as fast as createHash() for a string this short, which shows on every request.
function digest(token: string): string {
  return hash('sha256', token, 'base64')
}
