import { Flags, type Command } from '@oclif/core'
import type { AdminApi } from '../admin/admin-api.js'
import { callParts, type JsonOperation } from '../admin/operation.js'
import { OPERATIONS, type OperationArgs, type OperationName, type OperationResult } from '../admin/operations/index.js'
import { resolveServerSettings, type ServerSettings } from '../config/workspace.js'
import { redact } from '../db/url.js'
import { isGantryError } from '../core/errors.js'
import { GantryCommand } from './base-command.js'
import { confirmDestructive } from './prompts.js'
import { buildClient, credentialFlags, REMOTE_HELP_GROUP, remoteFlags, resolveServerUrl, type RemoteFlags } from './remote.js'

/**
 * The base of every admin command (users, roles, apikeys, tokens, audit, maintenance, ratelimit): its
 * AdminApi acts on the environment's database (LocalAdmin, as `local:<os user>@<host>`) or, with --remote,
 * --url or the environment's `remote: true`, through the server's API as the logged-in user or key
 * (HttpAdmin). A remote run never opens the database: a machine that reaches only the server is enough.
 */
export abstract class AdminCommand<T extends typeof Command> extends GantryCommand<T> {
  static override baseFlags = {
    ...GantryCommand.baseFlags,
    remote: Flags.boolean({
      summary: "Go through the server's API as the user of `gantry login` (default: the environment's `remote`); --no-remote acts on the database.",
      allowNo: true,
      helpGroup: REMOTE_HELP_GROUP,
    }),
    url: Flags.string({ summary: "Server to reach (default: the environment's server.publicUrl); implies --remote.", helpGroup: REMOTE_HELP_GROUP }),
    insecure: remoteFlags.insecure,
    'ca-file': remoteFlags['ca-file'],
    ...credentialFlags,
  }

  private door: ServerSettings | undefined
  /** Where the opened door acts, for confirmations: the database URL (secrets masked) or the server URL. */
  private place: string | undefined
  private adminApi: Promise<AdminApi> | undefined

  /** The AdminApi of the door the flags and the environment choose, opened once per command. */
  protected admin(): Promise<AdminApi> {
    return (this.adminApi ??= this.openAdmin())
  }

  private async openAdmin(): Promise<AdminApi> {
    const url = this.remoteUrl()
    if (url === undefined) {
      const runtime = await this.runtime()
      this.place = redact(runtime.environment.database)
      return runtime.admin()
    }
    const flags = this.flags as RemoteFlags
    const [client, { createHttpAdmin }] = await Promise.all([buildClient(url, flags, { auth: 'stored' }), import('../admin/http-admin.js')])
    this.place = url
    return createHttpAdmin(client)
  }

  /** The environment's database as a message may show it (password masked); null when its URL names a variable not set here. */
  protected databaseShown(): string | null {
    try {
      return redact(this.environment().database)
    } catch (err) {
      if (isGantryError(err) && err.code === 'CONFIG_VAR_UNSET') return null
      throw err
    }
  }

  /** The server this run goes through (--remote, --url or the environment's `remote`), or undefined for the local door. */
  protected remoteUrl(): string | undefined {
    const flags = this.flags as RemoteFlags & { remote?: boolean | undefined }
    // --url or --remote decide without the workspace: they work outside one.
    const remote = flags.remote ?? (flags.url !== undefined || this.doorSettings().remote)
    return remote ? resolveServerUrl(flags, () => this.doorSettings()) : undefined
  }

  /**
   * Runs a declared operation through the chosen door; one the table marks destructive asks first in a
   * protected environment (or needs --force), whichever door it goes through.
   */
  protected async call<N extends OperationName>(name: N, ...args: OperationArgs<N>): Promise<OperationResult<N>> {
    const op = OPERATIONS[name] as JsonOperation
    const admin = await this.admin()
    if (op.destructive) await this.confirmDestructive(op.destructive(callParts(op, args).params as never))
    return admin.call(name, ...args)
  }

  /**
   * Asks before a destructive action (unless --force, or --yes outside a protected environment), naming the
   * environment and where the door acts: the database for the local door, the server for the remote one.
   * The door is opened first, so an unreachable one fails before anyone answers.
   */
  protected async confirmDestructive(action: string): Promise<void> {
    const flags = this.flags as { force?: boolean; yes?: boolean }
    await this.admin()
    await confirmDestructive({
      environment: this.envName,
      isProtected: this.doorSettings().protected,
      force: flags.force ?? false,
      yes: flags.yes ?? false,
      json: this.jsonEnabled(),
      action,
      place: this.place,
    })
  }

  /** The selected environment's remote, protected and server settings (resolveServerSettings), once. */
  private doorSettings(): ServerSettings {
    return (this.door ??= resolveServerSettings(this.workspace(), this.envName))
  }
}
