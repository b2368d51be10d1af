import { enumFlag } from '../../src/cli/flags.js'
import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { describeRule } from '../../src/cli/ratelimit-output.js'
import { onStoreErrorSchema, ruleKeySchema, ruleViewSchema, type RuleView } from '../../src/core/ratelimits/ratelimits.schema.js'

export default class RatelimitSet extends AdminCommand<typeof RatelimitSet> {
  static override summary = 'Create a rate-limit rule, or change some of its fields; every server applies it within a second.'
  static override description = [
    'A rule admits `--limit` requests per `--window` sustained, and at most `--burst` at once (default: the limit); over any window a key gets at most limit + burst (GCRA). It counts per --key: ip (client address), user (signed-in user), apiKey (API key) or global (everyone at once).',
    'For an existing rule only the flags given change. A new rule is checked after the existing ones; `gantry ratelimit apply` sets the order. The name "default" replaces the environment default from the config (start from it: `gantry ratelimit set default --limit 200`).',
    '--shadow tries a rule on live traffic: it counts what it would refuse (ratelimit list, /metrics) and refuses nothing; --enforce makes it refuse. --on-store-error says what happens while Redis cannot answer: open (admit, the default), closed (refuse with 503), local (each instance decides from its own memory).',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> ratelimit set api --match "* /api/*" --limit 100 --window 1m --burst 20',
    '<%= config.bin %> ratelimit set login-burst --match "POST /api/v1/auth/login" --key global --limit 1000 --window 1m --shadow',
    '<%= config.bin %> ratelimit set per-user --match "* /api/v1/admin/*" --key user --limit 600 --window 1h --on-store-error closed',
    '<%= config.bin %> ratelimit set default --limit 200 -e production',
  ]
  static override args = { name: Args.string({ description: 'The rule name: letters, digits, ".", "_" and "-".', required: true }) }
  static override flags = {
    match: Flags.string({ summary: 'Which requests: "METHOD /path" on the normalised path, * for any run ("* /api/*").' }),
    key: enumFlag(ruleKeySchema, 'What it counts by.'),
    limit: Flags.integer({ summary: 'Requests per window, sustained.', min: 1 }),
    window: Flags.string({ summary: 'The window, 1s to 24h: 1m, 15m, 1h.' }),
    burst: Flags.integer({ summary: 'At most this many at once (default for a new rule: the limit).', min: 1 }),
    shadow: Flags.boolean({ summary: 'Count and report what it would refuse; refuse nothing.', exclusive: ['enforce'] }),
    enforce: Flags.boolean({ summary: 'Refuse what is over the limit (the default for a new rule).', exclusive: ['shadow'] }),
    'on-store-error': enumFlag(onStoreErrorSchema, 'While Redis cannot answer.'),
    disable: Flags.boolean({ summary: 'Keep the rule but stop applying it.', exclusive: ['enable'] }),
    enable: Flags.boolean({ summary: 'Apply a disabled rule again.', exclusive: ['disable'] }),
  }
  static override resultSchema = ruleViewSchema

  async run(): Promise<RuleView> {
    const f = this.flags
    const rule = await this.call(
      'ratelimits.set',
      { name: this.args.name },
      {
        match: f.match,
        key: f.key,
        limit: f.limit,
        window: f.window,
        burst: f.burst,
        mode: f.shadow ? 'shadow' : f.enforce ? 'enforce' : undefined,
        onStoreError: f['on-store-error'],
        enabled: f.disable ? false : f.enable ? true : undefined,
      },
    )
    this.ui.out(`Rule ${describeRule(rule)}. Every server applies it within a second.`)
    return rule
  }
}
