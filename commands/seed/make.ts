import { Args } from '@oclif/core'
import { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { scriptExtension, sharedFlags } from '../../src/cli/flags.js'
import { makeScript } from '../../src/db/migrator/index.js'

const resultSchema = z.object({ path: z.string() })

export default class SeedMake extends GantryCommand<typeof SeedMake> {
  static override summary = "Write a new seed file into the workspace's seeds folder."
  static override description = 'Seeds run in name order: prefix them (01_users, 02_posts) when order matters. The extension defaults to migrations.extension.'
  static override examples = ['<%= config.bin %> seed make 01_users', '<%= config.bin %> seed make demo_data --js']
  static override args = { name: Args.string({ description: 'The seed name, e.g. 01_users.', required: true }) }
  static override flags = {
    ts: sharedFlags.ts,
    js: sharedFlags.js,
  }
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const workspace = this.workspace()
    const extension = scriptExtension(this.flags, workspace.migrations.extension)
    const path = makeScript({ kind: 'seed', name: this.args.name, directory: workspace.seeds.directory, extension, root: workspace.root })
    this.ui.out(`Created ${path}`)
    return { path }
  }
}
