import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { formatCount } from '../../src/cli/format.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { deleteUserResultSchema, type DeleteUserResult } from '../../src/core/users/users.schema.js'

export default class UsersDelete extends AdminCommand<typeof UsersDelete> {
  static override summary = 'Delete a user, their sessions and API keys.'
  static override description = [
    'The last active admin cannot be deleted (exit 1). At a terminal it asks first (--yes skips that); in a protected environment it needs --force (or the environment name typed at a prompt). `gantry users disable` keeps the user and their history.',
    '--erase (right to erasure) also replaces every email and name the user had, in the audit log, webhook messages and wherever else Gantry wrote them, with a random pseudonym (erased-…), and records the erasure in a ledger that `gantry db restore` re-applies, so a backup cannot bring them back. It is audited as users.erased, without the email. Erasing needs the users:erase permission besides users:write (admin holds it; operator and viewer do not).',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> users delete bob@example.com',
    '<%= config.bin %> users delete bob@example.com -e production --force',
    '<%= config.bin %> users delete bob@example.com --erase --yes',
  ]
  static override args = { email: Args.string({ description: 'Email of the user.', required: true }) }
  static override flags = {
    erase: Flags.boolean({ summary: 'Also pseudonymise every trace of them (audit log, webhook messages …) and record the erasure in the ledger.' }),
    force: sharedFlags.force,
    yes: sharedFlags.yes,
  }
  static override resultSchema = deleteUserResultSchema

  async run(): Promise<DeleteUserResult> {
    const result = await this.call('users.delete', { email: this.args.email }, this.flags.erase ? { erase: true } : {})
    const { erased } = result
    if (!erased) {
      this.ui.out(`Deleted ${result.deleted.email}.`)
      return result
    }
    this.ui.out(
      `Erased ${result.deleted.email}: now ${erased.pseudonym} in ${formatCount(erased.auditEntries)} audit entr${erased.auditEntries === 1 ? 'y' : 'ies'} and ${formatCount(erased.webhookMessages)} webhook message(s).`,
    )
    if (erased.flagsNaming.length > 0) this.ui.warn(`Still naming the email (not rewritten, edit them): ${erased.flagsNaming.join(', ')}.`)
    return result
  }
}
