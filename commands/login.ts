import { Flags } from '@oclif/core'
import { z } from 'zod'
import { GantryCommand } from '../src/cli/base-command.js'
import { askSecret, readSecretFromStdin, valueOrAsk } from '../src/cli/prompts.js'
import { buildAuthApi, credentialFlags, credentialsStore, remoteFlags, resolveServerUrl } from '../src/cli/remote.js'
import { resolveServerSettings } from '../src/config/workspace.js'
import { GantryError } from '../src/core/errors.js'
import { escapeControl } from '../src/core/text.js'

const resultSchema = z.object({
  url: z.string().describe('the server logged in to: the key of the stored credentials'),
  email: z.string().describe('who is logged in (for an API key, its owner)'),
  apiKeyId: z.string().nullable().describe('the API key stored, for --api-key-stdin'),
  expiresAt: z.string().nullable().describe('ISO 8601: when the access token expires (it is refreshed then); null for an API key'),
})
type LoginResult = z.infer<typeof resultSchema>

export default class Login extends GantryCommand<typeof Login> {
  static override summary = 'Log in to a server: remote commands then act as you.'
  static override description =
    "Logs in to --url, else the environment's server.publicUrl, with an email and a password (asked at a hidden prompt, or piped with --password-stdin), with the server's identity provider in a browser (--sso), " +
    'or stores an API key piped with --api-key-stdin (checked with the server first). ' +
    'The credentials are kept per server URL in the user config directory (mode 0600 in a 0700 folder); the session is refreshed as it expires. ' +
    'GANTRY_API_KEY and GANTRY_TOKEN, when set, override them. No token is ever printed. ' +
    'Credentials go over https, or plain http to this machine (localhost, 127.0.0.0/8, ::1); plain http to another host needs --allow-http or GANTRY_ALLOW_HTTP=1.'
  static override examples = [
    '<%= config.bin %> login -e production',
    '$ printf \'%s\' "$PASSWORD" | <%= config.bin %> login --url https://api.example.com --email ada@example.com --password-stdin',
    '$ printf \'%s\' "$GANTRY_KEY" | <%= config.bin %> login -e staging --api-key-stdin',
    '<%= config.bin %> login -e production --sso',
    '<%= config.bin %> login -e production --break-glass',
  ]
  static override flags = {
    ...remoteFlags,
    ...credentialFlags,
    email: Flags.string({ summary: 'Email to log in with (asked on a terminal when missing).' }),
    'password-stdin': Flags.boolean({ summary: 'Read the password from stdin.' }),
    // Declared on this side only: oclif's usage line then reads [--api-key-stdin | --email … | --password-stdin].
    'api-key-stdin': Flags.boolean({
      summary: 'Store an API key (gk_…) read from stdin instead of logging in with a password.',
      exclusive: ['email', 'password-stdin', 'sso', 'break-glass'],
    }),
    sso: Flags.boolean({
      summary: "Sign in with the server's identity provider in a browser (single sign-on).",
      description:
        'Prints the address to open (and opens it on a desktop), then waits up to 5 minutes on 127.0.0.1 for the browser to come back (RFC 8252); without a browser here, a code to enter on another device (--device).',
      exclusive: ['email', 'password-stdin', 'break-glass'],
    }),
    'break-glass': Flags.boolean({
      summary: 'Sign in as the break-glass admin (auth.breakGlass) through the environment’s database, where password sign-in is off.',
      description:
        'For the day the identity provider is down: needs the database credentials (local mode, never over HTTP) and the admin’s password; the session is stored for the server like any login. Audited as sessions.break-glass (a webhook event too).',
    }),
    provider: Flags.string({ summary: 'With --sso: the identity provider (auth.sso.providers[].id), when the server has several.', dependsOn: ['sso'] }),
    device: Flags.boolean({
      summary: 'With --sso: sign in on another device with a code (RFC 8628); --no-device: through a browser on this machine.',
      description:
        "Default: on another device where this machine has no browser (a shell over SSH, no display) and the provider offers it. Prints the provider's page and the code to enter there, then waits until the code is approved or expires.",
      allowNo: true,
      dependsOn: ['sso'],
    }),
  }
  static override resultSchema = resultSchema

  async run(): Promise<LoginResult> {
    const url = resolveServerUrl(this.flags, () => resolveServerSettings(this.workspace(), this.envName))
    const result = this.flags['api-key-stdin']
      ? await this.storeApiKey(url)
      : this.flags.sso
        ? await this.signInWithSso(url)
        : this.flags['break-glass']
          ? await this.breakGlass(url)
          : await this.logIn(url)
    const how = result.apiKeyId ? `with API key ${result.apiKeyId} of ${result.email}` : `as ${result.email}`
    this.ui.out(`Logged in to ${url} ${how}.`)
    for (const name of ['GANTRY_API_KEY', 'GANTRY_TOKEN']) {
      if (process.env[name]) this.ui.warn(`${name} is set: commands authenticate with it, not with this login, until it is unset.`)
    }
    return result
  }

  private async logIn(url: string): Promise<LoginResult> {
    // Built first: a URL the password may not go to is refused before anyone types it.
    const auth = await buildAuthApi(url, this.flags, { auth: 'in-body' })
    const json = this.jsonEnabled()
    const email = (await valueOrAsk(this.flags.email, { flag: 'email', message: 'Email', json })).trim()
    const { accessToken, refreshToken, expiresAt } = await auth.login(email, await this.password())
    await (await credentialsStore()).set(url, { kind: 'session', email, accessToken, accessExpiresAt: expiresAt, refreshToken })
    return { url, email, apiKeyId: null, expiresAt }
  }

  private password(): Promise<string> {
    return this.flags['password-stdin']
      ? readSecretFromStdin('password-stdin')
      : askSecret({ message: 'Password', flag: 'password-stdin', json: this.jsonEnabled(), confirm: false })
  }

  private async breakGlass(url: string): Promise<LoginResult> {
    const runtime = await this.runtime()
    const email = (this.flags.email ?? runtime.environment.auth.breakGlass ?? '').trim()
    if (!email) throw new GantryError('CONFIG_INVALID', `No break-glass admin is configured for ${runtime.environment.name} (auth.breakGlass).`)
    const password = await this.password()
    const [services, { localContext }, { localActor }] = await Promise.all([
      runtime.services(),
      import('../src/core/context.js'),
      import('../src/local-actor.js'),
    ])
    const { accessToken, refreshToken, expiresAt } = await services.sessions.breakGlass(email, password, localContext(localActor()))
    await (await credentialsStore()).set(url, { kind: 'session', email, accessToken, accessExpiresAt: expiresAt, refreshToken })
    // On stderr even under --json: whoever runs it must know it is not a quiet login.
    process.stderr.write('Break-glass sign-in: recorded in the audit log as sessions.break-glass, and sent to the webhooks of sessions.break_glass.\n')
    return { url, email, apiKeyId: null, expiresAt }
  }

  private async signInWithSso(url: string): Promise<LoginResult> {
    // A device poll may wait on the provider's token endpoint, which openid-client gives 30 s.
    const auth = await buildAuthApi(url, this.flags, { auth: 'in-body', timeoutMs: 60_000 })
    const { ssoLogin } = await import('../src/cli/sso-login.js')
    const { accessToken, refreshToken, expiresAt } = await ssoLogin({
      url,
      auth,
      provider: this.flags.provider,
      // On stderr even under --json: it is what the person at the browser needs.
      tell: (line) => process.stderr.write(`${escapeControl(line)}\n`),
      openBrowser: process.stdout.isTTY === true && !process.env.CI,
      device: this.flags.device,
    })
    const me = await (await buildAuthApi(url, this.flags, { auth: { authorization: async () => `Bearer ${accessToken}` } })).me()
    await (await credentialsStore()).set(url, { kind: 'session', email: me.user.email, accessToken, accessExpiresAt: expiresAt, refreshToken })
    return { url, email: me.user.email, apiKeyId: null, expiresAt }
  }

  private async storeApiKey(url: string): Promise<LoginResult> {
    const apiKey = (await readSecretFromStdin('api-key-stdin')).trim()
    if (!apiKey.startsWith('gk_'))
      throw new GantryError('INVALID_INPUT', 'That is not a Gantry API key: they start with gk_.', {
        hint: 'Pipe the key that `gantry apikeys create` printed.',
      })
    // Checked before it is stored: a mistyped, revoked or expired key fails here, not in the next command.
    const me = await (await buildAuthApi(url, this.flags, { auth: { authorization: async () => `Bearer ${apiKey}` } })).me()
    await (await credentialsStore()).set(url, { kind: 'apiKey', apiKey })
    return { url, email: me.user.email, apiKeyId: me.apiKeyId, expiresAt: null }
  }
}
