/**
 * `gantry health`: one probe of a server's readiness, the wait of a deploy gate (`--wait`), and the table
 * of checks. The document is parsed with the schema the server writes it by (src/core/health, one schema per
 * payload), leniently like every answer of the client.
 */
import { z } from 'zod'
import { backoffMs, type Backoff } from '../core/backoff.js'
import { GantryError, ExitCode, isGantryError } from '../core/errors.js'
import { healthSchema, type Health } from '../core/health/health.schema.js'
import { authApi } from '../client/auth-api.js'
import type { ApiClient } from '../client/types.js'
import type { Ui } from './ui.js'

/** `gantry health --json`: the server's health document, whether it means ready, and where it came from. */
export const healthResultSchema = healthSchema.extend({
  ready: z.boolean().describe('pass or warn, answered 200'),
  url: z.string().describe('the server probed'),
})
export type HealthResult = z.infer<typeof healthResultSchema>

/** One probe: 200 and 503 are both answers (503 is the server saying it is not ready). */
export async function probeReadiness(client: ApiClient): Promise<HealthResult> {
  const { status, body } = await authApi(client).ready()
  return { ...body, ready: status === 200 && body.status !== 'fail', url: client.baseUrl }
}

/** Why a document is not ready: its failing checks, `name: output`, or its overall status. */
export function notReadyReason(health: Health): string {
  const failing = Object.entries(health.checks ?? {}).flatMap(([name, entries]) =>
    entries.filter((e) => e.status === 'fail').map((e) => `${name} ${e.output ? `(${e.output.replace(/\.$/, '')})` : 'fails'}`),
  )
  return failing.length > 0 ? failing.join('; ') : `status ${health.status}`
}

/** Waits between polls: 250 ms doubling to 5 s, jittered (src/core/backoff.ts). */
export const POLL_BACKOFF: Backoff = { baseMs: 250, maxMs: 5_000 }

export interface WaitOptions {
  readonly probe: () => Promise<HealthResult>
  readonly seconds: number
  readonly now?: () => number
  readonly sleep?: (ms: number) => Promise<void>
  readonly random?: () => number
}

/** How a wait ended: the last document (undefined when the last probe got no answer) and, unless ready, why not. */
export interface WaitOutcome {
  readonly result: HealthResult | undefined
  readonly reason: string
}

/**
 * Probes until the server is ready or `seconds` have passed (the last probe runs at the deadline). Not
 * answering counts like answering "not ready" (a deploy gate starts before the server does); an error that
 * waiting cannot fix (a usage error: a bad URL or TLS option) ends the wait at once.
 */
export async function waitUntilReady(options: WaitOptions): Promise<WaitOutcome> {
  const now = options.now ?? Date.now
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)))
  const deadline = now() + options.seconds * 1000
  for (let attempt = 0; ; attempt++) {
    let outcome: WaitOutcome
    try {
      const result = await options.probe()
      if (result.ready) return { result, reason: '' }
      outcome = { result, reason: notReadyReason(result) }
    } catch (err) {
      if (!isGantryError(err) || err.exit === ExitCode.usage) throw err
      outcome = { result: undefined, reason: err.message.replace(/\.$/, '') }
    }
    const left = deadline - now()
    if (left <= 0) return outcome
    await sleep(Math.min(backoffMs(attempt, POLL_BACKOFF, options.random ?? Math.random), left))
  }
}

/** NOT_READY (exit 3) naming why; --json carries the last document (or the URL) in error.details. */
export function notReadyError(url: string, outcome: WaitOutcome, seconds?: number): GantryError {
  const when = seconds === undefined ? 'is not ready' : `is not ready after ${seconds} s`
  return new GantryError('NOT_READY', `${url} ${when}: ${outcome.reason}.`, { details: outcome.result ? { ...outcome.result } : { url, ready: false } })
}

/**
 * One probe, or with `seconds` the wait under a spinner on a terminal (ending ✖ when the server is not
 * ready by the deadline). Not ready is an outcome here, for the caller to show before it fails.
 */
export async function probeOrWait(ui: Ui, client: ApiClient, seconds: number | undefined): Promise<WaitOutcome> {
  if (seconds === undefined) {
    const result = await probeReadiness(client)
    return { result, reason: notReadyReason(result) }
  }
  let outcome: WaitOutcome = { result: undefined, reason: 'no answer' }
  const text = `Probing ${client.baseUrl} until it is ready (at most ${seconds} s)`
  await ui
    .spin(text, async () => {
      outcome = await waitUntilReady({ probe: () => probeReadiness(client), seconds })
      if (!outcome.result?.ready) throw notReadyError(client.baseUrl, outcome, seconds)
    })
    .catch((err: unknown) => {
      if (!isGantryError(err) || err.code !== 'NOT_READY') throw err
    })
  return outcome
}

/** The checks as a table (status coloured), under a line naming the server, its verdict and version. */
export function renderHealth(ui: Ui, result: HealthResult): void {
  const { color } = ui
  const paint = { pass: color.green, warn: color.yellow, fail: color.red }
  const rows = Object.entries(result.checks ?? {}).flatMap(([name, entries]) =>
    entries.map((e) => ({
      name,
      status: paint[e.status](e.status),
      latency: e.observedValue === undefined ? '' : `${e.observedValue}${e.observedUnit ? ` ${e.observedUnit}` : ''}`,
      message: e.output ?? '',
    })),
  )
  const verdict = result.ready ? color.green(`ready (${result.status})`) : color.red(`not ready (${result.status})`)
  ui.out(`${result.url}: ${verdict}, Gantry ${result.version}`)
  ui.table(
    rows,
    [
      ['name', 'CHECK'],
      ['status', 'STATUS'],
      ['latency', 'LATENCY'],
      ['message', 'MESSAGE'],
    ],
    { empty: 'No checks reported.' },
  )
}

/** A warning when the server's major version differs from the CLI's (their commands and output may differ). */
export function versionMismatch(serverVersion: string, cliVersion: string): string | undefined {
  const major = (v: string) => v.replace(/^v/, '').split('.')[0]
  if (major(serverVersion) === major(cliVersion)) return undefined
  return `the server runs Gantry ${serverVersion} and this CLI is ${cliVersion}: their major versions differ, so commands and output may not match. Upgrade the older one.`
}
