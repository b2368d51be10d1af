/** An endpoint's deliveries, newest first: filtered by status, paged, a failed one redelivered. */
import type { OperationResult } from '../../../../src/admin/operations/index.js'
import type { Delivery, DeliveryStatus } from '../../../../src/core/webhooks/webhooks.schema.js'
import { call } from '../../api.js'
import { Form, SelectField } from '../../ui/fields.js'
import type { Action, Loaded } from '../../ui/hooks.js'
import { Pager, type CursorPages } from '../../ui/paging.js'
import { ErrorNote, Gate, Time } from '../../ui/parts.js'
import { Table } from '../../ui/table.js'

const STATUSES: readonly DeliveryStatus[] = ['pending', 'succeeded', 'failed', 'skipped']
const STATUS_BADGE: Record<DeliveryStatus, string> = { pending: 'shadow', succeeded: 'pass', failed: 'fail', skipped: 'warn' }

export function Deliveries({
  url,
  page,
  pages,
  status,
  onStatus,
  action,
}: {
  url: string
  page: Loaded<OperationResult<'webhooks.deliveries'>>
  pages: CursorPages
  status: DeliveryStatus | ''
  onStatus: (status: DeliveryStatus | '') => void
  action: Action
}) {
  return (
    <>
      <h3>Deliveries</h3>
      <Form class="filters">
        <SelectField label="Status" value={status} onValue={onStatus} choices={[{ value: '', text: 'any' }, ...STATUSES]} />
        <button type="button" onClick={page.reload} disabled={page.loading}>
          Refresh
        </button>
      </Form>
      <ErrorNote error={page.error} />
      <Table
        busy={page.loading}
        caption={
          <>
            Deliveries to {url}, newest first{status ? `, ${status}` : ''}
            {pages.captionSuffix}
          </>
        }
        columns={['Created', 'Event', 'Status', 'Attempts', 'Response', 'Next attempt', 'Actions']}
      >
        {page.data?.data.map((delivery) => (
          <DeliveryRow key={delivery.id} delivery={delivery} action={action} onChange={page.reload} />
        ))}
      </Table>
      {page.data && page.data.data.length === 0 ? <p class="muted">No delivery{status ? ` ${status}` : ''}.</p> : null}
      <Pager of="deliveries" pages={pages} next={page.data?.nextCursor} />
    </>
  )
}

function DeliveryRow({ delivery, action, onChange }: { delivery: Delivery; action: Action; onChange: () => void }) {
  const last = delivery.lastAttempt
  const code = delivery.lastStatus ?? last?.statusCode ?? null
  const reported = delivery.lastError ?? last?.error ?? null
  // A failed answer's error is "HTTP 500" when there is nothing more to say: the code is shown already.
  const error = reported === `HTTP ${code}` ? null : reported
  return (
    <tr>
      <td>
        <Time at={delivery.createdAt} />
      </td>
      <th scope="row">
        <code>{delivery.eventType}</code>
        <div class="muted">
          #{delivery.id} · <code>{delivery.messageId}</code>
        </div>
      </th>
      <td>
        <span class={`badge ${STATUS_BADGE[delivery.status]}`}>{delivery.status}</span>
      </td>
      <td>{delivery.attempts}</td>
      <td>
        {code !== null ? `HTTP ${code}` : delivery.attempts > 0 ? <span class="muted">no answer</span> : <span class="muted">—</span>}
        {last ? <div class="muted">{last.latencyMs} ms</div> : null}
        {error ? <div>{error}</div> : null}
        {last?.responseExcerpt ? (
          <details>
            <summary>Response</summary>
            <pre>{last.responseExcerpt}</pre>
          </details>
        ) : null}
      </td>
      <td>
        <Time at={delivery.nextAttemptAt} />
      </td>
      <td class="row-actions">
        {delivery.status === 'failed' || delivery.status === 'skipped' ? (
          <Gate permission="webhooks:write">
            <button
              type="button"
              disabled={action.busy}
              onClick={() =>
                void action
                  .run(() => call('webhooks.redeliver', { deliveryId: String(delivery.id) }), `Delivery #${delivery.id} is queued again.`)
                  .then((d) => d && onChange())
              }
            >
              Redeliver<span class="sr-only"> delivery {delivery.id}</span>
            </button>
          </Gate>
        ) : null}
      </td>
    </tr>
  )
}
