import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { printTest } from '../../src/cli/ratelimit-output.js'
import { testResultSchema, type TestResult } from '../../src/core/ratelimits/ratelimits.schema.js'

export default class RatelimitTest extends AdminCommand<typeof RatelimitTest> {
  static override summary = 'Say what the rate limits would do with a request, rule by rule, and which rule decides; spends nothing.'
  static override description =
    "Each rule in the order the server checks them: whether it covers the request (and why not), the figures that apply (an override's, if any) and, from the store's current state, whether it would admit and how many more it would admit at once. With Redis the state is every server's; without, this process starts empty. Exit 0 whatever the answer; read \"allowed\" in --json."
  static override examples = [
    '<%= config.bin %> ratelimit test --method POST --path /api/v1/auth/login --ip 203.0.113.7 --user ada@example.com',
    '<%= config.bin %> ratelimit test --path /api/v1/admin/users --api-key 3hQ9xK2mP1 -e production --json',
  ]
  static override flags = {
    method: Flags.string({ summary: 'The request method.', default: 'GET' }),
    path: Flags.string({ summary: 'The request path.', required: true }),
    ip: Flags.string({ summary: 'The client address.', default: '127.0.0.1' }),
    user: Flags.string({ summary: 'The signed-in user (email); for a login, the account.' }),
    'api-key': Flags.string({ summary: 'The API key id the request presents.' }),
  }
  static override resultSchema = testResultSchema

  async run(): Promise<TestResult> {
    const f = this.flags
    const result = await this.call('ratelimits.test', { method: f.method, path: f.path, ip: f.ip, user: f.user, apiKey: f['api-key'] })
    printTest(this.ui, result)
    return result
  }
}
