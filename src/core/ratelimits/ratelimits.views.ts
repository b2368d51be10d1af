/** Rows to what the limiter enforces and what lists show, and the diff `ratelimit apply` prints. */
import { formatDuration, parseDuration } from '../duration.js'
import type { OverrideRow, RuleRow, StatsRow } from './ratelimits.repo.js'
import { formatMatch, parseMatch, type OverrideView, type RateLimitOverride, type RateLimitRule, type RuleCounts, type RuleView } from './ratelimits.schema.js'

type Source = RuleView['source']

/** A stored rule as the limiter takes it; the one named `default` keeps the default's exemptions (`defaultExempt`: health, /metrics). */
export function toRule(row: RuleRow, defaultExempt: readonly string[]): RateLimitRule {
  return {
    name: row.name,
    match: { method: row.method, path: row.path },
    ...(row.name === 'default' ? { exempt: defaultExempt } : {}),
    key: row.key as RateLimitRule['key'],
    limit: Number(row.limit_count),
    windowMs: Number(row.window_ms),
    burst: Number(row.burst),
    mode: row.mode as RateLimitRule['mode'],
    onStoreError: row.on_store_error as RateLimitRule['onStoreError'],
  }
}

const NO_COUNTS: RuleCounts = { admitted: 0, refused: 0, shadowRefused: 0, storeErrors: 0, since: null }

export function toCounts(row: StatsRow | undefined): RuleCounts {
  if (!row) return NO_COUNTS
  return {
    admitted: Number(row.admitted),
    refused: Number(row.refused),
    shadowRefused: Number(row.shadow_refused),
    storeErrors: Number(row.store_errors),
    since: new Date(Number(row.since)).toISOString(),
  }
}

/** A rule in the words a rules file and a list share: its match and window as written, not as enforced. */
export function toRuleFields(rule: RateLimitRule, enabled: boolean) {
  return {
    name: rule.name,
    match: formatMatch(rule.match),
    key: rule.key,
    limit: rule.limit,
    window: formatDuration(rule.windowMs),
    burst: rule.burst,
    mode: rule.mode,
    onStoreError: rule.onStoreError ?? 'open',
    enabled,
  }
}

/** A rule as lists show it. */
export function toRuleView(rule: RateLimitRule, extra: { source: Source; enabled: boolean; counts: RuleCounts; updatedAt: number | null }): RuleView {
  return {
    ...toRuleFields(rule, extra.enabled),
    source: extra.source,
    counts: extra.counts,
    updatedAt: extra.updatedAt === null ? null : new Date(extra.updatedAt).toISOString(),
  }
}

export function toOverride(row: OverrideRow): RateLimitOverride {
  return {
    rule: row.rule,
    subjectType: row.subject_type as RateLimitOverride['subjectType'],
    subject: row.subject,
    limit: row.limit_count === null ? undefined : Number(row.limit_count),
    windowMs: row.window_ms === null ? undefined : Number(row.window_ms),
    burst: row.burst === null ? undefined : Number(row.burst),
    blocked: Boolean(row.blocked),
    expiresAt: row.expires_at === null ? undefined : Number(row.expires_at),
  }
}

/** How an override's subject is written: the kind as typed (`apikey`), then what the operator gave. */
export function subjectText(type: string, label: string): string {
  return `${type === 'apiKey' ? 'apikey' : type}:${label}`
}

export function toOverrideView(row: OverrideRow): OverrideView {
  return {
    id: Number(row.id),
    rule: row.rule,
    subject: subjectText(row.subject_type, row.label),
    limit: row.limit_count === null ? null : Number(row.limit_count),
    window: row.window_ms === null ? null : formatDuration(Number(row.window_ms)),
    burst: row.burst === null ? null : Number(row.burst),
    blocked: Boolean(row.blocked),
    reason: row.reason,
    expiresAt: row.expires_at === null ? null : new Date(Number(row.expires_at)).toISOString(),
    updatedAt: new Date(Number(row.updated_at)).toISOString(),
  }
}

/** The fields of a stored rule that `apply` compares and writes. */
export type RuleFields = Pick<RuleRow, 'method' | 'path' | 'key' | 'limit_count' | 'window_ms' | 'burst' | 'enabled' | 'mode' | 'on_store_error'>

/** A file rule (parsed) as the columns it sets. */
export function fileRuleFields(rule: {
  match: string
  key: string
  limit: number
  window: string
  burst?: number | undefined
  mode: string
  onStoreError: string
  enabled: boolean
}): RuleFields {
  const match = parseMatch(rule.match) ?? { method: '*', path: '/*' }
  return {
    method: match.method,
    path: match.path,
    key: rule.key,
    limit_count: rule.limit,
    window_ms: parseDuration(rule.window),
    burst: rule.burst ?? rule.limit,
    enabled: rule.enabled,
    mode: rule.mode,
    on_store_error: rule.onStoreError,
  }
}

const FIELD_NAMES: Record<keyof RuleFields, string> = {
  method: 'match',
  path: 'match',
  key: 'key',
  limit_count: 'limit',
  window_ms: 'window',
  burst: 'burst',
  enabled: 'enabled',
  mode: 'mode',
  on_store_error: 'onStoreError',
}

/** The names (as files write them) of the fields that differ; the drivers' number and boolean spellings compare equal. */
export function changedFields(before: RuleFields, after: RuleFields): string[] {
  const changed = new Set<string>()
  for (const field of Object.keys(FIELD_NAMES) as (keyof RuleFields)[]) {
    const a = before[field]
    const b = after[field]
    const same = typeof b === 'boolean' ? Boolean(a) === b : typeof b === 'number' ? Number(a) === b : a === b
    if (!same) changed.add(FIELD_NAMES[field])
  }
  return [...changed]
}
