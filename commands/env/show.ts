import { Args } from '@oclif/core'
import { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { describeVariables, inspectEnvironment } from '../../src/config/inspect.js'
import { maskSettings } from '../../src/config/secrets.js'

const resultSchema = z.object({
  name: z.string(),
  /** Whether every variable is set and every value valid. */
  resolved: z.boolean(),
  /** Why it does not resolve, when it does not. */
  problem: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** The settings after interpolation (an unset variable left as its reference), secrets masked. */
  settings: z.record(z.string(), z.unknown()),
  variables: z.array(z.object({ name: z.string(), source: z.string(), value: z.string().nullable(), secret: z.boolean() })),
})

export default class EnvShow extends GantryCommand<typeof EnvShow> {
  static override summary = 'Show an environment resolved, with secrets masked and where each variable comes from.'
  static override description =
    'Passwords in database and Redis URLs, auth.secret and the values of secret-like variables (SECRET, PASSWORD, ' +
    'TOKEN, KEY, PASS) are shown as ***. A variable comes from the process env, .env.<name>, .env, its default, or is unset; ' +
    'an unset variable is reported here rather than failing.'
  static override examples = ['<%= config.bin %> env show', '<%= config.bin %> env show production', '<%= config.bin %> env show staging --json']
  static override args = { name: Args.string({ description: 'Environment to show (default: the selected one).' }) }
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const workspace = this.workspace()
    const name = this.args.name ?? this.envName
    const inspection = inspectEnvironment(workspace, name)
    const settings: Record<string, unknown> = maskSettings(inspection.environment ? { ...inspection.environment } : { name, ...inspection.settings })
    const variables = describeVariables(workspace, name)
    const problem = inspection.problem ? { code: inspection.problem.code, message: inspection.problem.message } : null

    const { color } = this.ui
    this.ui.out(color.bold(`Environment ${name}`) + (settings.protected === true ? color.yellow(' (protected)') : ''))
    for (const [key, value] of flatten(settings)) if (key !== 'name') this.ui.out(`  ${key.padEnd(26)} ${value}`)
    this.ui.out('')
    this.ui.table(
      variables.map((v) => ({ ...v, value: v.value ?? '' })),
      [
        ['name', 'VARIABLE'],
        ['source', 'FROM'],
        ['value', 'VALUE'],
      ],
      { empty: 'No variables: the settings refer to none.' },
    )
    const unset = variables.filter((v) => v.source === 'unset').map((v) => v.name)
    if (unset.length > 0) this.ui.warn(`${name} does not resolve: ${unset.join(', ')} ${unset.length === 1 ? 'is' : 'are'} not set.`)
    else if (problem) this.ui.warn(`${problem.message} (${problem.code})`)
    return { name, resolved: problem === null, problem, settings, variables }
  }
}

/** `a.b.c  value` lines for the human view. */
function flatten(value: Record<string, unknown>, prefix = ''): Array<[string, string]> {
  return Object.entries(value).flatMap(([key, item]): Array<[string, string]> => {
    const path = prefix ? `${prefix}.${key}` : key
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) return flatten(item as Record<string, unknown>, path)
    return [[path, Array.isArray(item) ? item.join(', ') || '[]' : item === null ? '-' : String(item)]]
  })
}
