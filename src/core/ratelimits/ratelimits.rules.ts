/** The stored rules one at a time: `ratelimit list`, `set` and `remove`. */
import { parseDuration } from '../duration.js'
import { GantryError, inputProblem } from '../errors.js'
import { parseInput } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import * as repo from './ratelimits.repo.js'
import { ruleNotFound, storedName, type RuleBook } from './ratelimits.rulebook.js'
import type { RateLimitsService } from './ratelimits.service.js'
import { parseMatch, ruleNameSchema, setRuleInputSchema, type RateLimitRule } from './ratelimits.schema.js'
import { changedFields, toCounts, toOverrideView, toRuleView, type RuleFields } from './ratelimits.views.js'

export function ruleOperations(book: RuleBook): Pick<RateLimitsService, 'list' | 'set' | 'remove'> {
  const { knex, clock, audit, configDefault, login, toRule, change, dropRule, chainOf, loadRows, exportRules } = book
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
      const ruleName = parseInput(ruleNameSchema, name)
      const outcome = await change(async (trx) => {
        const existing = (await repo.selectRules(trx)).find((r) => r.name === ruleName)
        // A rule stored under a name reserved since (its built-in rule came in a later release) can still go.
        if (!existing) throw ruleNotFound(storedName(ruleName))
        await dropRule(trx, ruleName)
        await audit.append(trx, ctx, { action: 'ratelimits.remove', targetType: 'ratelimit', targetId: ruleName, before: exportRules([existing]).rules[0] })
        return ruleName
      })
      if (!outcome) throw ruleNotFound(ruleName)
      return { removed: outcome.result, version: outcome.version }
    },
  }
}

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
