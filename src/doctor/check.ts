/**
 * What `gantry doctor` reports: one row per thing checked, grouped, each ok, warn, fail or skipped with a
 * one-line message and, when it is not ok, the one-line fix (a command to run or an edit to make).
 */
import { z } from 'zod'

export const doctorStatusSchema = z.enum(['ok', 'warn', 'fail', 'skipped'])
export const doctorGroupSchema = z.enum(['toolchain', 'config', 'secrets', 'environments', 'credentials', 'server'])

export const doctorCheckSchema = z.object({
  id: z.string().describe('stable per thing checked: node, config, secrets:.env, environment:staging, server:https://…'),
  group: doctorGroupSchema,
  status: doctorStatusSchema.describe('skipped: not checked, the message says why'),
  message: z.string(),
  fix: z.string().optional().describe('the command to run or the edit to make; present when status is warn or fail'),
})

export const doctorSummarySchema = z.object({
  ok: z.number().int(),
  warn: z.number().int(),
  fail: z.number().int(),
  skipped: z.number().int(),
})

/** `gantry doctor --json`; a run with a failing check carries the same document in error.details. */
export const doctorReportSchema = z.object({ checks: z.array(doctorCheckSchema), summary: doctorSummarySchema })

export type DoctorStatus = z.infer<typeof doctorStatusSchema>
export type DoctorGroup = z.infer<typeof doctorGroupSchema>
export type DoctorCheck = z.infer<typeof doctorCheckSchema>
export type DoctorSummary = z.infer<typeof doctorSummarySchema>
export type DoctorReport = z.infer<typeof doctorReportSchema>

/** One group's rows, as the doctor yields them (the CLI prints each group as soon as it is done). */
export interface DoctorSection {
  readonly group: DoctorGroup
  readonly checks: readonly DoctorCheck[]
}

/** A row; `fix` is dropped when empty so the JSON has no `"fix": undefined` noise. */
export function check(group: DoctorGroup, id: string, status: DoctorStatus, message: string, fix?: string): DoctorCheck {
  return fix ? { id, group, status, message, fix } : { id, group, status, message }
}

/** The report of the rows: counts per status. */
export function doctorReport(checks: readonly DoctorCheck[]): DoctorReport {
  const summary: DoctorSummary = { ok: 0, warn: 0, fail: 0, skipped: 0 }
  for (const c of checks) summary[c.status]++
  return { checks: [...checks], summary }
}

const RANK: Record<DoctorStatus, number> = { skipped: 0, ok: 1, warn: 2, fail: 3 }

/** The worst of some statuses (skipped counts as nothing; none at all is ok). */
export function worstStatus(statuses: readonly DoctorStatus[]): DoctorStatus {
  return statuses.reduce<DoctorStatus>((worst, s) => (RANK[s] > RANK[worst] ? s : worst), 'ok')
}

/** The first line of what was thrown, for a message that must stay one line. */
export function firstLine(err: unknown): string {
  return String((err as Error)?.message ?? err).split('\n')[0] ?? ''
}
