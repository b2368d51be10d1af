import { Args, Flags } from '@oclif/core'
import { GantryCommand } from '../../src/cli/base-command.js'
import { prepareFlagCopy } from '../../src/cli/flags-copy.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { printFlagDiff } from '../../src/cli/flags-output.js'
import { confirmDestructive } from '../../src/cli/prompts.js'
import { resolveServerSettings } from '../../src/config/workspace.js'
import { applyFlagsResultSchema, type ApplyFlagsResult } from '../../src/core/flags/flags.schema.js'

export default class FlagsCopy extends GantryCommand<typeof FlagsCopy> {
  static override summary = 'Copy a flag from one environment to another (staging to production): what changes first, then the copy.'
  static override description = [
    "The flag's whole definition (on or off, variants, rules) replaces the target's, with the segments its rules name. The difference is printed first; at a terminal you confirm it (--yes skips that). Both environments' databases are opened from this workspace (local mode).",
    'Refused when both environments resolve to the same database (staging and production reading one ${DATABASE_URL} in this shell). Copying into a protected environment needs --force, or its name typed at the prompt.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> flags copy new-checkout --from staging --to production',
    '<%= config.bin %> flags copy new-checkout --from staging --to production --force --json',
  ]
  static override args = { key: Args.string({ description: 'The flag key.', required: true }) }
  static override flags = {
    from: Flags.string({ summary: 'The environment to copy from.', required: true }),
    to: Flags.string({ summary: 'The environment to copy into.', required: true }),
    'dry-run': Flags.boolean({ summary: 'Print the difference; change nothing.' }),
    yes: sharedFlags.yes,
    force: sharedFlags.force,
  }
  static override resultSchema = applyFlagsResultSchema

  async run(): Promise<ApplyFlagsResult> {
    const { from, to } = this.flags
    const workspace = this.workspace()
    const copy = await prepareFlagCopy(workspace, this.args.key, from, to)
    try {
      const input = { file: copy.file, prune: false }
      const preview = await copy.targetAdmin.call('flags.apply', { ...input, dryRun: true })
      const [flag] = copy.file.flags
      if (flag) printFlagDiff(this.ui, copy.current, flag, preview.changes, to)
      if (this.flags['dry-run'] || preview.changes.every((c) => c.change === 'unchanged')) return preview
      await confirmDestructive({
        environment: to,
        isProtected: resolveServerSettings(workspace, to).protected,
        force: this.flags.force,
        yes: this.flags.yes,
        json: this.jsonEnabled(),
        action: `Copying flag ${this.args.key} from ${from}`,
        place: copy.place,
      })
      const result = await copy.targetAdmin.call('flags.apply', { ...input, dryRun: false })
      this.ui.out(`Copied ${this.args.key} into ${to} (version ${result.version}); its servers have it within a second.`)
      return result
    } finally {
      await copy.close()
    }
  }
}
