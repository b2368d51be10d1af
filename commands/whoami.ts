import { z } from 'zod'
import { AdminCommand } from '../src/cli/admin-command.js'
import { buildAuthApi, credentialsStore, type RemoteFlags } from '../src/cli/remote.js'
import { userSchema } from '../src/core/users/users.schema.js'
import { localActor } from '../src/local-actor.js'

const resultSchema = z.object({
  door: z.enum(['local', 'remote']).describe('local: straight on the database, as the OS user; remote: through the server'),
  actor: z.string().describe('as the audit log writes it: local:<os user>@<host> (GANTRY_ACTOR), user:<id>, apikey:<key id>'),
  environment: z.string(),
  database: z.string().nullable().describe('local: the database acted on, password masked (null when its URL does not resolve here)'),
  server: z.string().nullable().describe('remote: the server acted through'),
  credentials: z
    .enum(['os-user', 'login', 'login-api-key', 'GANTRY_API_KEY', 'GANTRY_TOKEN'])
    .describe('what speaks for this CLI: the OS user (local), the session or API key of `gantry login`, or a variable that overrides it'),
  user: userSchema.nullable().describe('remote: the user behind the credentials (for an API key, its owner)'),
  apiKeyId: z.string().nullable(),
  permissions: z.array(z.string()).describe("what this CLI may do: every permission locally ('*'), the server's answer remotely"),
  expiresAt: z.string().nullable().describe('ISO 8601: when the credential sent stops working (a login session is refreshed before that); null: never'),
})
type WhoamiResult = z.infer<typeof resultSchema>

export default class Whoami extends AdminCommand<typeof Whoami> {
  static override summary = 'Show who this CLI acts as: locally the OS user, remotely the logged-in user or key.'
  static override description =
    'Locally (the default) commands act on the database as `local:<os user>@<host>` (plus GANTRY_ACTOR) with every permission. ' +
    "With --remote, --url or the environment's `remote: true` they act through the server as the credentials of `gantry login`, GANTRY_API_KEY or GANTRY_TOKEN: " +
    'the server says whose they are, what they may do and when they expire.'
  static override examples = [
    '<%= config.bin %> whoami',
    '<%= config.bin %> whoami -e production --remote',
    '<%= config.bin %> whoami --url https://api.example.com --json',
  ]
  static override resultSchema = resultSchema

  async run(): Promise<WhoamiResult> {
    const server = this.remoteUrl()
    const result = server === undefined ? this.local() : await this.remote(server)
    this.ui.fields({
      door: result.door,
      actor: result.actor,
      environment: result.environment,
      ...(result.door === 'local' ? { database: result.database ?? '(its URL does not resolve here)' } : { server: result.server }),
      credentials: result.credentials,
      ...(result.user ? { user: `${result.user.email} (${result.user.role})` } : {}),
      ...(result.apiKeyId ? { 'api key': result.apiKeyId } : {}),
      permissions: result.permissions.join(', '),
      expires: result.expiresAt ?? 'never',
    })
    return result
  }

  private local(): WhoamiResult {
    return {
      door: 'local',
      actor: localActor(),
      environment: this.envName,
      database: this.databaseShown(),
      server: null,
      credentials: 'os-user',
      user: null,
      apiKeyId: null,
      permissions: ['*'],
      expiresAt: null,
    }
  }

  private async remote(server: string): Promise<WhoamiResult> {
    const auth = await buildAuthApi(server, this.flags as RemoteFlags, { auth: 'stored' })
    const me = await auth.me()
    return {
      door: 'remote',
      actor: me.actor,
      environment: this.envName,
      database: null,
      server,
      credentials: await credentialsUsed(server),
      user: me.user,
      apiKeyId: me.apiKeyId,
      permissions: me.permissions,
      expiresAt: me.expiresAt,
    }
  }
}

/** Which credentials a remote run sends, in the order the client picks them (src/client/credential-source.ts). */
async function credentialsUsed(server: string): Promise<WhoamiResult['credentials']> {
  if (process.env.GANTRY_API_KEY) return 'GANTRY_API_KEY'
  if (process.env.GANTRY_TOKEN) return 'GANTRY_TOKEN'
  const stored = await (await credentialsStore()).get(server)
  return stored?.kind === 'apiKey' ? 'login-api-key' : 'login'
}
