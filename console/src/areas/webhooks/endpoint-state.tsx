/** An endpoint's state: enabled or not (and why), failing since when, a previous secret still signing. */
import type { Endpoint } from '../../../../src/core/webhooks/webhooks.schema.js'
import { Time } from '../../ui/parts.js'

export function EndpointState({ endpoint }: { endpoint: Endpoint }) {
  return (
    <>
      <span class={`badge ${endpoint.enabled ? 'pass' : 'warn'}`}>{endpoint.enabled ? 'enabled' : 'disabled'}</span>
      {endpoint.failingSince ? (
        <span class="badge fail">
          failing since <Time at={endpoint.failingSince} />
        </span>
      ) : null}
      {!endpoint.enabled && endpoint.disabledReason ? <div class="muted">{endpoint.disabledReason}</div> : null}
      {endpoint.previousSecretUntil && Date.parse(endpoint.previousSecretUntil) > Date.now() ? (
        <div class="muted">
          previous secret signs too until <Time at={endpoint.previousSecretUntil} />
        </div>
      ) : null}
    </>
  )
}
