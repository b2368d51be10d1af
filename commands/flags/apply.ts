import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { formatCount } from '../../src/cli/format.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { printChanges } from '../../src/cli/flags-output.js'
import { confirm } from '../../src/cli/prompts.js'
import { GantryError } from '../../src/core/errors.js'
import { applyFlagsResultSchema, type ApplyFlagsResult, type FlagsFile } from '../../src/core/flags/flags.schema.js'

export default class FlagsApply extends AdminCommand<typeof FlagsApply> {
  static override summary = 'Make the stored flags and segments those of a JSON file: what changes first, then all of it at once.'
  static override description = [
    'FILE is { "flags": [...], "segments": [...] } — what `gantry flags export` writes. Each flag in it replaces the stored one of its key whole (rules, variants, on or off).',
    'The changes are printed first; on a terminal you confirm them. The change is one transaction: every flag or none. Flags and segments the file leaves out are kept unless --prune deletes them (in a protected environment --prune needs --force). --dry-run prints the changes and changes nothing.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> flags apply flags.json --dry-run',
    '<%= config.bin %> flags apply flags.json --prune -e production --force --json',
  ]
  static override args = { file: Args.string({ description: 'The flags file (JSON).', required: true }) }
  static override flags = {
    'dry-run': Flags.boolean({ summary: 'Print the changes; change nothing.' }),
    prune: Flags.boolean({ summary: 'Delete the stored flags and segments the file does not have.' }),
    yes: sharedFlags.yes,
    force: sharedFlags.force,
  }
  static override resultSchema = applyFlagsResultSchema

  async run(): Promise<ApplyFlagsResult> {
    const path = resolve(this.args.file)
    const text = await readFile(path, 'utf8').catch((err: Error) =>
      Promise.reject(new GantryError('INVALID_INPUT', `Cannot read ${path}: ${err.message}`, { cause: err })),
    )
    const file = parseFlagsFile(path, text)
    const input = { file, prune: this.flags.prune }
    const preview = await this.call('flags.apply', { ...input, dryRun: true })
    printChanges(this.ui, preview.changes)
    const changes = preview.changes.filter((c) => c.change !== 'unchanged')
    if (this.flags['dry-run'] || changes.length === 0) return preview
    const deletions = changes.filter((c) => c.change === 'delete').length
    if (deletions > 0) await this.confirmDestructive(`Deleting ${formatCount(deletions)} flag(s) or segment(s)`)
    // A change of state: the terminal offers No. Without a terminal the command is the instruction.
    if (!this.flags.yes && !(await confirm(`Apply these ${changes.length} change(s)?`, { json: this.jsonEnabled(), fallback: true, offered: false }))) {
      this.ui.out('Nothing was changed.')
      return preview
    }
    const result = await this.call('flags.apply', { ...input, dryRun: false })
    this.ui.out(`Applied (version ${result.version}); every server has it within a second.`)
    return result
  }
}

/** The file as JSON (the service checks each flag); one line naming what is wrong with it otherwise. */
function parseFlagsFile(path: string, text: string): FlagsFile {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new GantryError('INVALID_INPUT', `${path} is not JSON: ${(err as Error).message.replace(/\s+/g, ' ')}.`, {
      hint: 'Start from the output of `gantry flags export`.',
    })
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new GantryError('INVALID_INPUT', `${path} is not a flags file: expected { "flags": [...], "segments": [...] }.`, {
      hint: 'Start from the output of `gantry flags export`.',
    })
  return parsed as FlagsFile
}
