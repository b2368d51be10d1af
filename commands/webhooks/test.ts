import { Args } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { testResultSchema, type TestResult } from '../../src/core/webhooks/webhooks.schema.js'

export default class WebhooksTest extends AdminCommand<typeof WebhooksTest> {
  static override summary = 'Send a webhook.test event to an endpoint now and print its answer.'
  static override description =
    'Signed with the current secret (and the previous one during a grace period), sent at once, even to a switched-off endpoint; nothing is queued or retried. Exits 1 when the receiver does not answer 2xx (no answer, a redirect, an error status), after printing what happened and the start of its answer; --json prints the result with ok false.'
  static override examples = ['<%= config.bin %> webhooks test ep_3hQ9xK2mP1bW7cT4vN8sLd', '<%= config.bin %> webhooks test ep_3hQ9xK2mP1bW7cT4vN8sLd --json']
  static override args = { id: Args.string({ description: 'The endpoint id (see `gantry webhooks list`).', required: true }) }
  static override resultSchema = testResultSchema

  async run(): Promise<TestResult> {
    const result = await this.call('webhooks.test', { id: this.args.id })
    const answer = result.ok ? `Delivered: HTTP ${result.statusCode}` : `Failed: ${result.error ?? `HTTP ${result.statusCode}`}`
    this.ui.out(`${answer} in ${result.latencyMs} ms`)
    if (result.responseExcerpt) this.ui.out(`Response: ${result.responseExcerpt}`)
    if (!result.ok) process.exitCode = 1
    return result
  }
}
