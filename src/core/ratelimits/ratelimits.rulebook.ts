/**
 * What every rate-limit operation shares: the chain in force (the config's default unless a stored
 * `default` replaces it, then the stored rules; the login rules beside it), how a change is written (one
 * transaction with its audit row and a version bump, then announced to the instances), and the lookups
 * several operations need (the rule names known, an override's subject, the stored rules as a file).
 */
import { isIP, SocketAddress } from 'node:net'
import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { Clock } from '../clock.js'
import { GantryError } from '../errors.js'
import { parseInput } from '../pagination.js'
import { isMissingTable } from '../sql.js'
import { emailSchema } from '../users/users.schema.js'
import { environmentRules, loginRules, ssoRules, tokenRules } from './builtin-rules.js'
import * as repo from './ratelimits.repo.js'
import { RESERVED_RULE_NAMES, ruleNameSchema, type RateLimitRule, type RateLimitSnapshot, type RulesFile, type SubjectType } from './ratelimits.schema.js'
import type { RateLimitsServiceDeps } from './ratelimits.service.js'
import { toOverride, toRule as storedRule, toRuleFields } from './ratelimits.views.js'

export interface RuleBook {
  readonly knex: Knex
  readonly clock: Clock
  readonly audit: AuditService
  /** The environment's default rule from the config (none when unlimited). */
  readonly configDefault: readonly RateLimitRule[]
  /** The built-in login rules, always in force. */
  readonly login: readonly RateLimitRule[]
  /** A stored rule as the limiter takes it. */
  toRule(row: repo.RuleRow): RateLimitRule
  /** Runs a change with its audit row and version bump in one transaction, then tells the instances; `undefined` from `work`: nothing changed. */
  change<T>(work: (trx: Knex, at: number) => Promise<T | undefined>): Promise<{ result: T; version: number } | undefined>
  /** Deletes a stored rule, with its overrides and counts unless the name lives on as the config's default. */
  dropRule(trx: Knex, name: string): Promise<void>
  /** The chain as stored rules make it, each rule with its row when it is a stored one. */
  chainOf(rows: readonly repo.RuleRow[]): { rule: RateLimitRule; row?: repo.RuleRow }[]
  /** The stored rules; none without Gantry's tables. */
  loadRows(k: Knex): Promise<repo.RuleRow[]>
  /** What the limiter enforces now. */
  snapshot(): Promise<RateLimitSnapshot>
  /** The rule names an override or a test may name, with what they count by. */
  knownRules(k: Knex): Promise<Map<string, string>>
  /** An override's subject as the limiter sees it: an address as given, a user's id, an API key's id. */
  resolveSubject(k: Knex, subject: { type: SubjectType; value: string }): Promise<{ subject: string; label: string }>
  /** Stored rules as a rules file writes them. */
  exportRules(rows: readonly repo.RuleRow[]): RulesFile
}

export function createRuleBook(
  deps: Pick<RateLimitsServiceDeps, 'knex' | 'clock' | 'audit' | 'directory' | 'apiKeys' | 'oauthClients' | 'routes' | 'defaults' | 'notify'>,
): RuleBook {
  const { knex, clock } = deps
  const configDefault = environmentRules(deps.defaults, deps.routes.exempt)
  const { routes } = deps
  const login = [...loginRules(routes.login), ...(routes.token ? tokenRules(routes.token) : []), ...(routes.sso ? ssoRules(routes.sso) : [])]
  const toRule = (row: repo.RuleRow): RateLimitRule => storedRule(row, deps.routes.exempt)

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
   * `default` the config's default is in force again, under the same name, overrides and all; and a rule
   * stored under a built-in rule's name (before that name was reserved) leaves the built-in rule's own.
   */
  const dropRule = async (trx: Knex, name: string): Promise<void> => {
    await repo.deleteRule(trx, name)
    if ((name === 'default' && configDefault.length > 0) || isReservedName(name)) return
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

  const knownRules = async (k: Knex): Promise<Map<string, string>> =>
    new Map([...login, ...chainOf(await loadRows(k)).map(({ rule }) => rule)].map((r) => [r.name, r.key]))

  const resolveSubject = async (k: Knex, subject: { type: SubjectType; value: string }): Promise<{ subject: string; label: string }> => {
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
    if (subject.type === 'client') {
      const client = await deps.oauthClients.byClientId(k, subject.value)
      if (!client) throw new GantryError('OAUTH_CLIENT_NOT_FOUND', `No OAuth client with id ${subject.value}.`)
      return { subject: client.clientId, label: client.clientId }
    }
    const key = await deps.apiKeys.byKeyId(k, subject.value)
    if (!key) throw new GantryError('APIKEY_NOT_FOUND', `No API key with id ${subject.value}.`)
    return { subject: key.keyId, label: key.keyId }
  }

  const exportRules = (rows: readonly repo.RuleRow[]): RulesFile => ({
    rules: rows.map((row) => toRuleFields(toRule(row), Boolean(row.enabled))) as RulesFile['rules'],
  })

  return {
    knex,
    clock,
    audit: deps.audit,
    configDefault,
    login,
    toRule,
    change,
    dropRule,
    chainOf,
    loadRows,
    snapshot,
    knownRules,
    resolveSubject,
    exportRules,
  }
}

/** Whether `name` is a built-in rule's. */
function isReservedName(name: string): boolean {
  return (RESERVED_RULE_NAMES as readonly string[]).includes(name)
}

/** A name a stored rule may have: the built-in rules' names are Gantry's own. */
export function storedName(name: string): string {
  const parsed = parseInput(ruleNameSchema, name)
  if (isReservedName(parsed))
    throw new GantryError(
      'INVALID_INPUT',
      `"${parsed}" is a built-in rule of the sign-in routes; it cannot be changed or removed (an override can change it for one subject).`,
    )
  return parsed
}

export const ruleNotFound = (name: string): GantryError => new GantryError('RATELIMIT_RULE_NOT_FOUND', `No stored rule named "${name}".`)
