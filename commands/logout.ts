import { z } from 'zod'
import { GantryCommand } from '../src/cli/base-command.js'
import { buildAuthApi, credentialFlags, credentialsStore, remoteFlags, resolveServerUrl } from '../src/cli/remote.js'
import { resolveServerSettings } from '../src/config/workspace.js'
import { ExitCode, GantryError, isGantryError } from '../src/core/errors.js'

const resultSchema = z.object({
  url: z.string(),
  forgotten: z.boolean().describe('whether credentials for the URL were stored (and are now removed)'),
  revoked: z.boolean().describe('whether the server ended the session (false for an API key: `gantry apikeys revoke` does that)'),
})
type LogoutResult = z.infer<typeof resultSchema>

export default class Logout extends GantryCommand<typeof Logout> {
  static override summary = 'Log out of a server: end the session on the server, then forget it here.'
  static override description =
    'Revokes the stored session server-side (its refresh token), then removes the credentials for the URL. Not logged in: exits 0 saying so. ' +
    'When the server does not answer the credentials are still forgotten here, but the session was not revoked: it says so and exits 3 ' +
    '(the refresh token stays valid until it expires; `gantry tokens revoke --user EMAIL` ends every session). A stored API key is forgotten, not revoked.'
  static override examples = [
    '<%= config.bin %> logout',
    '<%= config.bin %> logout -e production',
    '<%= config.bin %> logout --url https://api.example.com --json',
  ]
  static override flags = { ...remoteFlags, ...credentialFlags }
  static override resultSchema = resultSchema

  async run(): Promise<LogoutResult> {
    const url = resolveServerUrl(this.flags, () => resolveServerSettings(this.workspace(), this.envName))
    const store = await credentialsStore()
    // Under the lock: a parallel run refreshing the session must not write it back after it is forgotten.
    const { email, unanswered, result } = await store.withLock(async () => {
      const entry = await store.get(url)
      if (!entry) return { email: undefined, unanswered: undefined, result: { url, forgotten: false, revoked: false } }
      const unanswered = entry.kind === 'session' ? await this.revoke(url, entry.refreshToken) : undefined
      await store.delete(url)
      return {
        email: entry.kind === 'session' ? entry.email : undefined,
        unanswered,
        result: { url, forgotten: true, revoked: entry.kind === 'session' && !unanswered },
      }
    })
    if (unanswered) {
      throw new GantryError(
        unanswered.code,
        `Forgot the login for ${url} here, but the session was not revoked on the server: ${unanswered.message.replace(/\.$/, '')}.`,
        {
          hint: `Its refresh token stays valid until it expires; end every session of ${email} with \`gantry tokens revoke --user ${email}\` where the database is reachable.`,
          details: result,
        },
      )
    }
    if (!result.forgotten) this.ui.out(`Not logged in to ${url}; nothing to do.`)
    else if (result.revoked) this.ui.out(`Logged out of ${url} (${email}): the session is revoked and the credentials forgotten.`)
    else this.ui.out(`Forgot the API key for ${url}. The key itself still works until it is revoked (\`gantry apikeys revoke\`).`)
    return result
  }

  /** Ends the session server-side; the error when the server did not answer (any answer leaves the token dead). */
  private async revoke(url: string, refreshToken: string): Promise<GantryError | undefined> {
    const auth = await buildAuthApi(url, this.flags, { auth: 'in-body', retries: 1 })
    try {
      await auth.logout(refreshToken)
      return undefined
    } catch (err) {
      if (!isGantryError(err)) throw err
      // Refused (an unknown or expired token): nothing is left to revoke. Unreachable or failing: not revoked.
      return err.exit === ExitCode.unavailable ? err : undefined
    }
  }
}
