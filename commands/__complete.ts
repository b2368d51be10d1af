import { Command } from '@oclif/core'
import { BUILTIN_ENVIRONMENTS } from '../src/config/defaults.js'
import { environmentNames, loadWorkspace } from '../src/config/workspace.js'
import { complete, type CompletableCommand } from '../src/cli/complete.js'

/**
 * What the scripts of `gantry completion` call on each TAB: the words after `gantry` (the last one being
 * typed) in, the candidates out, one per line. A plain oclif command: it must answer something at once,
 * wherever it runs, and never print an error in the middle of the user's command line.
 */
export default class Complete extends Command {
  static override hidden = true
  static override strict = false
  static override summary = 'Completion candidates for the words typed (used by the `gantry completion` scripts).'

  async run(): Promise<void> {
    const words = this.argv[0] === '--' ? this.argv.slice(1) : this.argv
    const candidates = complete(words.length > 0 ? words : [''], {
      commands: this.config.commands as unknown as CompletableCommand[],
      environments: () => workspaceEnvironments(configFlag(words)),
    })
    if (candidates.length > 0) process.stdout.write(`${candidates.join('\n')}\n`)
  }
}

/** The --config PATH among the words, which names another workspace's config. */
function configFlag(words: readonly string[]): string | undefined {
  const at = words.indexOf('--config')
  if (at >= 0) return words[at + 1]
  return words.find((w) => w.startsWith('--config='))?.slice('--config='.length)
}

/** The environments of the workspace here; outside one (or with a config that does not load), the built-in ones. */
function workspaceEnvironments(configPath: string | undefined): string[] {
  try {
    return environmentNames(loadWorkspace({ cwd: process.cwd(), configPath }))
  } catch {
    return [...BUILTIN_ENVIRONMENTS]
  }
}
