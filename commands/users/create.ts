import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { askSecret, readSecretFromStdin } from '../../src/cli/prompts.js'
import { userWithPasswordSchema, type UserWithPassword } from '../../src/core/users/users.schema.js'

export default class UsersCreate extends AdminCommand<typeof UsersCreate> {
  static override summary = 'Create a user.'
  static override description =
    'The password comes from a hidden prompt on a terminal, from stdin with --password-stdin (for CI: the first admin can be created headless), or is generated with --generate-password and printed once. Emails are trimmed and lower-cased; a duplicate exits 1.'
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
    const password = generatePassword
      ? undefined
      : this.flags['password-stdin']
        ? await readSecretFromStdin('password-stdin')
        : await askSecret({ message: 'Password', flag: 'password-stdin', json: this.jsonEnabled() })
    const result = await this.call('users.create', { email, name, role, password, generatePassword })
    this.ui.out(`Created ${result.user.email} (${result.user.role}, id ${result.user.id}).`)
    if (result.password) this.ui.out(`Password (shown once): ${result.password}`)
    return result
  }
}
