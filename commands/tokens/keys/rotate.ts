import { AdminCommand } from '../../../src/cli/admin-command.js'
import { rotatedSigningKeySchema, type RotatedSigningKey } from '../../../src/core/sessions/signing-keys.schema.js'

export default class TokensKeysRotate extends AdminCommand<typeof TokensKeysRotate> {
  static override summary = 'Make a new EdDSA token signing key; the current one retires but keeps verifying its tokens.'
  static override description =
    'Needs auth.algorithm EdDSA and the environment’s GANTRY_AUTH_SECRET (private keys are stored sealed under it). New tokens carry the new kid at once; running servers pick it up within a second. The retired key stays in the JWKS until every token it signed has expired (auth.maxTokenTtl, 24 hours by default).'
  static override examples = ['<%= config.bin %> tokens keys rotate', '<%= config.bin %> tokens keys rotate -e production --json']
  static override resultSchema = rotatedSigningKeySchema

  async run(): Promise<RotatedSigningKey> {
    const rotated = await this.call('tokens.keys.rotate')
    this.ui.out(`New signing key ${rotated.current.kid}.`)
    if (rotated.previous) this.ui.out(`Retired ${rotated.previous.kid}; it verifies its tokens until ${rotated.previous.verifiesUntil ?? 'now'}.`)
    return rotated
  }
}
