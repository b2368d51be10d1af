import { AdminCommand } from '../../src/cli/admin-command.js'
import { resealResultSchema, type ResealResult } from '../../src/core/webhooks/webhooks.schema.js'

export default class KeysRotateEncryption extends AdminCommand<typeof KeysRotateEncryption> {
  static override summary = 'Seal every secret at rest again under the first key of GANTRY_ENCRYPTION_KEY.'
  static override description =
    'To replace the data key: put the new key first in GANTRY_ENCRYPTION_KEY and keep the old one after it, comma-separated (new,old), restart the servers, run this, then drop the old key. Secrets already under the first key are left as they are, so running it twice changes nothing. Webhook signing secrets are what is sealed today.'
  static override examples = ['<%= config.bin %> keys rotate-encryption -e production', '<%= config.bin %> keys rotate-encryption --json']
  static override resultSchema = resealResultSchema

  async run(): Promise<ResealResult> {
    const result = await this.call('keys.rotate-encryption')
    this.ui.out(`Sealed ${result.resealed} of ${result.endpoints} endpoints' secrets again under data key ${result.keyId}; the others already were.`)
    return result
  }
}
