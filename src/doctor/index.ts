/**
 * `gantry doctor`: every check this machine and workspace can run without asking anything, group by group,
 * in the order a problem is best fixed in (a toolchain that cannot load a driver explains a failing
 * environment; an invalid config explains every environment). Each group is yielded when done, so a
 * terminal shows results as they come.
 */
import { probeReadiness } from '../cli/health-output.js'
import { buildClient, credentialsStore } from '../cli/remote.js'
import type { CredentialsStore } from '../client/types.js'
import { check, type DoctorSection } from './check.js'
import { credentialChecks } from './credentials.js'
import { environmentChecks } from './environments.js'
import { serverChecks, serverTargets, type ReadinessProbe } from './server.js'
import { argon2Check, nodeCheck, sqliteDriverCheck } from './toolchain.js'
import { configCheck, secretsFileChecks } from './workspace.js'

export * from './check.js'

export interface DoctorInputs {
  readonly cwd: string
  /** --config, when given. */
  readonly configPath?: string | undefined
  readonly env: NodeJS.ProcessEnv
  readonly platform: NodeJS.Platform
  readonly now: number
  readonly store: CredentialsStore
  readonly probe: ReadinessProbe
  /** Told what is being checked (the spinner's text). */
  readonly progress?: ((text: string) => void) | undefined
}

/** A server that has not answered in this long is as good as down, for a doctor. */
const PROBE_TIMEOUT_MS = 3000

/** The inputs of a run on this machine: its process environment, the user's credentials store, one probe per server. */
export async function machineInputs(options: Pick<DoctorInputs, 'cwd' | 'configPath' | 'progress'>): Promise<DoctorInputs> {
  return {
    ...options,
    env: process.env,
    platform: process.platform,
    now: Date.now(),
    store: await credentialsStore(),
    probe: readinessProbe,
  }
}

/** One try at a server's readiness route, without credentials, as `gantry health` makes it. */
export const readinessProbe: ReadinessProbe = async (url) =>
  probeReadiness(await buildClient(url, {}, { auth: 'none', retries: 0, timeoutMs: PROBE_TIMEOUT_MS }))

/** Runs the checks, yielding each group's rows as soon as the group is done. */
export async function* runDoctor(inputs: DoctorInputs): AsyncGenerator<DoctorSection> {
  const progress = inputs.progress ?? (() => undefined)
  progress('Checking the toolchain')
  yield { group: 'toolchain', checks: [nodeCheck(), sqliteDriverCheck(inputs.env.GANTRY_SQLITE_DRIVER), await argon2Check()] }

  progress('Checking the config')
  const config = configCheck(inputs)
  yield { group: 'config', checks: [config.check] }

  // The .env files need only the folder, so an invalid config still has them checked.
  progress('Checking the .env files')
  yield {
    group: 'secrets',
    checks: config.root
      ? secretsFileChecks(config.root, { cwd: inputs.cwd, platform: inputs.platform })
      : [check('secrets', 'secrets', 'skipped', 'not checked: no workspace here.')],
  }

  const environments = config.workspace
    ? await environmentChecks(config.workspace, { processEnv: inputs.env, progress })
    : [check('environments', 'environments', 'skipped', `not checked: ${config.root ? 'the config is invalid' : 'no workspace here'}.`)]
  yield { group: 'environments', checks: environments }

  progress('Checking the credentials')
  const credentials = await credentialChecks(inputs.store, { env: inputs.env, now: inputs.now })
  yield { group: 'credentials', checks: credentials.checks }

  progress('Checking the server')
  const { targets, problems } = serverTargets(inputs.env, credentials.servers)
  // A GANTRY_URL that is no URL is the whole story when there is nothing else to probe.
  const probed = problems.length > 0 && targets.size === 0 ? [] : await serverChecks(targets, inputs.probe)
  yield { group: 'server', checks: [...problems, ...probed] }
}
