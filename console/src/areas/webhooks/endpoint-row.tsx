/** An endpoint's row: its URL, events and state, and what may be done to it. */
import type { Endpoint, TestResult } from '../../../../src/core/webhooks/webhooks.schema.js'
import { call } from '../../api.js'
import { actor, type Action, type Confirm } from '../../ui/hooks.js'
import { Gate, Time } from '../../ui/parts.js'
import { EndpointState } from './endpoint-state.js'

export function EndpointRow({
  endpoint,
  action,
  confirm,
  onOpen,
  onSecret,
  onTested,
  onChange,
  onDeleted,
}: {
  endpoint: Endpoint
  action: Action
  confirm: Confirm
  onOpen: () => void
  onSecret: (secret: string) => void
  onTested: (result: TestResult) => void
  onChange: () => void
  onDeleted: () => void
}) {
  const target = { id: endpoint.id }
  const { url } = endpoint
  const act = actor(action, confirm, onChange)
  const remove = (): Promise<unknown> =>
    actor(action, confirm, onDeleted)(
      `Delete the webhook endpoint ${url} and its delivery history? This cannot be undone.`,
      `Delete ${url}`,
      () => call('webhooks.delete', target),
      `${url} is deleted.`,
    )
  return (
    <tr>
      <th scope="row">
        <code>{url}</code>
      </th>
      <td>{endpoint.description || <span class="muted">—</span>}</td>
      <td>
        {endpoint.eventTypes.map((t) => (
          <div key={t}>
            <code>{t}</code>
          </div>
        ))}
      </td>
      <td>
        <EndpointState endpoint={endpoint} />
      </td>
      <td>
        <Time at={endpoint.createdAt} />
        <div class="muted">by {endpoint.createdBy}</div>
      </td>
      <td class="row-actions">
        <button type="button" onClick={onOpen}>
          Deliveries<span class="sr-only"> to {url}</span>
        </button>
        <Gate permission="webhooks:write">
          <button
            type="button"
            onClick={() =>
              void act(
                undefined,
                'Send a test event',
                () => call('webhooks.test', target),
                // A refused test is no success: the red box below (onTested) says what the endpoint answered.
                (r) => (r.ok ? `The test event to ${url} was accepted.` : ''),
              ).then((r) => r && onTested(r))
            }
          >
            Send test event<span class="sr-only"> to {url}</span>
          </button>
          {endpoint.enabled ? (
            <button
              type="button"
              onClick={() =>
                void act(
                  `Disable the endpoint ${url}? Its pending deliveries fail until it is enabled again.`,
                  'Disable',
                  () => call('webhooks.disable', target),
                  `${url} is disabled.`,
                )
              }
            >
              Disable<span class="sr-only"> {url}</span>
            </button>
          ) : (
            <button
              type="button"
              onClick={() => void act(undefined, 'Enable', () => call('webhooks.enable', target), `${url} is enabled; its failure count starts again.`)}
            >
              Enable<span class="sr-only"> {url}</span>
            </button>
          )}
          <button
            type="button"
            onClick={() =>
              void act(
                `Rotate the signing secret of ${url}? The current secret keeps signing beside the new one for 24 hours.`,
                'Rotate secret',
                () => call('webhooks.rotate-secret', target, { grace: '24h' }),
                `The signing secret of ${url} is rotated.`,
              ).then((r) => r && onSecret(r.secret))
            }
          >
            Rotate secret<span class="sr-only"> of {url}</span>
          </button>
          <button type="button" class="danger" onClick={() => void remove()}>
            Delete<span class="sr-only"> {url}</span>
          </button>
        </Gate>
      </td>
    </tr>
  )
}
