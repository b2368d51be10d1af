import { Args } from '@oclif/core'
import { GantryCommand } from '../src/cli/base-command.js'
import { COMPLETION_SCRIPTS, type CompletionShell } from '../src/cli/complete.js'

export default class Completion extends GantryCommand<typeof Completion> {
  static override summary = 'Print the shell completion script for bash or zsh.'
  static override description =
    'Completes topics, commands, flags (after positional arguments too), flag values (their options; -e the workspace’s environments) and, otherwise, file names. Load it from your shell’s startup file: `source <(gantry completion bash)` in ~/.bashrc, `source <(gantry completion zsh)` in ~/.zshrc after compinit. The script asks `gantry` itself on each TAB, so it never goes stale.'
  static override examples = ['source <(<%= config.bin %> completion bash)', 'source <(<%= config.bin %> completion zsh)']
  static override enableJsonFlag = false
  static override args = {
    shell: Args.string({ description: 'bash or zsh (default: from $SHELL).', options: Object.keys(COMPLETION_SCRIPTS) }),
  }

  async run(): Promise<void> {
    const fromShell = /(bash|zsh)$/.exec(process.env.SHELL ?? '')?.[1]
    const shell = (this.args.shell ?? fromShell ?? 'bash') as CompletionShell
    process.stdout.write(COMPLETION_SCRIPTS[shell])
  }
}
