import { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { maskSettings } from '../../src/config/secrets.js'
import { environmentNames, rawEnvironment } from '../../src/config/workspace.js'

const resultSchema = z.object({
  data: z.array(z.object({ name: z.string(), protected: z.boolean(), database: z.string(), redis: z.string().nullable(), current: z.boolean() })),
})

export default class EnvList extends GantryCommand<typeof EnvList> {
  static override summary = 'List the environments of the workspace.'
  static override description = 'Shows each environment as configured (variables not resolved); * marks the selected one.'
  static override examples = ['<%= config.bin %> env list', '<%= config.bin %> env list --json']
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const workspace = this.workspace()
    const data = environmentNames(workspace).map((name) => {
      const env = maskSettings(rawEnvironment(workspace, name))
      return { name, protected: env.protected ?? false, database: env.database ?? '', redis: env.redis ?? null, current: name === this.envName }
    })
    this.ui.table(
      data.map((e) => ({ ...e, name: e.current ? `${e.name} *` : e.name, redis: e.redis || 'memory' })),
      [
        ['name', 'NAME'],
        ['protected', 'PROTECTED'],
        ['database', 'DATABASE'],
        ['redis', 'REDIS'],
      ],
    )
    return { data }
  }
}
