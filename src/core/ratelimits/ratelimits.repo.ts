/** The knex queries of rate-limit rules, overrides, their shared counters and the rules' version. */
import type { Knex } from 'knex'
import { versionCounter } from '../settings/settings.repo.js'
import type { CountDeltas } from './ratelimits.schema.js'

export const RULES_TABLE = 'gantry_rate_limit_rules'
export const OVERRIDES_TABLE = 'gantry_rate_limit_overrides'
export const STATS_TABLE = 'gantry_rate_limit_stats'
/** The gantry_settings key of the version every change bumps: what instances poll. */
const VERSION_KEY = 'ratelimits.version'

export interface RuleRow {
  name: string
  position: number
  method: string
  path: string
  key: string
  limit_count: number
  window_ms: number | string
  burst: number
  enabled: boolean | number
  mode: string
  on_store_error: string
  created_at: number | string
  updated_at: number | string
}

export interface OverrideRow {
  id: number
  rule: string
  subject_type: string
  subject: string
  label: string
  limit_count: number | null
  window_ms: number | string | null
  burst: number | null
  blocked: boolean | number
  reason: string
  expires_at: number | string | null
  created_at: number | string
  updated_at: number | string
}

export interface StatsRow {
  rule: string
  admitted: number | string
  refused: number | string
  shadow_refused: number | string
  store_errors: number | string
  since: number | string
}

/** Every stored rule, in the order they are checked. */
export async function selectRules(k: Knex): Promise<RuleRow[]> {
  return (await k<RuleRow>(RULES_TABLE)
    .select('*')
    .orderBy([{ column: 'position' }, { column: 'name' }])) as RuleRow[]
}

/** Inserts or replaces a rule by name. */
export async function upsertRule(k: Knex, row: RuleRow): Promise<void> {
  await k(RULES_TABLE).insert(row).onConflict('name').merge()
}

export async function deleteRule(k: Knex, name: string): Promise<boolean> {
  return Number(await k(RULES_TABLE).where({ name }).delete()) > 0
}

/** Overrides, optionally only those not expired at `nowMs`. */
export async function selectOverrides(k: Knex, nowMs?: number): Promise<OverrideRow[]> {
  const query = k<OverrideRow>(OVERRIDES_TABLE).select('*').orderBy('id')
  if (nowMs !== undefined) void query.where((q) => q.whereNull('expires_at').orWhere('expires_at', '>', nowMs))
  return (await query) as OverrideRow[]
}

export async function selectOverride(k: Knex, rule: string, subjectType: string, subject: string): Promise<OverrideRow | undefined> {
  return (await k<OverrideRow>(OVERRIDES_TABLE).select('*').where({ rule, subject_type: subjectType, subject }).first()) as OverrideRow | undefined
}

/** Inserts or replaces the override of (rule, subject). */
export async function upsertOverride(k: Knex, row: Omit<OverrideRow, 'id'>): Promise<void> {
  await k(OVERRIDES_TABLE)
    .insert(row)
    .onConflict(['rule', 'subject_type', 'subject'])
    .merge(['label', 'limit_count', 'window_ms', 'burst', 'blocked', 'reason', 'expires_at', 'updated_at'])
}

export async function deleteOverride(k: Knex, id: number): Promise<void> {
  await k(OVERRIDES_TABLE).where({ id }).delete()
}

/** Removes the overrides that expired by `nowMs`. */
export async function deleteExpiredOverrides(k: Knex, nowMs: number): Promise<void> {
  await k(OVERRIDES_TABLE).whereNotNull('expires_at').andWhere('expires_at', '<=', nowMs).delete()
}

/** Removes the overrides of one rule (the rule is gone). */
export async function deleteOverridesOf(k: Knex, rule: string): Promise<void> {
  await k(OVERRIDES_TABLE).where({ rule }).delete()
}

export async function selectStats(k: Knex): Promise<StatsRow[]> {
  return (await k<StatsRow>(STATS_TABLE).select('*')) as StatsRow[]
}

/**
 * Adds one instance's counts since its last flush: one upsert per rule, atomic on every dialect, all in one
 * transaction (a flush that fails is retried whole, so none of it may have been added), rules in name order
 * (two instances' flushes lock the same rows in the same order, so they queue instead of deadlocking).
 */
export async function addStats(k: Knex, deltas: CountDeltas, nowMs: number): Promise<void> {
  const rules = Object.entries(deltas).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
  if (rules.length === 0) return
  await k.transaction(async (trx) => {
    // The stored count qualified by its table: the one spelling MySQL's ON DUPLICATE KEY, PostgreSQL's and SQLite's ON CONFLICT all read as "the existing row".
    const plus = (column: string, n: number) => trx.raw('?? + ?', [`${STATS_TABLE}.${column}`, n])
    for (const [rule, d] of rules) {
      await trx(STATS_TABLE)
        .insert({
          rule,
          admitted: d.admitted,
          refused: d.refused,
          shadow_refused: d.shadowRefused,
          store_errors: d.storeErrors,
          since: nowMs,
          updated_at: nowMs,
        })
        .onConflict('rule')
        .merge({
          admitted: plus('admitted', d.admitted),
          refused: plus('refused', d.refused),
          shadow_refused: plus('shadow_refused', d.shadowRefused),
          store_errors: plus('store_errors', d.storeErrors),
          updated_at: nowMs,
        })
    }
  })
}

export async function deleteStats(k: Knex, rule: string): Promise<void> {
  await k(STATS_TABLE).where({ rule }).delete()
}

/** The rules' version (`lock` first in a change's transaction, `bump` last). */
export const { read: readVersion, lock: lockVersion, bump: bumpVersion } = versionCounter(VERSION_KEY)
