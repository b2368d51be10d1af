import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { formatCount } from '../../src/cli/format.js'
import { writeJsonExport } from '../../src/cli/user-files.js'
import { flagsFileSchema, type FlagsFile } from '../../src/core/flags/flags.schema.js'

export default class FlagsExport extends AdminCommand<typeof FlagsExport> {
  static override summary = "Write the environment's flags and segments as a JSON file that `gantry flags apply` reads back."
  static override description =
    'To FILE (an existing one is refused unless --force), or to stdout. Keep it in git and apply it in CI, or apply it to another environment to promote flags.'
  static override examples = ['<%= config.bin %> flags export flags.json', '<%= config.bin %> flags export -e staging > staging-flags.json']
  static override args = { file: Args.string({ description: 'File to write (default: stdout).' }) }
  static override flags = { force: Flags.boolean({ summary: 'Overwrite FILE when it exists.' }) }
  static override resultSchema = flagsFileSchema

  async run(): Promise<FlagsFile> {
    const flags = await this.call('flags.export')
    const file = await writeJsonExport(this.args.file, flags, { force: this.flags.force, json: this.jsonEnabled() })
    if (file === undefined) return flags
    this.ui.out(`Wrote ${formatCount(flags.flags.length)} flag(s) and ${formatCount(flags.segments.length)} segment(s) to ${file}.`)
    return flags
  }
}
