import { AdminCommand } from '../../src/cli/admin-command.js'
import { printRules } from '../../src/cli/ratelimit-output.js'
import { rateLimitListSchema, type RateLimitList } from '../../src/core/ratelimits/ratelimits.schema.js'

export default class RatelimitList extends AdminCommand<typeof RatelimitList> {
  static override summary = 'List the rate-limit rules in the order they are checked, with what each decided, and the overrides.'
  static override description = [
    'First the built-in login rules (per address and per account, before the password hash), then the chain every request meets: the environment default from the config (unless a stored rule named "default" replaces it) and the stored rules, in order.',
    'ADMITTED, REFUSED, SHADOW (refusals a shadow rule would have made) and ERRORS (store failures) add up every running instance; each flushes its counts every 5 s.',
  ].join('\n\n')
  static override examples = ['<%= config.bin %> ratelimit list', '<%= config.bin %> ratelimit list -e production --json']
  static override resultSchema = rateLimitListSchema

  async run(): Promise<RateLimitList> {
    const list = await this.call('ratelimits.list')
    printRules(this.ui, list)
    return list
  }
}
