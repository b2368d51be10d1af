import { AdminCommand } from '../../../src/cli/admin-command.js'
import { signingKeyListSchema, type SigningKeyList } from '../../../src/core/sessions/signing-keys.schema.js'

export default class TokensKeysList extends AdminCommand<typeof TokensKeysList> {
  static override summary = 'List the EdDSA token signing keys: the current one and the previous ones that still verify.'
  static override description =
    'Needs auth.algorithm EdDSA. Shows key ids and dates, never key material. A previous key verifies the tokens it signed, and stays in the JWKS, until VERIFIES UNTIL.'
  static override examples = ['<%= config.bin %> tokens keys list', '<%= config.bin %> tokens keys list -e production --json']
  static override resultSchema = signingKeyListSchema

  async run(): Promise<SigningKeyList> {
    const list = await this.call('tokens.keys.list')
    this.ui.table(
      list.data,
      [
        ['kid', 'KID'],
        ['state', 'STATE'],
        ['createdAt', 'CREATED'],
        ['retiredAt', 'RETIRED'],
        ['verifiesUntil', 'VERIFIES UNTIL'],
      ],
      { empty: 'No key yet: the first token signed makes one, or run `gantry tokens keys rotate`.' },
    )
    return list
  }
}
