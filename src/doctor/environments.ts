/**
 * Every environment of the workspace, each checked exactly as `gantry env check` checks it (checkReadiness)
 * and shown as one row: the worst of its checks, its first problem of that rank and the fix.
 */
import { cliHint } from '../cli/hints.js'
import { environmentNames, resolveEnvironment, type Workspace } from '../config/workspace.js'
import type { Environment } from '../config/schema.js'
import { isGantryError } from '../core/errors.js'
import { checkReadiness, type Check, type Outcome, type Readiness } from '../readiness.js'
import { openRuntime, type Runtime } from '../runtime.js'
import { check, firstLine, worstStatus, type DoctorCheck } from './check.js'

export interface EnvironmentCheckOptions {
  readonly processEnv?: NodeJS.ProcessEnv | undefined
  /** Told which environment is being checked (the spinner's text). */
  readonly progress?: ((text: string) => void) | undefined
}

/** One row per environment, in the order `env list` shows them; one after the other, so the order holds. */
export async function environmentChecks(workspace: Workspace, options: EnvironmentCheckOptions = {}): Promise<DoctorCheck[]> {
  const rows: DoctorCheck[] = []
  for (const name of environmentNames(workspace)) {
    options.progress?.(`Checking environment ${name}`)
    rows.push(await checkEnvironment(workspace, name, options.processEnv ?? process.env))
  }
  return rows
}

/** The readiness checks of one environment, with its runtime closed after; anything unforeseen is its row's failure. */
export async function checkEnvironment(workspace: Workspace, name: string, processEnv: NodeJS.ProcessEnv): Promise<DoctorCheck> {
  const outcomes = new Map<Check['name'], Outcome>()
  let environment: Environment | undefined
  let runtime: Runtime | undefined
  try {
    const report = await checkReadiness({
      name,
      configPath: workspace.configPath,
      resolve: () => (environment = resolveEnvironment(workspace, name, processEnv)),
      // Only called once resolve succeeded. Log lines go to stderr: stdout carries the doctor's result.
      runtime: async () => (runtime = await openRuntime({ workspace, environment: environment!, logTo: 'stderr' })),
      // Kept for the fix: the report's checks carry no next step, the outcomes do.
      step: async (_label, work, checkName) => {
        const outcome = await work()
        outcomes.set(checkName, outcome)
        return outcome
      },
    })
    return environmentRow(report, outcomes)
  } catch (err) {
    const hint = isGantryError(err) ? cliHint(err) : undefined
    return check(
      'environments',
      `environment:${name}`,
      'fail',
      `${name}: could not be checked: ${firstLine(err)}`,
      hint ?? `gantry env check -e ${name} --verbose`,
    )
  } finally {
    await runtime?.close().catch(() => undefined)
  }
}

/**
 * The row of one readiness report. An environment whose config names a variable not set on this machine
 * (production's DATABASE_URL on a laptop, where it rightly is not) is a warning, not a failure: it cannot
 * be checked here, which is not the same as broken.
 */
export function environmentRow(report: Readiness, outcomes: ReadonlyMap<Check['name'], Outcome>): DoctorCheck {
  const name = report.environment
  const id = `environment:${name}`
  const unset = outcomes.get('config')?.error
  if (unset?.code === 'CONFIG_VAR_UNSET') {
    const variable = String(unset.details?.variable ?? 'the variable')
    return check(
      'environments',
      id,
      'warn',
      `${name}: not checked here: ${unset.message}`,
      `Set ${variable} in .env.${name} (or the shell) to check ${name} from here.`,
    )
  }
  const status = worstStatus(report.checks.map((c) => c.status))
  if (status === 'ok') {
    const said = (c: Check['name']) => report.checks.find((x) => x.name === c)?.message.replace(/\.$/, '')
    return check('environments', id, 'ok', `${name}: ready; database ${said('database')}; migrations ${said('migrations')}.`)
  }
  const problems = report.checks.filter((c) => c.status === 'warn' || c.status === 'fail')
  const first = problems.find((c) => c.status === status)!
  const more = problems.length > 1 ? ` (and ${problems.length - 1} more: \`gantry env check -e ${name}\`)` : ''
  const outcome = outcomes.get(first.name)
  const fix = outcome?.fix ?? (outcome?.error ? cliHint(outcome.error) : undefined) ?? `gantry env check -e ${name}`
  return check('environments', id, status, `${name}: ${first.name}: ${first.message.replace(/\.$/, '')}${more}.`, fix)
}
