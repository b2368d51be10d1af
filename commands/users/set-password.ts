import { Args, Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { askSecret, readSecretFromStdin } from '../../src/cli/prompts.js'
import { userWithPasswordSchema, type UserWithPassword } from '../../src/core/users/users.schema.js'

export default class UsersSetPassword extends AdminCommand<typeof UsersSetPassword> {
  static override summary = "Set a user's password; every session of the user ends."
  static override description = 'From a hidden prompt on a terminal, from stdin with --password-stdin, or generated with --generate-password and printed once.'
  static override examples = [
    '<%= config.bin %> users set-password ada@example.com',
    `$ printf '%s' "$NEW_PASSWORD" | <%= config.bin %> users set-password ada@example.com --password-stdin`,
    '<%= config.bin %> users set-password ada@example.com --generate-password --json',
  ]
  static override args = { email: Args.string({ description: 'Email of the user.', required: true }) }
  static override flags = {
    'password-stdin': Flags.boolean({ summary: 'Read the password from stdin.', exclusive: ['generate-password'] }),
    'generate-password': Flags.boolean({ summary: 'Generate a password and print it once.', exclusive: ['password-stdin'] }),
  }
  static override resultSchema = userWithPasswordSchema

  async run(): Promise<UserWithPassword> {
    const generatePassword = this.flags['generate-password']
    const password = generatePassword
      ? undefined
      : this.flags['password-stdin']
        ? await readSecretFromStdin('password-stdin')
        : await askSecret({ message: 'New password', flag: 'password-stdin', json: this.jsonEnabled() })
    const result = await this.call('users.setPassword', { email: this.args.email }, { password, generatePassword })
    this.ui.out(`Password set for ${result.user.email}; their sessions have ended.`)
    if (result.password) this.ui.out(`Password (shown once): ${result.password}`)
    return result
  }
}
