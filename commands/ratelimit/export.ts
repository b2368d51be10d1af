import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { formatCount } from '../../src/cli/format.js'
import { writeJsonExport } from '../../src/cli/user-files.js'
import { exportSchema, type RulesFile } from '../../src/core/ratelimits/ratelimits.schema.js'

export default class RatelimitExport extends AdminCommand<typeof RatelimitExport> {
  static override summary = 'Write the stored rate-limit rules as a JSON file that `gantry ratelimit apply` reads back.'
  static override description =
    'To FILE (an existing one is refused unless --force), or to stdout. Only the stored rules: the login rules are built in and the environment default comes from the config (a stored "default" is exported). Overrides stay out: they are per subject and often temporary.'
  static override examples = ['<%= config.bin %> ratelimit export rules.json', '<%= config.bin %> ratelimit export -e staging > staging-rules.json']
  static override args = { file: Args.string({ description: 'File to write (default: stdout).' }) }
  static override flags = { force: Flags.boolean({ summary: 'Overwrite FILE when it exists.' }) }
  static override resultSchema = exportSchema

  async run(): Promise<RulesFile> {
    const rules = await this.call('ratelimits.export')
    const file = await writeJsonExport(this.args.file, rules, { force: this.flags.force, json: this.jsonEnabled() })
    if (file === undefined) return rules
    this.ui.out(`Wrote ${formatCount(rules.rules.length)} rule(s) to ${file}.`)
    return rules
  }
}
