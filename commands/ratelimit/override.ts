import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { overrideViewSchema, removeOverrideResultSchema, type OverrideView } from '../../src/core/ratelimits/ratelimits.schema.js'
import { z } from 'zod'

const resultSchema = z.union([overrideViewSchema, removeOverrideResultSchema])

export default class RatelimitOverride extends AdminCommand<typeof RatelimitOverride> {
  static override summary = 'Give one address, user or API key its own rate limit, or block it; --remove takes the override away.'
  static override description = [
    'SUBJECT is ip:ADDRESS, user:EMAIL, apikey:KEYID or client:CLIENTID (an OAuth client, for the token rule oauth-token-client). The override applies to --rule NAME, or (default) to every rule that counts by that kind of subject, the login rules included: blocking an address blocks its logins too.',
    "With --limit and --window (and --burst, default the limit) the subject gets those figures instead of the rule's: a plan for a customer. With --block every request it makes under those rules is refused (429, Retry-After until the override expires): a block for an abuser. --expires ends it by itself.",
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> ratelimit override apikey:3hQ9xK2mP1 --limit 5000 --window 1m --reason "enterprise plan"',
    '<%= config.bin %> ratelimit override ip:203.0.113.7 --block --expires 24h --reason "credential stuffing"',
    '<%= config.bin %> ratelimit override user:ada@example.com --rule per-user --limit 60 --window 1m',
    '<%= config.bin %> ratelimit override ip:203.0.113.7 --remove',
  ]
  static override args = { subject: Args.string({ description: 'ip:ADDRESS, user:EMAIL, apikey:KEYID or client:CLIENTID.', required: true }) }
  static override flags = {
    rule: Flags.string({ summary: 'The rule it changes (default: every rule counting by that kind of subject).', default: '*' }),
    limit: Flags.integer({ summary: 'Requests per window for this subject.', min: 1, exclusive: ['block', 'remove'] }),
    window: Flags.string({ summary: 'Its window: 1m, 1h …', exclusive: ['block', 'remove'] }),
    burst: Flags.integer({ summary: 'At most this many at once (default: the limit).', min: 1, exclusive: ['block', 'remove'] }),
    block: Flags.boolean({ summary: 'Refuse every request of this subject under those rules.', exclusive: ['remove'] }),
    expires: Flags.string({ summary: 'End the override after this long: 24h, 7d.', exclusive: ['remove'] }),
    reason: Flags.string({ summary: 'Why (shown in lists and the audit log).', exclusive: ['remove'] }),
    remove: Flags.boolean({ summary: 'Remove the override of SUBJECT (and --rule).' }),
  }
  static override resultSchema = resultSchema

  async run(): Promise<z.infer<typeof resultSchema>> {
    const f = this.flags
    if (f.remove) {
      const result = await this.call('ratelimits.removeOverride', { subject: this.args.subject, rule: f.rule })
      this.ui.out(`Removed the override of ${result.removed.subject} (${result.removed.rule === '*' ? 'every rule' : `rule ${result.removed.rule}`}).`)
      return result
    }
    const override: OverrideView = await this.call('ratelimits.override', {
      subject: this.args.subject,
      rule: f.rule,
      limit: f.limit,
      window: f.window,
      burst: f.burst,
      block: f.block,
      expires: f.expires,
      reason: f.reason,
    })
    const what = override.blocked ? 'blocked' : `${override.limit} per ${override.window}, burst ${override.burst}`
    this.ui.out(
      `${override.subject}: ${what} under ${override.rule === '*' ? 'every rule of its kind' : `rule ${override.rule}`}${override.expiresAt ? ` until ${override.expiresAt}` : ''}.`,
    )
    return override
  }
}
