/**
 * Rate-limit rules and overrides: stored in the database, every change audited and versioned, so each
 * running instance reloads within a second (DESIGN.md "Rate limiting"). The environment's default rule
 * from the config applies unless a stored rule named `default` replaces it; the built-in login rules
 * always apply. The limiter itself lives in src/ratelimit and reaches this service through `snapshot()`.
 */
import { isIP, SocketAddress } from 'node:net'
import type { Knex } from 'knex'
import { findByKeyId } from '../apikeys/apikeys.repo.js'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { parseDuration } from '../duration.js'
import { GantryError, inputProblem } from '../errors.js'
import { parseInput } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import { isMissingTable } from '../sql.js'
import type { UserDirectory } from '../users/users.directory.js'
import { emailSchema } from '../users/users.schema.js'
import { environmentRules, loginRules, type BuiltinRuleRoutes } from './builtin-rules.js'
import * as repo from './ratelimits.repo.js'
import {
  applyInputSchema,
  overrideInputSchema,
  parseMatch,
  parseSubject,
  removeOverrideInputSchema,
  RESERVED_RULE_NAMES,
  ruleNameSchema,
  setRuleInputSchema,
  testInputSchema,
  type ApplyInput,
  type ApplyResult,
  type CountDeltas,
  type OverrideInput,
  type OverrideView,
  type RateLimitList,
  type RateLimitRule,
  type RateLimitSnapshot,
  type RemoveOverrideInput,
  type RuleView,
  type RulesFile,
  type SetRuleInput,
  type TestInput,
  type TestResult,
  type TestStep,
} from './ratelimits.schema.js'
import {
  changedFields,
  fileRuleFields,
  subjectText,
  toCounts,
  toOverride,
  toOverrideView,
  toRule as storedRule,
  toRuleFields,
  toRuleView,
  type RuleFields,
} from './ratelimits.views.js'

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
  const { knex, clock, audit } = deps
  const configDefault = environmentRules(deps.defaults, deps.routes.exempt)
  const login = loginRules(deps.routes.login)
  const toRule = (row: repo.RuleRow): RateLimitRule => storedRule(row, deps.routes.exempt)

  /** Runs a change with its audit row and version bump in one transaction, then tells the instances. */
  const change = async <T>(work: (trx: Knex, at: number) => Promise<T | undefined>): Promise<{ result: T; version: number } | undefined> => {
    const outcome = await knex.transaction(async (trx) => {
      // Before any read: concurrent changes queue here, so none works from a state another is replacing.
      await repo.lockVersion(trx)
      const at = clock.now()
      // Expired overrides already decide nothing; each change sweeps them out of the table.
      await repo.deleteExpiredOverrides(trx, at)
      const result = await work(trx, at)
      if (result === undefined) return undefined
      return { result, version: await repo.bumpVersion(trx, new Date(at)) }
    })
    if (outcome) await deps.notify?.(outcome.version)
    return outcome
  }

  /**
   * Deletes a stored rule. Its overrides and counts go with it — unless the name lives on: without a stored
   * `default` the config's default is in force again, under the same name, overrides and all.
   */
  const dropRule = async (trx: Knex, name: string): Promise<void> => {
    await repo.deleteRule(trx, name)
    if (name === 'default' && configDefault.length > 0) return
    await repo.deleteOverridesOf(trx, name)
    await repo.deleteStats(trx, name)
  }

  /** The chain as stored rules make it: the config's default unless a stored `default` replaces it, first. */
  const chainOf = (rows: readonly repo.RuleRow[]): { rule: RateLimitRule; row?: repo.RuleRow }[] => [
    ...(rows.some((r) => r.name === 'default') ? [] : configDefault.map((rule) => ({ rule }))),
    ...rows.map((row) => ({ rule: toRule(row), row })),
  ]

  const loadRows = async (k: Knex): Promise<repo.RuleRow[]> => {
    try {
      return await repo.selectRules(k)
    } catch (err) {
      // No Gantry tables yet: nothing is stored, the config's default and the login rules still apply.
      if (isMissingTable(err)) return []
      throw err
    }
  }

  const snapshot = async (): Promise<RateLimitSnapshot> => {
    const now = clock.now()
    try {
      const version = await repo.readVersion(knex)
      const [rows, overrides] = await Promise.all([repo.selectRules(knex), repo.selectOverrides(knex, now)])
      const rules = chainOf(rows)
        .filter(({ row }) => !row || Boolean(row.enabled))
        .map(({ rule }) => rule)
      return { version, rules, login, overrides: overrides.map(toOverride) }
    } catch (err) {
      if (!isMissingTable(err)) throw err
      return { version: 0, rules: configDefault, login, overrides: [] }
    }
  }

  /** The rule names an override or a test may name, with what they count by. */
  const knownRules = async (k: Knex): Promise<Map<string, string>> =>
    new Map([...login, ...chainOf(await loadRows(k)).map(({ rule }) => rule)].map((r) => [r.name, r.key]))

  /** An override's subject as the limiter sees it: an address as given, a user's id, an API key's id. */
  const resolveSubject = async (k: Knex, subject: { type: 'ip' | 'user' | 'apiKey'; value: string }): Promise<{ subject: string; label: string }> => {
    if (subject.type === 'ip') {
      const family = isIP(subject.value)
      if (family === 0) throw new GantryError('INVALID_INPUT', `"${subject.value}" is not an IPv4 or IPv6 address.`)
      // IPv6 in its one canonical spelling (2001:DB8:0::1 → 2001:db8::1), as the server sees client addresses: another would never match.
      const address = family === 6 ? new SocketAddress({ address: subject.value, family: 'ipv6' }).address : subject.value
      return { subject: address, label: address }
    }
    if (subject.type === 'user') {
      const email = parseInput(emailSchema, subject.value)
      const user = await deps.directory.byEmail(k, email)
      if (!user) throw new GantryError('USER_NOT_FOUND', `No user with email ${email}.`)
      return { subject: String(user.id), label: email }
    }
    const key = await findByKeyId(k, subject.value)
    if (!key) throw new GantryError('APIKEY_NOT_FOUND', `No API key with id ${subject.value}.`)
    return { subject: key.keyId, label: key.keyId }
  }

  const exportRules = (rows: readonly repo.RuleRow[]): RulesFile => ({
    rules: rows.map((row) => toRuleFields(toRule(row), Boolean(row.enabled))) as RulesFile['rules'],
  })

  return {
    async list(ctx) {
      requirePermission(ctx, 'ratelimits:read')
      const [rows, stats, overrides, version] = await Promise.all([
        loadRows(knex),
        repo.selectStats(knex).catch(() => []),
        repo.selectOverrides(knex, clock.now()).catch(() => []),
        repo.readVersion(knex).catch(() => 0),
      ])
      const countsOf = (name: string) => toCounts(stats.find((s) => s.rule === name))
      const data = [
        ...login.map((rule) => toRuleView(rule, { source: 'builtin', enabled: true, counts: countsOf(rule.name), updatedAt: null })),
        ...chainOf(rows).map(({ rule, row }) =>
          toRuleView(
            rule,
            row
              ? { source: 'database', enabled: Boolean(row.enabled), counts: countsOf(rule.name), updatedAt: Number(row.updated_at) }
              : { source: 'config', enabled: true, counts: countsOf(rule.name), updatedAt: null },
          ),
        ),
      ]
      return { data, overrides: overrides.map(toOverrideView), version, nextCursor: null }
    },

    async set(ctx, name, input) {
      requirePermission(ctx, 'ratelimits:write')
      const ruleName = storedName(name)
      const parsed = parseInput(setRuleInputSchema, input)
      const match = parsed.match === undefined ? undefined : parseMatch(parsed.match)
      const outcome = await change(async (trx, at) => {
        const rows = await repo.selectRules(trx)
        const existing = rows.find((r) => r.name === ruleName)
        // `default` starts from the config's default, so `set default --limit 200` changes only the limit.
        const base = existing ?? (ruleName === 'default' ? defaultRow(configDefault[0]) : undefined)
        if (!base && (parsed.match === undefined || parsed.limit === undefined || parsed.window === undefined)) {
          const missing = (['match', 'limit', 'window'] as const).filter((field) => parsed[field] === undefined)
          throw new GantryError(
            'INVALID_INPUT',
            `There is no rule "${ruleName}" yet: a new rule needs its match, limit and window (missing: ${missing.join(', ')}).`,
            {
              details: inputProblem(missing, 'rule-incomplete', { rule: ruleName }),
            },
          )
        }
        const fields: RuleFields = {
          method: match?.method ?? base?.method ?? '*',
          path: match?.path ?? base?.path ?? '/*',
          key: parsed.key ?? base?.key ?? 'ip',
          limit_count: parsed.limit ?? Number(base?.limit_count),
          window_ms: parsed.window === undefined ? Number(base?.window_ms) : parseDuration(parsed.window),
          burst: parsed.burst ?? (base ? Number(base.burst) : (parsed.limit ?? 1)),
          enabled: parsed.enabled ?? (base ? Boolean(base.enabled) : true),
          mode: parsed.mode ?? base?.mode ?? 'enforce',
          on_store_error: parsed.onStoreError ?? base?.on_store_error ?? 'open',
        }
        if (existing && changedFields(existing, fields).length === 0) return undefined
        const position =
          existing?.position ?? (ruleName === 'default' ? Math.min(0, ...rows.map((r) => r.position)) - 1 : Math.max(-1, ...rows.map((r) => r.position)) + 1)
        const row: repo.RuleRow = { name: ruleName, position, ...fields, created_at: existing?.created_at ?? at, updated_at: at }
        await repo.upsertRule(trx, row)
        const after = exportRules([row]).rules[0]
        await audit.append(trx, ctx, {
          action: 'ratelimits.set',
          targetType: 'ratelimit',
          targetId: ruleName,
          before: existing ? exportRules([existing]).rules[0] : undefined,
          after,
        })
        return row
      })
      const rows = await repo.selectRules(knex)
      const row = outcome?.result ?? rows.find((r) => r.name === ruleName)
      if (!row) throw new GantryError('RATELIMIT_RULE_NOT_FOUND', `No rule named "${ruleName}".`)
      const stats = await repo.selectStats(knex)
      return toRuleView(toRule(row), {
        source: 'database',
        enabled: Boolean(row.enabled),
        counts: toCounts(stats.find((s) => s.rule === ruleName)),
        updatedAt: Number(row.updated_at),
      })
    },

    async remove(ctx, name) {
      requirePermission(ctx, 'ratelimits:write')
      const ruleName = storedName(name)
      const outcome = await change(async (trx) => {
        const existing = (await repo.selectRules(trx)).find((r) => r.name === ruleName)
        if (!existing) throw ruleNotFound(ruleName)
        await dropRule(trx, ruleName)
        await audit.append(trx, ctx, { action: 'ratelimits.remove', targetType: 'ratelimit', targetId: ruleName, before: exportRules([existing]).rules[0] })
        return ruleName
      })
      if (!outcome) throw ruleNotFound(ruleName)
      return { removed: outcome.result, version: outcome.version }
    },

    async override(ctx, input) {
      requirePermission(ctx, 'ratelimits:write')
      const parsed = parseInput(overrideInputSchema, input)
      const target = parseSubject(parsed.subject) as { type: 'ip' | 'user' | 'apiKey'; value: string }
      const outcome = await change(async (trx, at) => {
        if (parsed.rule !== '*') {
          const key = (await knownRules(trx)).get(parsed.rule)
          if (key === undefined) throw ruleNotFound(parsed.rule)
          if (key !== target.type)
            throw new GantryError('INVALID_INPUT', `Rule "${parsed.rule}" counts by ${key}: an override for ${target.type} subjects cannot apply to it.`, {
              hint: `Name a rule keyed on ${target.type}, or none (every rule that counts by ${target.type}).`,
              details: inputProblem(['rule'], 'rule-key-mismatch', { subjectType: target.type }),
            })
        }
        const { subject, label } = await resolveSubject(trx, target)
        const existing = await repo.selectOverride(trx, parsed.rule, target.type, subject)
        const row = {
          rule: parsed.rule,
          subject_type: target.type,
          subject,
          label,
          limit_count: parsed.block ? null : (parsed.limit ?? null),
          window_ms: parsed.block || parsed.window === undefined ? null : parseDuration(parsed.window),
          burst: parsed.block ? null : (parsed.burst ?? parsed.limit ?? null),
          blocked: parsed.block,
          reason: parsed.reason,
          expires_at: parsed.expires === undefined ? null : at + parseDuration(parsed.expires),
          created_at: existing?.created_at ?? at,
          updated_at: at,
        }
        await repo.upsertOverride(trx, row)
        const stored = await repo.selectOverride(trx, parsed.rule, target.type, subject)
        if (!stored) throw new GantryError('INTERNAL', 'The override was not stored.')
        const view = toOverrideView(stored)
        await audit.append(trx, ctx, {
          action: 'ratelimits.override',
          targetType: 'ratelimit-override',
          targetId: `${parsed.rule} ${view.subject}`,
          before: existing ? toOverrideView(existing) : undefined,
          after: view,
        })
        return view
      })
      if (!outcome) throw new GantryError('INTERNAL', 'The override was not stored.')
      return outcome.result
    },

    async removeOverride(ctx, input) {
      requirePermission(ctx, 'ratelimits:write')
      const parsed = parseInput(removeOverrideInputSchema, input)
      const target = parseSubject(parsed.subject) as { type: 'ip' | 'user' | 'apiKey'; value: string }
      const outcome = await change(async (trx) => {
        const { subject, label } = await resolveSubject(trx, target)
        const existing = await repo.selectOverride(trx, parsed.rule, target.type, subject)
        if (!existing) {
          throw new GantryError(
            'RATELIMIT_OVERRIDE_NOT_FOUND',
            `No override of ${parsed.rule === '*' ? 'every rule' : `rule "${parsed.rule}"`} for ${subjectText(target.type, label)}.`,
          )
        }
        await repo.deleteOverride(trx, existing.id)
        const view = toOverrideView(existing)
        await audit.append(trx, ctx, {
          action: 'ratelimits.override.remove',
          targetType: 'ratelimit-override',
          targetId: `${parsed.rule} ${view.subject}`,
          before: view,
        })
        return view
      })
      if (!outcome) throw new GantryError('INTERNAL', 'The override was not removed.')
      return { removed: outcome.result, version: outcome.version }
    },

    async export(ctx) {
      requirePermission(ctx, 'ratelimits:read')
      return exportRules(await loadRows(knex))
    },

    async apply(ctx, input) {
      requirePermission(ctx, 'ratelimits:write')
      const parsed = parseInput(applyInputSchema, input)
      const names = parsed.rules.map((r) => storedName(r.name))
      const duplicate = names.find((n, i) => names.indexOf(n) !== i)
      if (duplicate) throw new GantryError('INVALID_INPUT', `The file names rule "${duplicate}" twice.`)
      let diff: Omit<ApplyResult, 'applied' | 'version'> = { added: [], changed: [], removed: [], kept: [], unchanged: [] }
      const outcome = await change(async (trx, at) => {
        const rows = await repo.selectRules(trx)
        const byName = new Map(rows.map((r) => [r.name, r]))
        const wanted = parsed.rules.map((rule, position) => ({ name: rule.name, position, fields: fileRuleFields(rule) }))
        // The file's order among the rules already stored: one that moves has changed too ('order').
        const storedOrder = rows.map((r) => r.name).filter((n) => names.includes(n))
        const fileOrder = wanted.map((w) => w.name).filter((n) => byName.has(n))
        const moved = new Set(fileOrder.filter((n, i) => storedOrder[i] !== n))
        const fieldsOf = (w: (typeof wanted)[number], before: repo.RuleRow) => [...changedFields(before, w.fields), ...(moved.has(w.name) ? ['order'] : [])]
        diff = {
          added: wanted.filter((w) => !byName.has(w.name)).map((w) => w.name),
          changed: wanted.flatMap((w) => {
            const before = byName.get(w.name)
            if (!before) return []
            const fields = fieldsOf(w, before)
            return fields.length > 0 ? [{ name: w.name, fields }] : []
          }),
          removed: parsed.prune ? rows.filter((r) => !names.includes(r.name)).map((r) => r.name) : [],
          kept: parsed.prune ? [] : rows.filter((r) => !names.includes(r.name)).map((r) => r.name),
          unchanged: wanted.filter((w) => byName.has(w.name) && fieldsOf(w, byName.get(w.name) as repo.RuleRow).length === 0).map((w) => w.name),
        }
        if (parsed.dryRun || diff.added.length + diff.changed.length + diff.removed.length === 0) return undefined
        for (const w of wanted)
          await repo.upsertRule(trx, {
            name: w.name,
            position: w.position,
            ...w.fields,
            created_at: byName.get(w.name)?.created_at ?? at,
            updated_at: diff.unchanged.includes(w.name) ? (byName.get(w.name)?.updated_at ?? at) : at,
          })
        // Rules the file leaves out keep their order, after the file's.
        for (const [i, name] of diff.kept.entries())
          await trx(repo.RULES_TABLE)
            .where({ name })
            .update({ position: wanted.length + i })
        for (const name of diff.removed) await dropRule(trx, name)
        await audit.append(trx, ctx, {
          action: 'ratelimits.apply',
          targetType: 'ratelimit',
          targetId: '*',
          before: exportRules(rows),
          after: { ...exportRules(await repo.selectRules(trx)), ...diff },
        })
        return true
      })
      return { ...diff, applied: outcome !== undefined, version: outcome?.version ?? (await repo.readVersion(knex).catch(() => 0)) }
    },

    async test(ctx, input) {
      requirePermission(ctx, 'ratelimits:read')
      const parsed = parseInput(testInputSchema, input)
      if (!deps.probe) throw new GantryError('NOT_READY', 'This front door has no rate-limit store to ask.')
      let user: string | undefined
      let account: string | undefined
      if (parsed.user !== undefined) {
        const resolved = await resolveSubject(knex, { type: 'user', value: parsed.user })
        user = resolved.subject
        // The login-account rule counts by the login's email (as the login route does), not by the user's id.
        account = resolved.label
      }
      const state = await snapshot()
      const sources = new Map<string, RuleView['source']>([
        ...state.login.map((r) => [r.name, 'builtin'] as const),
        ...state.rules.map((r) => [r.name, configDefault.includes(r) ? 'config' : 'database'] as const),
      ])
      const result = await deps.probe.explain(state, {
        method: parsed.method.toUpperCase(),
        path: parsed.path,
        ip: parsed.ip,
        user,
        account,
        apiKey: parsed.apiKey,
      })
      return { ...result, shared: deps.probe.shared, steps: result.steps.map((s) => ({ ...s, source: sources.get(s.rule) ?? 'database' })) }
    },

    snapshot,

    version: () => repo.readVersion(knex).catch((err: unknown) => (isMissingTable(err) ? 0 : Promise.reject(err))),

    async addCounts(deltas) {
      if (Object.keys(deltas).length === 0) return
      // Counts of a rule removed since they were made would bring its row back: only rules that exist count.
      const known = await knownRules(knex)
      const kept = Object.fromEntries(Object.entries(deltas).filter(([rule]) => known.has(rule)))
      if (Object.keys(kept).length > 0) await repo.addStats(knex, kept, clock.now())
    },
  }
}

/** A name a stored rule may have: the login rules are Gantry's own. */
function storedName(name: string): string {
  const parsed = parseInput(ruleNameSchema, name)
  if ((RESERVED_RULE_NAMES as readonly string[]).includes(parsed))
    throw new GantryError('INVALID_INPUT', `"${parsed}" is a built-in login rule; it cannot be changed or removed (an override can change it for one address).`)
  return parsed
}

const ruleNotFound = (name: string): GantryError => new GantryError('RATELIMIT_RULE_NOT_FOUND', `No stored rule named "${name}".`)

/** The config's default as the row `set default` starts from. */
function defaultRow(rule: RateLimitRule | undefined): repo.RuleRow | undefined {
  if (!rule) return undefined
  return {
    name: 'default',
    position: 0,
    method: rule.match.method,
    path: rule.match.path,
    key: rule.key,
    limit_count: rule.limit,
    window_ms: rule.windowMs,
    burst: rule.burst,
    enabled: true,
    mode: rule.mode,
    on_store_error: rule.onStoreError ?? 'open',
    created_at: 0,
    updated_at: 0,
  }
}
