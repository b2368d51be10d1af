/**
 * Server reachability: GANTRY_URL and the servers logged in to, each probed once on its readiness route
 * (what `gantry health` calls). Not answering is a warning, not a failure: plenty of workspaces run no
 * server, and a login may be to one that is down for the night.
 */
import { notReadyReason, type HealthResult } from '../cli/health-output.js'
import { normaliseServerUrl } from '../client/server-url.js'
import { isGantryError } from '../core/errors.js'
import { check, firstLine, type DoctorCheck } from './check.js'

/** Where a URL to probe came from: the fix for one that does not answer differs. */
export type UrlSource = 'GANTRY_URL' | 'login'

/** One probe of a server's readiness (buildClient + probeReadiness in the CLI). */
export type ReadinessProbe = (url: string) => Promise<HealthResult>

/** The URLs to probe, GANTRY_URL first, each once; an unusable GANTRY_URL is a row of its own. */
export function serverTargets(env: NodeJS.ProcessEnv, logins: readonly string[]): { targets: Map<string, UrlSource>; problems: DoctorCheck[] } {
  const targets = new Map<string, UrlSource>()
  const problems: DoctorCheck[] = []
  const fromEnv = env.GANTRY_URL?.trim()
  if (fromEnv) {
    try {
      targets.set(normaliseServerUrl(fromEnv), 'GANTRY_URL')
    } catch (err) {
      if (!isGantryError(err)) throw err
      problems.push(
        check('server', 'server:GANTRY_URL', 'warn', `GANTRY_URL: ${err.message}`, err.hint ?? 'Set GANTRY_URL to the server, e.g. https://api.example.com.'),
      )
    }
  }
  for (const url of logins) if (!targets.has(url)) targets.set(url, 'login')
  return { targets, problems }
}

/** Probes every target at once (each bounded by the probe's own timeout); rows in the targets' order. */
export async function serverChecks(targets: ReadonlyMap<string, UrlSource>, probe: ReadinessProbe): Promise<DoctorCheck[]> {
  if (targets.size === 0) return [check('server', 'server', 'skipped', 'no server to reach: GANTRY_URL is not set and no login is stored.')]
  return Promise.all([...targets].map(([url, source]) => serverRow(url, source, probe)))
}

async function serverRow(url: string, source: UrlSource, probe: ReadinessProbe): Promise<DoctorCheck> {
  const id = `server:${url}`
  const via = source === 'GANTRY_URL' ? ' (GANTRY_URL)' : ' (logged in)'
  let result: HealthResult
  try {
    result = await probe(url)
  } catch (err) {
    // Whatever the probe met (refused, timed out, TLS, an answer that is no health document), the server is
    // not usable from here: a doctor reports that rather than stopping.
    const fix =
      source === 'GANTRY_URL'
        ? 'Start the server (`gantry serve`), or point GANTRY_URL at one that runs.'
        : `Start the server (\`gantry serve\`), or forget this login: \`gantry logout --url ${url}\`.`
    return check('server', id, 'warn', `${url}${via} does not answer: ${firstLine(err).replace(/\.$/, '')}.`, fix)
  }
  if (result.ready) return check('server', id, 'ok', `${url}${via} answers: ready (${result.status}), Gantry ${result.version}.`)
  return check('server', id, 'warn', `${url}${via} answers but is not ready: ${notReadyReason(result)}.`, `gantry health --url ${url}`)
}
