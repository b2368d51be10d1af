/** What the receiver answered a test event. */
import type { TestResult } from '../../../../src/core/webhooks/webhooks.schema.js'

export function TestOutcome({ url, result }: { url: string; result: TestResult }) {
  return (
    <div class={`note ${result.ok ? 'ok' : 'error'}`} role="status">
      <strong>
        Test event to <code>{url}</code>: {result.ok ? 'accepted' : 'failed'}
      </strong>
      <div>
        {result.statusCode !== null ? `HTTP ${result.statusCode}` : 'no answer'} in {result.latencyMs} ms
        {result.error ? ` — ${result.error}` : ''}
      </div>
      <div class="muted">
        webhook-id <code>{result.messageId}</code>
      </div>
      {result.responseExcerpt ? <pre>{result.responseExcerpt}</pre> : null}
    </div>
  )
}
