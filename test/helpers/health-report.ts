/**
 * The health document (application/health+json) as tests read it: its status, version and one entry per
 * check (the server sends each check as a one-element array), and a probe of a listening server timed from
 * a fresh connection, the way a load balancer's health check meets it.
 */
import { http } from './serve-process.js'

export type HealthStatus = 'pass' | 'warn' | 'fail'

export interface CheckEntry {
  readonly status: HealthStatus
  readonly output?: string
  readonly observedValue?: number
}

export interface HealthReport {
  readonly status: HealthStatus
  readonly version?: string
  /** Check name ('database:responseTime', 'redis:responseTime', …) to its entry; empty for liveness. */
  readonly checks: Readonly<Record<string, CheckEntry>>
}

/** Parses a health document; throws when the body is not one. */
export function parseHealth(text: string): HealthReport {
  const body = JSON.parse(text) as { status: HealthStatus; version?: string; checks?: Record<string, CheckEntry[]> }
  const checks = Object.fromEntries(Object.entries(body.checks ?? {}).map(([name, [check]]) => [name, check!]))
  return { status: body.status, version: body.version, checks }
}

export interface HealthProbe {
  readonly status: number
  readonly contentType: string
  /** undefined when the body was not a health document. */
  readonly report: HealthReport | undefined
  /** Wall time from opening the connection to the last byte of the answer. */
  readonly ms: number
  /** Set when no answer came at all (refused, reset, or the client's own deadline). */
  readonly error?: string
}

/**
 * GET `url` on a connection of its own, timed; a failure to answer is a probe result (status 0), not an
 * exception, so a matrix of probes always completes. `deadlineMs` bounds how long the probe waits.
 */
export async function probeHealth(url: string, deadlineMs = 10_000): Promise<HealthProbe> {
  const started = performance.now()
  const controller = new AbortController()
  const timer = setTimeout(() => controller.abort(), deadlineMs)
  try {
    const answer = await http(url, { signal: controller.signal })
    const ms = performance.now() - started
    let report: HealthReport | undefined
    try {
      report = parseHealth(answer.body)
    } catch {
      report = undefined
    }
    return { status: answer.status, contentType: String(answer.headers['content-type'] ?? ''), report, ms }
  } catch (err) {
    return { status: 0, contentType: '', report: undefined, ms: performance.now() - started, error: (err as Error).message }
  } finally {
    clearTimeout(timer)
  }
}
