import { Command, Flags, type Interfaces } from '@oclif/core'
import type { z } from 'zod'
import { DEFAULT_ENVIRONMENT } from '../config/defaults.js'
import type { GantryError } from '../core/errors.js'
import { loadWorkspace, resolveEnvironment, type Workspace } from '../config/workspace.js'
import type { Environment } from '../config/schema.js'
import { openRuntime, type LogTarget, type Runtime } from '../runtime.js'
import { cancelled, isParseError, renderFailure } from './failure.js'
import { nextPageCommand } from './hints.js'
import { createUi, type Ui } from './ui.js'
import { usageError } from './usage.js'

export type CommandFlags<T extends typeof Command> = Interfaces.InferredFlags<(typeof GantryCommand)['baseFlags'] & T['flags']>
export type CommandArgs<T extends typeof Command> = Interfaces.InferredArgs<T['args']>

/**
 * Every command's base: the global flags (--env, --config, --json, --verbose), the workspace and
 * environment they select, a Ui that follows TTY/NO_COLOR/--json, and one error rendering with the
 * documented exit codes. A command's run() returns its typed result, which --json prints as is.
 */
export abstract class GantryCommand<T extends typeof Command> extends Command {
  static override enableJsonFlag = true

  /** The shape of the --json success document; kept in the CLI surface snapshot (docs/cli-surface.json). */
  static resultSchema: z.ZodType | undefined

  /**
   * Whether Ctrl-C ends the run with a quiet `Cancelled.` and exit 130 (under --json, the CANCELLED error
   * document). A command that drains on SIGINT itself (serve) turns it off.
   */
  static cancelOnInterrupt = true

  static override baseFlags = {
    env: Flags.string({
      char: 'e',
      env: 'GANTRY_ENV',
      summary: 'Environment to act on (default: GANTRY_ENV, else development).',
      helpGroup: 'GLOBAL',
    }),
    config: Flags.string({ summary: 'Path to gantry.config.json (default: found from the current folder up).', helpGroup: 'GLOBAL' }),
    verbose: Flags.boolean({ summary: 'Show the cause and stack of an error.', helpGroup: 'GLOBAL' }),
  }

  protected flags!: CommandFlags<T>
  protected args!: CommandArgs<T>
  protected ui!: Ui
  private opened: Runtime | undefined

  override async init(): Promise<void> {
    await super.init()
    this.ui = createUi({ json: this.jsonEnabled() })
    if ((this.ctor as typeof GantryCommand).cancelOnInterrupt) {
      process.once('SIGINT', () => {
        renderFailure(this.interrupted(), { json: this.jsonEnabled(), verbose: false })
        // Nothing else may run: what was in flight ends with the process, as it would without this handler
        // (a migration's transaction rolls back with its connection, the migration lock goes with its session).
        process.exit(process.exitCode)
      })
    }
    const { args, flags } = await this.parse({
      flags: this.ctor.flags,
      baseFlags: (super.ctor as typeof GantryCommand).baseFlags,
      enableJsonFlag: this.ctor.enableJsonFlag,
      args: this.ctor.args,
      strict: this.ctor.strict,
    })
    this.flags = flags as CommandFlags<T>
    this.args = args as CommandArgs<T>
  }

  /** What Ctrl-C during the run ends with: `Cancelled.`; a command whose work was partly done says how far it went. */
  protected interrupted(): GantryError {
    return cancelled()
  }

  /** Under a page that is not the last, the complete command for the next one (stderr: stdout stays the table). */
  protected nextPageHint(cursor: string | null | undefined): void {
    if (cursor) this.ui.note(`Next page: ${nextPageCommand(`${this.config.bin} ${this.id?.replaceAll(':', ' ') ?? ''}`.trim(), this.argv, cursor)}`)
  }

  /** The environment the flags select. */
  protected get envName(): string {
    return this.flags.env ?? DEFAULT_ENVIRONMENT
  }

  /** The workspace from --config or the walk up from the current folder. */
  protected workspace(): Workspace {
    return loadWorkspace({ cwd: process.cwd(), configPath: this.flags.config })
  }

  /** The selected environment, resolved (defaults, config, variables). */
  protected environment(workspace = this.workspace()): Environment {
    return resolveEnvironment(workspace, this.envName)
  }

  /** Where the runtime's log lines go: stderr, as stdout carries the command's result (serve logs on stdout). */
  protected logTo: LogTarget = 'stderr'

  /** Opens the selected environment's runtime once per run; it is closed when the command ends. */
  protected async runtime(): Promise<Runtime> {
    const workspace = this.workspace()
    this.opened ??= await openRuntime({ workspace, environment: this.environment(workspace), logTo: this.logTo })
    return this.opened
  }

  override async finally(err: Error | undefined): Promise<void> {
    await this.opened?.close()
    await super.finally(err)
  }

  /** Renders any failure as `Error (CODE): message` plus its next step, with the documented exit code. */
  override async catch(err: Error & { oclif?: { exit?: number }; code?: string }): Promise<void> {
    if (err.code === 'EEXIT') {
      process.exitCode = err.oclif?.exit ?? 0
      return
    }
    const failure = isParseError(err)
      ? usageError(err, {
          id: this.id ?? '',
          args: this.ctor.args,
          flags: { ...GantryCommand.baseFlags, ...this.ctor.flags, ...(this.ctor.enableJsonFlag ? { json: true } : {}) },
        })
      : err
    renderFailure(failure, { json: this.jsonEnabled(), verbose: this.verbose() })
  }

  private verbose(): boolean {
    return Boolean(this.flags?.verbose) || this.argv.includes('--verbose') || Boolean(process.env.DEBUG)
  }
}
