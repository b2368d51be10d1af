/**
 * The RateLimit-Policy and RateLimit response fields of the IETF httpapi draft, as structured-field lists
 * with one item per enforced rule that applied. The draft is not an RFC yet and its syntax has changed
 * between revisions (-07 used `limit=…, remaining=…`), so the revision is pinned here.
 */
import type { GcraParams, Tat } from './types.js'
import { remaining, retryAfterSeconds, secondsUntilIdle } from './gcra.js'

/**
 * draft-ietf-httpapi-ratelimit-headers-11 (23 May 2026), "RateLimit header fields for HTTP", §3 and §4:
 * `RateLimit-Policy: "name";q=quota;w=window-seconds` and `RateLimit: "name";r=available;t=effective-window`.
 * It defines no burst parameter (q, qu, w, pk only; others must be vendor-prefixed), so none is sent; nor
 * pk, whose value here would be a client's address or email (§6.1: no sensitive partition keys).
 */
export const RATELIMIT_HEADERS_DRAFT = 'draft-ietf-httpapi-ratelimit-headers-11'

/** One enforced rule's state after its step, as the fields report it. */
export interface PolicyState {
  readonly name: string
  readonly params: GcraParams
  readonly tat: Tat
  readonly nowUs: number
  /** sfString(name), when made in advance (a compiled rule's): not made again for every answer. */
  readonly label?: string | undefined
  /** policyItem of this name and params, when made in advance (a rule's own figures). */
  readonly policy?: string | undefined
}

/** An sf-string: printable ASCII only, `"` and `\` escaped (RFC 9651 §3.3.3). */
export function sfString(value: string): string {
  return `"${value.replace(/[^\x20-\x7e]/g, '?').replace(/["\\]/g, '\\$&')}"`
}

/** `"name";q=limit;w=seconds`: the sustained quota. w is whole seconds (the draft has no sub-second), rounded up. */
export function policyItem(state: Pick<PolicyState, 'name' | 'params' | 'label' | 'policy'>): string {
  return state.policy ?? `${state.label ?? sfString(state.name)};q=${state.params.limit};w=${Math.max(1, Math.ceil(state.params.windowMs / 1000))}`
}

/**
 * `"name";r=remaining;t=seconds`. r: requests admitted at once right now (0..burst). t: seconds until the key
 * is idle again, when its whole burst is back. With r=0, t is the wait for the next admission instead:
 * the draft's t is the time within which no more than r can be used, and (§6) a Retry-After sent with it
 * should not point earlier than t, so on a refusal t equals Retry-After.
 */
export function serviceLimitItem(state: PolicyState): string {
  const r = remaining(state.tat, state.nowUs, state.params)
  const t = r === 0 ? retryAfterSeconds(state.tat, state.nowUs, state.params) : secondsUntilIdle(state.tat, state.nowUs)
  return `${state.label ?? sfString(state.name)};r=${r};t=${t}`
}

/**
 * The fields for the enforced rules that applied, in rule order. Every policy is listed rather than only
 * the most restrictive: both fields are lists keyed by policy name (draft §3, §4), so a client can pace
 * itself against each; omitting the others (appendix B.1.2) is a MAY that saves bytes, not a rule.
 * Shadow rules are left out: they refuse nothing, and advertising them would make clients slow down for them.
 */
export function rateLimitHeaders(states: readonly PolicyState[], retryAfter?: number): Record<string, string> {
  if (states.length === 0) return {}
  const [only] = states
  const headers: Record<string, string> =
    states.length === 1 && only
      ? { 'RateLimit-Policy': policyItem(only), RateLimit: serviceLimitItem(only) }
      : { 'RateLimit-Policy': states.map(policyItem).join(', '), RateLimit: states.map(serviceLimitItem).join(', ') }
  if (retryAfter !== undefined) headers['Retry-After'] = String(retryAfter)
  return headers
}
