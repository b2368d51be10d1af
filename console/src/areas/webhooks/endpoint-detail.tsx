/** One endpoint opened below the list: its details, changes to it, and its deliveries. */
import { useState } from 'preact/hooks'
import type { DeliveryStatus, Endpoint } from '../../../../src/core/webhooks/webhooks.schema.js'
import { call } from '../../api.js'
import { Form, SelectField } from '../../ui/fields.js'
import { actor, useAction, useLoad, type Confirm } from '../../ui/hooks.js'
import { useCursorPages } from '../../ui/paging.js'
import { Gate, OpenedCard, Outcome, SecretOnce, Time } from '../../ui/parts.js'
import { Deliveries } from './deliveries.js'
import { EditEndpoint } from './endpoint-forms.js'
import { EndpointState } from './endpoint-state.js'

const PAGE = 25
/** How long the current secret keeps signing beside a rotated one. */
const GRACES = [
  { value: '24h', text: '24 hours' },
  { value: '1h', text: '1 hour' },
  { value: '7d', text: '7 days' },
  { value: '0s', text: 'no time: stop at once' },
]
/** How far back a replay requeues failed deliveries. */
const REPLAY_SPANS = [
  { value: '1h', text: 'hour' },
  { value: '24h', text: '24 hours' },
  { value: '7d', text: '7 days' },
]

export function EndpointDetail({ endpoint, confirm, onChange, onClose }: { endpoint: Endpoint; confirm: Confirm; onChange: () => void; onClose: () => void }) {
  const [status, setStatus] = useState<DeliveryStatus | ''>('')
  const pages = useCursorPages()
  const { cursor } = pages
  const target = { id: endpoint.id }
  const page = useLoad(
    () => call('webhooks.deliveries', target, { limit: PAGE, ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) }),
    [endpoint.id, status, cursor],
  )
  const action = useAction()
  const [secret, setSecret] = useState<string>()
  const [grace, setGrace] = useState('24h')
  const [since, setSince] = useState('1h')

  return (
    <OpenedCard
      labelId="endpoint-detail"
      title={
        <>
          Endpoint <code>{endpoint.url}</code>
        </>
      }
    >
      <div>
        <EndpointState endpoint={endpoint} />
      </div>
      <dl>
        <dt>Id</dt>
        <dd>
          <code>{endpoint.id}</code>
        </dd>
        <dt>Description</dt>
        <dd>{endpoint.description || <span class="muted">—</span>}</dd>
        <dt>Events</dt>
        <dd>
          <code>{endpoint.eventTypes.join(' ')}</code>
        </dd>
        <dt>Created</dt>
        <dd>
          <Time at={endpoint.createdAt} /> by {endpoint.createdBy} (whose read permissions bound what it receives)
        </dd>
        <dt>Updated</dt>
        <dd>
          <Time at={endpoint.updatedAt} />
        </dd>
      </dl>
      <div class="actions">
        <button type="button" onClick={onClose}>
          Close the details
        </button>
      </div>
      <Outcome of={action} />
      {secret ? <SecretOnce label={`The new signing secret of ${endpoint.url}`} value={secret} /> : null}
      <Gate permission="webhooks:write">
        <EditEndpoint endpoint={endpoint} onSaved={onChange} />
        <details class="card">
          <summary>Rotate the signing secret</summary>
          <Form
            class="inline-form"
            onSubmit={() => {
              void (async () => {
                const overlap =
                  grace === '0s' ? 'The current secret stops signing at once.' : `The current secret keeps signing beside the new one for ${grace}.`
                if (!(await confirm(`Rotate the signing secret of ${endpoint.url}? ${overlap}`, 'Rotate secret'))) return
                setSecret(undefined)
                const r = await action.run(() => call('webhooks.rotate-secret', target, { grace }), `The signing secret of ${endpoint.url} is rotated.`)
                if (!r) return
                setSecret(r.secret)
                onChange()
              })()
            }}
          >
            <SelectField label="The current secret keeps signing for" value={grace} onValue={setGrace} choices={GRACES} />
            <button type="submit" disabled={action.busy}>
              Rotate the secret
            </button>
          </Form>
        </details>
        <Form
          class="inline-form"
          onSubmit={() => {
            void actor(action, confirm, page.reload)(
              `Queue again every failed delivery to ${endpoint.url} since ${since} ago?`,
              'Replay failed deliveries',
              () => call('webhooks.replay', target, { since }),
              (done) => `${done.requeued} failed deliver${done.requeued === 1 ? 'y' : 'ies'} queued again.`,
            )
          }}
        >
          <SelectField label="Replay the failed deliveries of the last" value={since} onValue={setSince} choices={REPLAY_SPANS} />
          <button type="submit" disabled={action.busy}>
            Replay failed deliveries
          </button>
        </Form>
      </Gate>
      <Deliveries
        url={endpoint.url}
        page={page}
        pages={pages}
        status={status}
        onStatus={(next) => {
          // One load: the first page of the new filter, not the old filter's page first.
          setStatus(next)
          pages.reset()
        }}
        action={action}
      />
    </OpenedCard>
  )
}
