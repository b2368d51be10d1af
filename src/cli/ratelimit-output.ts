/** How the ratelimit commands show rules, diffs and test answers on a terminal (--json prints the result instead). */
import type { ApplyResult, RateLimitList, RuleView, TestResult } from '../core/ratelimits/ratelimits.schema.js'
import { formatCount } from './format.js'
import type { Ui } from './ui.js'

/** `name: 100/1m burst 20 per ip on * /api/* (shadow, fails closed, disabled)`. */
export function describeRule(rule: RuleView): string {
  const notes = [
    rule.mode === 'shadow' ? 'shadow' : '',
    rule.onStoreError === 'open' ? '' : `on store error: ${rule.onStoreError}`,
    rule.enabled ? '' : 'disabled',
  ].filter(Boolean)
  return `${rule.name}: ${rule.limit}/${rule.window} burst ${rule.burst} per ${rule.key} on ${rule.match}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}`
}

/** The rules table, then the overrides. */
export function printRules(ui: Ui, list: RateLimitList): void {
  ui.table(
    list.data.map((r) => ({
      ...r,
      rate: `${r.limit}/${r.window} burst ${r.burst}`,
      mode: r.enabled ? r.mode : `${r.mode} (disabled)`,
      admitted: formatCount(r.counts.admitted),
      refused: formatCount(r.counts.refused),
      shadow: formatCount(r.counts.shadowRefused),
      errors: formatCount(r.counts.storeErrors),
    })),
    [
      ['name', 'NAME'],
      ['match', 'MATCH'],
      ['key', 'KEY'],
      ['rate', 'RATE'],
      ['mode', 'MODE'],
      ['onStoreError', 'STORE DOWN'],
      ['source', 'SOURCE'],
      ['admitted', 'ADMITTED'],
      ['refused', 'REFUSED'],
      ['shadow', 'SHADOW'],
      ['errors', 'ERRORS'],
    ],
    { empty: 'No rate-limit rules: add one with `gantry ratelimit set`.' },
  )
  if (list.overrides.length === 0) return
  ui.out()
  ui.table(
    list.overrides.map((o) => ({ ...o, what: o.blocked ? 'blocked' : `${o.limit}/${o.window} burst ${o.burst}`, expires: o.expiresAt ?? 'never' })),
    [
      ['subject', 'SUBJECT'],
      ['rule', 'RULE'],
      ['what', 'LIMIT'],
      ['expires', 'EXPIRES'],
      ['reason', 'REASON'],
    ],
  )
}

/** What `apply` adds, changes, removes and keeps. */
export function printDiff(ui: Ui, diff: ApplyResult): void {
  const { green, yellow, red, dim } = ui.color
  for (const name of diff.added) ui.out(green(`+ ${name}`))
  for (const { name, changes } of diff.changed) {
    ui.out(yellow(`~ ${name}`))
    for (const { field, from, to } of changes) ui.out(`    ${field}: ${dim(String(from))} → ${String(to)}`)
  }
  for (const name of diff.removed) ui.out(red(`- ${name}`))
  for (const name of diff.kept) ui.out(dim(`  ${name} (kept: not in the file; --prune removes it)`))
  const changes = diff.added.length + diff.changed.length + diff.removed.length
  ui.out(
    changes === 0
      ? "No changes: the stored rules are the file's."
      : `${formatCount(diff.added.length)} to add, ${formatCount(diff.changed.length)} to change, ${formatCount(diff.removed.length)} to remove, ${formatCount(diff.unchanged.length)} unchanged.`,
  )
}

/** Each rule's answer to the request, then the verdict. */
export function printTest(ui: Ui, result: TestResult): void {
  ui.table(
    result.steps.map((s) => ({
      ...s,
      figures:
        s.override === 'blocked' ? 'blocked (override)' : s.limit === null ? '' : `${s.limit}/${s.window} burst ${s.burst}${s.override ? ' (override)' : ''}`,
      answer: !s.matched
        ? (s.reason ?? 'does not apply')
        : s.wouldAdmit
          ? `admits (${s.remaining} more at once)`
          : `refuses (retry after ${s.retryAfter ?? 1} s)`,
      mode: s.mode,
    })),
    [
      ['rule', 'RULE'],
      ['source', 'SOURCE'],
      ['mode', 'MODE'],
      ['figures', 'FIGURES'],
      ['answer', 'ANSWER'],
    ],
  )
  const verdict = result.allowed ? ui.color.green('Admitted') : ui.color.red('Refused')
  ui.out(
    `${verdict}${result.decidedBy ? ` (deciding rule: ${result.decidedBy})` : ''}.${result.shared ? '' : ' No Redis: this is an empty in-process store, not what a running server holds.'}`,
  )
}
