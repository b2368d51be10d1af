/**
 * Rate-limit rules and overrides: stored in the database, every change audited and versioned, so each
 * running instance reloads within a second (DESIGN.md "Rate limiting"). The environment's default rule
 * from the config applies unless a stored rule named `default` replaces it; the built-in login rules
 * always apply. The limiter itself lives in src/ratelimit and reaches this service through `snapshot()`.
 *
 * The operations live by what they act on: ratelimits.rules.ts (one rule), ratelimits.overrides.ts,
 * ratelimits.files.ts (export and apply), ratelimits.probe.ts (test); ratelimits.rulebook.ts holds what they share.
 */
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import type { ApiKeyDirectory } from '../apikeys/apikeys.directory.js'
import type { OAuthClientDirectory } from '../oauth/oauth-clients.directory.js'
import type { UserDirectory } from '../users/users.directory.js'
import type { BuiltinRuleRoutes } from './builtin-rules.js'
import { fileOperations } from './ratelimits.files.js'
import { overrideOperations } from './ratelimits.overrides.js'
import { testOperation, type RateLimitProbe } from './ratelimits.probe.js'
import * as repo from './ratelimits.repo.js'
import { createRuleBook } from './ratelimits.rulebook.js'
import { ruleOperations } from './ratelimits.rules.js'
import type {
  ApplyInput,
  ApplyResult,
  CountDeltas,
  OverrideInput,
  OverrideView,
  RateLimitList,
  RateLimitSnapshot,
  RemoveOverrideInput,
  RuleView,
  RulesFile,
  SetRuleInput,
  TestInput,
  TestResult,
} from './ratelimits.schema.js'
import { isMissingTable } from '../sql.js'

export interface RateLimitsService {
  /** The login rules, then the chain, with their counts, and the overrides; needs ratelimits:read. */
  list(ctx: ActorContext): Promise<RateLimitList>
  /** Creates or changes one stored rule (only the given fields); needs ratelimits:write. */
  set(ctx: ActorContext, name: string, input: SetRuleInput): Promise<RuleView>
  remove(ctx: ActorContext, name: string): Promise<{ removed: string; version: number }>
  /** Gives one subject its own figures, or blocks it; needs ratelimits:write. */
  override(ctx: ActorContext, input: OverrideInput): Promise<OverrideView>
  removeOverride(ctx: ActorContext, input: RemoveOverrideInput): Promise<{ removed: OverrideView; version: number }>
  /** The stored rules as `apply` reads them back; needs ratelimits:read. */
  export(ctx: ActorContext): Promise<RulesFile>
  /** Makes the stored rules those of a file, in one transaction, and says what changed; needs ratelimits:write. */
  apply(ctx: ActorContext, input: ApplyInput): Promise<ApplyResult>
  /** What would happen to a request, rule by rule, spending nothing; needs ratelimits:read. */
  test(ctx: ActorContext, input: TestInput): Promise<TestResult>
  /** What the limiter enforces now (no permission: the server's own read). */
  snapshot(): Promise<RateLimitSnapshot>
  /** The version instances poll (0 before any change or without Gantry's tables). */
  version(): Promise<number>
  /** Adds an instance's decision counts to the shared ones (no permission: the server's own write). */
  addCounts(deltas: CountDeltas): Promise<void>
}

export interface RateLimitsServiceDeps {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  /** Overrides and tests name users by email: looked up through the users feature. */
  readonly directory: UserDirectory
  readonly apiKeys: ApiKeyDirectory
  /** An override may name an OAuth client (the token rules count per client). */
  readonly oauthClients: OAuthClientDirectory
  /** The front door's routes the built-in rules name: the login route, the paths the default exempts. */
  readonly routes: BuiltinRuleRoutes
  /** The environment's default rule from the config; null: unlimited. */
  readonly defaults: { limit: number; window: string; burst: number } | null
  /** Told after every committed change (Redis pub/sub, so instances reload at once); it must not throw: instances poll anyway. */
  readonly notify?: ((version: number) => Promise<void>) | undefined
  readonly probe?: RateLimitProbe | undefined
}

/** Builds the rate-limits service. */
export function createRateLimitsService(deps: RateLimitsServiceDeps): RateLimitsService {
  const { knex, clock } = deps
  const book = createRuleBook(deps)
  return {
    ...ruleOperations(book),
    ...overrideOperations(book),
    ...fileOperations(book),
    ...testOperation(book, deps.probe),

    snapshot: book.snapshot,

    version: () => repo.readVersion(knex).catch((err: unknown) => (isMissingTable(err) ? 0 : Promise.reject(err))),

    async addCounts(deltas) {
      if (Object.keys(deltas).length === 0) return
      // Counts of a rule removed since they were made would bring its row back: only rules that exist count.
      const known = await book.knownRules(knex)
      const kept = Object.fromEntries(Object.entries(deltas).filter(([rule]) => known.has(rule)))
      if (Object.keys(kept).length > 0) await repo.addStats(knex, kept, clock.now())
    },
  }
}
