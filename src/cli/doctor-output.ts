/**
 * `gantry doctor` on a terminal: each group under its title, a row per check with its mark (✔ ok, ! warn,
 * ✖ fail, - skipped) and, under a row that is not ok, its fix; then one summary line. Lines go through the
 * Ui, which escapes control characters: messages quote config files, .env names and server answers.
 */
import { GantryError } from '../core/errors.js'
import type { DoctorCheck, DoctorGroup, DoctorReport, DoctorSection, DoctorSummary } from '../doctor/check.js'
import type { Palette } from './terminal-text.js'

const TITLES: Record<DoctorGroup, string> = {
  toolchain: 'Toolchain',
  config: 'Config',
  secrets: 'Secrets files',
  environments: 'Environments',
  credentials: 'Credentials',
  server: 'Server',
}

/** A check's mark, in the colour `env check` gives its status. */
export function mark(status: DoctorCheck['status'], color: Palette): string {
  return { ok: color.green('✔'), warn: color.yellow('!'), fail: color.red('✖'), skipped: color.dim('-') }[status]
}

/** The lines of one group: its title, then each row and, indented under it, the fix. */
export function sectionLines(section: DoctorSection, color: Palette): string[] {
  const lines = [color.bold(TITLES[section.group])]
  for (const c of section.checks) {
    lines.push(`  ${mark(c.status, color)} ${c.status === 'skipped' ? color.dim(c.message) : c.message}`)
    if (c.fix && c.status !== 'ok') lines.push(`    ${color.dim('Fix:')} ${c.fix}`)
  }
  return lines
}

/** "2 warnings, 1 problem", or that nothing needs doing. */
export function summaryLine(summary: DoctorSummary, color: Palette): string {
  const parts = [
    summary.warn > 0 ? color.yellow(plural(summary.warn, 'warning')) : '',
    summary.fail > 0 ? color.red(plural(summary.fail, 'problem')) : '',
  ].filter(Boolean)
  const checked = plural(summary.ok + summary.warn + summary.fail, 'check')
  return parts.length > 0 ? `${parts.join(', ')} (${checked}).` : color.green(`No issues found (${checked}).`)
}

/** The failure a report with a failing check ends in (exit 3, as `env check`); --json carries the report in error.details. */
export function doctorFailed(report: DoctorReport): GantryError {
  const failing = report.checks.filter((c) => c.status === 'fail').map((c) => c.id)
  return new GantryError('NOT_READY', `gantry doctor found ${plural(failing.length, 'problem')}: ${failing.join(', ')}.`, { details: report })
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`
}
