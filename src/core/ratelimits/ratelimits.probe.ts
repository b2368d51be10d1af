/**
 * `ratelimit test`: what would happen to a request, rule by rule, spending nothing. The limiter's side
 * (src/ratelimit) answers through the probe the door hands in; this side says where each rule comes from.
 */
import { GantryError } from '../errors.js'
import { parseInput } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import type { RuleBook } from './ratelimits.rulebook.js'
import { testInputSchema, type RateLimitSnapshot, type RuleView, type TestResult, type TestStep } from './ratelimits.schema.js'
import type { RateLimitsService } from './ratelimits.service.js'

/** What `ratelimit test` asks of the limiter (src/ratelimit implements it over the environment's store). */
export interface RateLimitProbe {
  /** Whether the store is shared by every instance (Redis), so its state says what the servers would do. */
  readonly shared: boolean
  /** `user` is the user's id (what `user` rules count by), `account` the login's email (what the login-account rule counts by). */
  explain(
    snapshot: RateLimitSnapshot,
    request: { method: string; path: string; ip: string; user?: string | undefined; account?: string | undefined; apiKey?: string | undefined },
  ): Promise<Omit<TestResult, 'shared' | 'steps'> & { steps: Omit<TestStep, 'source'>[] }>
}

/** The test operation; without a probe (a door with no store to ask) it refuses with NOT_READY. */
export function testOperation(book: RuleBook, probe: RateLimitProbe | undefined): Pick<RateLimitsService, 'test'> {
  return {
    async test(ctx, input) {
      requirePermission(ctx, 'ratelimits:read')
      const parsed = parseInput(testInputSchema, input)
      if (!probe) throw new GantryError('NOT_READY', 'This front door has no rate-limit store to ask.')
      let user: string | undefined
      let account: string | undefined
      if (parsed.user !== undefined) {
        const resolved = await book.resolveSubject(book.knex, { type: 'user', value: parsed.user })
        user = resolved.subject
        // The login-account rule counts by the login's email (as the login route does), not by the user's id.
        account = resolved.label
      }
      const state = await book.snapshot()
      const sources = new Map<string, RuleView['source']>([
        ...state.login.map((r) => [r.name, 'builtin'] as const),
        ...state.rules.map((r) => [r.name, book.configDefault.includes(r) ? 'config' : 'database'] as const),
      ])
      const result = await probe.explain(state, {
        method: parsed.method.toUpperCase(),
        path: parsed.path,
        ip: parsed.ip,
        user,
        account,
        apiKey: parsed.apiKey,
      })
      return { ...result, shared: probe.shared, steps: result.steps.map((s) => ({ ...s, source: sources.get(s.rule) ?? 'database' })) }
    },
  }
}
