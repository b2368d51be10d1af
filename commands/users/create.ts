import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { askSecret, canPrompt, readSecretFromStdin } from '../../src/cli/prompts.js'
import { isGantryError } from '../../src/core/errors.js'
import { parseInput } from '../../src/core/pagination.js'
import { newUserFieldsSchema, userWithPasswordSchema, type UserWithPassword } from '../../src/core/users/users.schema.js'
import { userExists } from '../../src/core/users/users.service.js'

export default class UsersCreate extends AdminCommand<typeof UsersCreate> {
  static override summary = 'Create a user.'
  static override description =
    'The password comes from a hidden prompt on a terminal, from stdin with --password-stdin (for CI: the first admin can be created headless), or is generated with --generate-password and printed once. Emails are trimmed and lower-cased; a duplicate exits 1. ' +
    'Every flag is checked before the password is asked for, and a password the policy refuses is asked for again.'
  static override examples = [
    '<%= config.bin %> users create --email ada@example.com --name "Ada Lovelace" --role admin',
    `$ printf '%s' "$ADMIN_PASSWORD" | <%= config.bin %> users create --email ci@example.com --role admin --password-stdin --json`,
    '<%= config.bin %> users create --email bob@example.com --role viewer --generate-password',
  ]
  static override flags = {
    email: Flags.string({ summary: 'Email address (the login name).', required: true }),
    name: Flags.string({ summary: 'Display name.', default: '' }),
    role: Flags.string({ summary: 'Role name (see `gantry roles list`).', default: 'viewer' }),
    'password-stdin': Flags.boolean({ summary: 'Read the password from stdin.', exclusive: ['generate-password'] }),
    'generate-password': Flags.boolean({ summary: 'Generate a password and print it once.', exclusive: ['password-stdin'] }),
  }
  static override resultSchema = userWithPasswordSchema

  async run(): Promise<UserWithPassword> {
    const { email, name, role } = this.flags
    const generatePassword = this.flags['generate-password']
    // The flags' shapes, judged the way the service will, before anyone reads or types a password.
    parseInput(newUserFieldsSchema, { email, name, role })
    const create = (password: string | undefined) => this.call('users.create', { email, name, role, password, generatePassword })
    let result: UserWithPassword
    if (generatePassword) result = await create(undefined)
    else if (this.flags['password-stdin']) result = await create(await readSecretFromStdin('password-stdin'))
    else result = await this.createAsking(email, role, create)
    this.ui.out(`Created ${result.user.email} (${result.user.role}, id ${result.user.id}).`)
    if (result.password) this.ui.out(`Password (shown once): ${result.password}`)
    return result
  }

  /**
   * Asks for the password at a terminal and creates the user, asking again while the password policy refuses
   * the password. A taken email or an unknown role is reported first, so no password is typed in vain.
   */
  private async createAsking(email: string, role: string, create: (password: string) => Promise<UserWithPassword>): Promise<UserWithPassword> {
    const json = this.jsonEnabled()
    if (canPrompt(json)) await this.refuseKnownConflicts(email, role)
    for (;;) {
      const password = await askSecret({ message: 'Password', flag: 'password-stdin', json })
      try {
        return await create(password)
      } catch (err) {
        if (!isGantryError(err) || err.code !== 'PASSWORD_POLICY') throw err
        this.ui.warn(`${err.message} Pick another.`)
      }
    }
  }

  /**
   * Whether the email is taken or the role unknown, as far as the actor may read them: a check it may not
   * make (no users:read or roles:read) is left to the create itself, which judges everything again.
   */
  private async refuseKnownConflicts(email: string, role: string): Promise<void> {
    const admin = await this.admin()
    const existing = await admin.call('users.get', { email }).catch(unlessForbiddenOr('USER_NOT_FOUND'))
    if (existing) throw userExists(email)
    await admin.call('roles.get', { name: role }).catch(unlessForbiddenOr())
  }
}

/** A catch handler that swallows FORBIDDEN (and the codes given) and rethrows anything else. */
function unlessForbiddenOr(...codes: string[]) {
  return (err: unknown): undefined => {
    if (isGantryError(err) && (err.code === 'FORBIDDEN' || codes.includes(err.code))) return undefined
    throw err
  }
}
