import { Args } from '@oclif/core'
import { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { scriptExtension, sharedFlags } from '../../src/cli/flags.js'
import { makeScript } from '../../src/db/migrator/index.js'

const resultSchema = z.object({ path: z.string() })

export default class MigrateMake extends GantryCommand<typeof MigrateMake> {
  static override summary = "Write a new migration into the workspace's migrations folder."
  static override description =
    'Names it <YYYYMMDDHHmmss>_<name>.<ts|js> (UTC). The extension defaults to the workspace setting migrations.extension; JavaScript is written as ESM when the workspace package.json says "type": "module", else CommonJS. The name says what the body does, as in Rails and Laravel: add_X_to_Y adds column X to table Y, remove_X_from_Y drops it, change_X_in_Y and alter_X alter a table, drop_X drops table X; create_X, add_X and any other name create a table.'
  static override examples = [
    '<%= config.bin %> migrate make create_users',
    '<%= config.bin %> migrate make add_status_to_orders',
    '<%= config.bin %> migrate make add-email-index --js',
  ]
  static override args = { name: Args.string({ description: 'What the migration does, e.g. create_users.', required: true }) }
  static override flags = {
    ts: sharedFlags.ts,
    js: sharedFlags.js,
  }
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const workspace = this.workspace()
    const extension = scriptExtension(this.flags, workspace.migrations.extension)
    const path = makeScript({ kind: 'migration', name: this.args.name, directory: workspace.migrations.directory, extension, root: workspace.root })
    this.ui.out(`Created ${path}`)
    return { path }
  }
}
