/**
 * The rules Gantry brings — the environment default (per client address, from gantry.config.json; a stored
 * rule named `default` replaces it) and the login rules, which are always on — and the check every rule
 * passes before the limiter takes it. The paths they name are the HTTP server's, not the core's: the
 * composition root hands them in (src/server/builtin-routes.ts), so the core speaks to no door in particular.
 */
import { parseDuration } from '../duration.js'
import { GantryError } from '../errors.js'
import { anyRuleKeySchema, onStoreErrorSchema, ruleModeSchema, type RateLimitRule } from './ratelimits.schema.js'

/** The routes of the front door that the built-in rules name. */
export interface BuiltinRuleRoutes {
  /** The login route the login rules guard. */
  readonly login: RateLimitRule['match']
  /** The OAuth routes that check a client's secret (token, revocation), which the token rules guard; a front door without them has none. */
  readonly token?: RateLimitRule['match'] | undefined
  /** The single sign-on routes (start, callback, the CLI's exchange), which the sign-on rule guards where providers are configured. */
  readonly sso?: RateLimitRule['match'] | undefined
  /** Paths no default rule counts: probes and scrapers must keep working while clients are throttled. */
  readonly exempt: readonly string[]
}

/** The environment's default rule, or none when the environment is unlimited (`null`). */
export function environmentRules(defaults: { limit: number; window: string; burst: number } | null, exempt: readonly string[]): RateLimitRule[] {
  if (defaults === null) return []
  const rule: RateLimitRule = {
    name: 'default',
    match: { method: '*', path: '/*' },
    exempt,
    key: 'ip',
    limit: defaults.limit,
    windowMs: parseDuration(defaults.window),
    burst: defaults.burst,
    mode: 'enforce',
    onStoreError: 'open',
  }
  validateRule(rule)
  return [rule]
}

/**
 * Built-in login throttles, on even where the default is unlimited. They run before the argon2 hash, so
 * they bound the CPU an attacker can burn as well as the guessing rate. The account lockout (5 failures
 * by default) is the stricter, separate guard against guessing; these only have to keep floods off it,
 * so a user who mistypes a few times never meets them before the lockout.
 * - per address first: one client hammering stops there, before it spends a victim account's budget.
 *   100 per 15 min (one per 9 s) with 20 at once lets an office behind one NAT log in together at 9:00.
 * - per account (the login's email): tighter, as one person logs in rarely. 10 per 15 min (one per 90 s),
 *   5 at once: as many as the lockout allows, so an honest user sees the lockout's answer, not a 429.
 * While the store is away both hold in this instance's memory (`local`): a Redis outage must not open the
 * door to a guessing flood, nor shut every user out.
 */
export function loginRules(match: RateLimitRule['match']): readonly RateLimitRule[] {
  return Object.freeze([
    { name: 'login-ip', match, key: 'ip', limit: 100, windowMs: 15 * 60_000, burst: 20, mode: 'enforce', onStoreError: 'local' },
    { name: 'login-account', match, key: 'account', limit: 10, windowMs: 15 * 60_000, burst: 5, mode: 'enforce', onStoreError: 'local' },
  ] satisfies RateLimitRule[])
}

/**
 * Built-in throttles of the OAuth token and revocation endpoints, checked before the client's secret: per
 * address, then per client (its client_id: an override `client:ID` gives a busy fleet of one client more). A client caches its token
 * for its lifetime (15 min by default), so one that asks 60 times in 15 minutes is broken or someone
 * guessing; 600 per address leaves room for a fleet of workers behind one NAT. Like the login rules they
 * hold in memory while the store is away.
 */
export function tokenRules(match: RateLimitRule['match']): readonly RateLimitRule[] {
  return Object.freeze([
    { name: 'oauth-token-ip', match, key: 'ip', limit: 600, windowMs: 15 * 60_000, burst: 60, mode: 'enforce', onStoreError: 'local' },
    { name: 'oauth-token-client', match, key: 'client', limit: 60, windowMs: 15 * 60_000, burst: 20, mode: 'enforce', onStoreError: 'local' },
  ] satisfies RateLimitRule[])
}

/**
 * The built-in throttle of the single sign-on routes, per address: each start writes a pending sign-in and
 * each callback calls the provider, for anyone who asks. A sign-in takes two requests (three from the CLI),
 * so 600 per 15 minutes with 60 at once lets an office behind one NAT sign in together; a loop does not
 * fill the table. In memory while the store is away, like the login rules.
 */
export function ssoRules(match: RateLimitRule['match']): readonly RateLimitRule[] {
  return Object.freeze([
    { name: 'sso-ip', match, key: 'ip', limit: 600, windowMs: 15 * 60_000, burst: 60, mode: 'enforce', onStoreError: 'local' },
  ] satisfies RateLimitRule[])
}

/** Throws INVALID_INPUT unless the rule's figures make sense (GCRA needs a positive rate and burst >= 1). */
export function validateRule(rule: RateLimitRule): void {
  const problem =
    // ':' separates the rule from the key value in store keys; the name is also an sf-string in headers.
    !/^[\x21-\x7e]+$/.test(rule.name) || rule.name.includes(':')
      ? 'a name of printable ASCII without spaces or ":"'
      : !Number.isSafeInteger(rule.limit) || rule.limit < 1
        ? 'a limit that is a positive integer'
        : !Number.isSafeInteger(rule.windowMs) || rule.windowMs < 1
          ? 'a window of at least 1 ms'
          : !Number.isSafeInteger(rule.burst) || rule.burst < 1
            ? 'a burst that is an integer >= 1'
            : !anyRuleKeySchema.safeParse(rule.key).success
              ? `a key of ${anyRuleKeySchema.options.join(', ')}`
              : !ruleModeSchema.safeParse(rule.mode).success
                ? `a mode of ${ruleModeSchema.options.join(' or ')}`
                : rule.onStoreError !== undefined && !onStoreErrorSchema.safeParse(rule.onStoreError).success
                  ? `an onStoreError of ${onStoreErrorSchema.options.join(', ')}`
                  : undefined
  if (problem) throw new GantryError('INVALID_INPUT', `Rate-limit rule "${rule.name}" needs ${problem}.`)
}
