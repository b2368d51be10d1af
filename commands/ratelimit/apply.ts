import { readFile } from 'node:fs/promises'
import { resolve } from 'node:path'
import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { formatCount } from '../../src/cli/format.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { confirm } from '../../src/cli/prompts.js'
import { printDiff } from '../../src/cli/ratelimit-output.js'
import { GantryError } from '../../src/core/errors.js'
import { applyResultSchema, type ApplyResult, type FileRule } from '../../src/core/ratelimits/ratelimits.schema.js'

export default class RatelimitApply extends AdminCommand<typeof RatelimitApply> {
  static override summary = 'Make the stored rate-limit rules those of a JSON file: the diff first, then all of it at once.'
  static override description = [
    'FILE is { "rules": [ { "name", "match": "METHOD /path", "key", "limit", "window", "burst", "mode", "onStoreError", "enabled" } ] } — what `gantry ratelimit export` writes. The file\'s order becomes the order rules are checked in.',
    "The diff (added, changed with the fields that change, removed, kept) is printed first; on a terminal you confirm it. The change is one transaction: every rule or none. Rules the file leaves out are kept, after the file's, unless --prune removes them (in a protected environment --prune needs --force). --dry-run prints the diff and changes nothing; exit 0 either way.",
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> ratelimit apply rules.json --dry-run',
    '<%= config.bin %> ratelimit apply rules.json --prune -e production --force --json',
  ]
  static override args = { file: Args.string({ description: 'The rules file (JSON).', required: true }) }
  static override flags = {
    'dry-run': Flags.boolean({ summary: 'Print the diff; change nothing.' }),
    prune: Flags.boolean({ summary: 'Remove the stored rules the file does not list.' }),
    yes: sharedFlags.yes,
    force: sharedFlags.force,
  }
  static override resultSchema = applyResultSchema

  async run(): Promise<ApplyResult> {
    const file = resolve(this.args.file)
    const rules = parseRulesFile(
      file,
      await readFile(file, 'utf8').catch((err: Error) =>
        Promise.reject(new GantryError('INVALID_INPUT', `Cannot read ${file}: ${err.message}`, { cause: err })),
      ),
    )
    const input = { rules, prune: this.flags.prune }
    const preview = await this.call('ratelimits.apply', { ...input, dryRun: true })
    printDiff(this.ui, preview)
    const changes = preview.added.length + preview.changed.length + preview.removed.length
    if (this.flags['dry-run'] || changes === 0) return preview
    if (this.flags.prune && preview.removed.length > 0) {
      await this.confirmDestructive(`Removing ${formatCount(preview.removed.length)} rate-limit rule(s)`)
    }
    // A change of state: the terminal offers No. Without a terminal the command is the instruction.
    if (!this.flags.yes && !(await confirm(`Apply these ${changes} change(s)?`, { json: this.jsonEnabled(), fallback: true, offered: false }))) {
      this.ui.out('Nothing was changed.')
      return preview
    }
    const result = await this.call('ratelimits.apply', { ...input, dryRun: false })
    this.ui.out(result.applied ? `Applied (version ${result.version}); every server has it within a second.` : 'Nothing to change.')
    return result
  }
}

/** The `rules` of a rules file (each checked by the service); one line naming what is wrong with it otherwise. */
function parseRulesFile(file: string, text: string): FileRule[] {
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new GantryError('INVALID_INPUT', `${file} is not JSON: ${(err as Error).message.replace(/\s+/g, ' ')}.`, {
      hint: 'Start from the output of `gantry ratelimit export`.',
    })
  }
  const rules = (parsed as { rules?: unknown } | null)?.rules
  if (!Array.isArray(rules))
    throw new GantryError('INVALID_INPUT', `${file} has no "rules" array.`, { hint: 'Start from the output of `gantry ratelimit export`.' })
  return rules as FileRule[]
}
