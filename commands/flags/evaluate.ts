import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { parseAttributes } from '../../src/cli/flags-input.js'
import { printExplanation } from '../../src/cli/flags-output.js'
import { explainResultSchema, type ExplainResult } from '../../src/core/flags/flags.schema.js'

export default class FlagsEvaluate extends AdminCommand<typeof FlagsEvaluate> {
  static override summary = 'Evaluate a flag for a user or context, and say which rule decided and why the ones before it did not.'
  static override description =
    "The context is what an app passes: --user (the targeting key, userId), --email, --role, --ip, and any attribute with --attr name=value. --user with an email looks the user up: its id, email, role and the role's permissions fill the context (the other flags still override them). Nothing is recorded; the answer is what every server serves for that context now."
  static override examples = [
    '<%= config.bin %> flags evaluate new-checkout --user ada@example.com',
    '<%= config.bin %> flags evaluate new-checkout --user 42 --email ada@example.com --role operator',
    '<%= config.bin %> flags evaluate new-checkout --user 42 --attr plan=pro --attr appVersion=2.3.0 --json',
  ]
  static override args = { key: Args.string({ description: 'The flag key.', required: true }) }
  static override flags = {
    user: Flags.string({ summary: "The user id (the targeting key rollouts bucket by), or a user's email to look them up." }),
    email: Flags.string({ summary: 'The email (emailDomain is derived from it).' }),
    role: Flags.string({ summary: 'The role.' }),
    ip: Flags.string({ summary: 'The client address.' }),
    attr: Flags.string({ summary: 'Any other attribute as name=value (repeatable).', multiple: true }),
  }
  static override resultSchema = explainResultSchema

  async run(): Promise<ExplainResult> {
    const { user, email, role, ip, attr } = this.flags
    const known = user?.includes('@') ? await this.userContext(user) : defined({ userId: user })
    const context = { ...parseAttributes(attr ?? []), ...known, ...defined({ email, role, ip }) }
    const result = await this.call('flags.explain', { key: this.args.key }, { context })
    printExplanation(this.ui, result)
    return result
  }

  /** What an app would pass for this user: the id (the targeting key), email, role and the role's permissions. */
  private async userContext(email: string): Promise<Record<string, string | string[]>> {
    const found = await this.call('users.get', { email })
    const role = await this.call('roles.get', { name: found.role })
    return { userId: String(found.id), email: found.email, role: found.role, permissions: role.permissions }
  }
}

const defined = (fields: Record<string, string | undefined>): Record<string, string> =>
  Object.fromEntries(Object.entries(fields).filter((entry): entry is [string, string] => entry[1] !== undefined))
