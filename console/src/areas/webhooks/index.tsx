/**
 * Webhooks: the endpoints with their events and failure state; create one (its signing secret shown once),
 * enable and disable, rotate the secret, send a test event, delete; and an endpoint's detail with its
 * recent deliveries (paged, filtered by status), redelivering a failed one or replaying every failed one.
 * URLs and descriptions are the caller's text: shown as text, never as links.
 */
import { useState } from 'preact/hooks'
import type { TestResult } from '../../../../src/core/webhooks/webhooks.schema.js'
import { call } from '../../api.js'
import { useAction, useLoad } from '../../ui/hooks.js'
import { ErrorNote, Gate, Outcome, SecretOnce, useConfirm } from '../../ui/parts.js'
import { Table } from '../../ui/table.js'
import { EndpointDetail } from './endpoint-detail.js'
import { CreateEndpoint } from './endpoint-forms.js'
import { EndpointRow } from './endpoint-row.js'
import { TestOutcome } from './test-outcome.js'

export function Webhooks() {
  const list = useLoad(() => call('webhooks.list'), [])
  const [selected, setSelected] = useState<string>()
  const [secret, setSecret] = useState<{ url: string; value: string }>()
  const [tested, setTested] = useState<{ url: string; result: TestResult }>()
  const action = useAction()
  const [confirmDialog, confirm] = useConfirm()
  const endpoints = list.data?.data ?? []
  const endpoint = endpoints.find((e) => e.id === selected)

  return (
    <>
      <h1>Webhooks</h1>
      <Gate permission="webhooks:write">
        <CreateEndpoint onCreated={list.reload} />
      </Gate>
      <ErrorNote error={list.error} />
      <Outcome of={action} />
      {secret ? <SecretOnce label={`The new signing secret of ${secret.url}`} value={secret.value} /> : null}
      {tested ? <TestOutcome url={tested.url} result={tested.result} /> : null}
      {confirmDialog}
      <Table
        name="webhooks"
        busy={list.loading}
        caption={list.data ? `${endpoints.length} webhook endpoint${endpoints.length === 1 ? '' : 's'}` : 'Webhook endpoints'}
        columns={['URL', 'Description', 'Events', 'State', 'Created', 'Actions']}
      >
        {endpoints.map((e) => (
          <EndpointRow
            key={e.id}
            endpoint={e}
            action={action}
            confirm={confirm}
            onOpen={() => setSelected(e.id)}
            onSecret={(value) => {
              setTested(undefined)
              setSecret({ url: e.url, value })
            }}
            onTested={(result) => {
              setSecret(undefined)
              setTested({ url: e.url, result })
            }}
            onChange={list.reload}
            onDeleted={() => {
              if (selected === e.id) setSelected(undefined)
              list.reload()
            }}
          />
        ))}
      </Table>
      {list.data && endpoints.length === 0 ? <p class="muted">No webhook endpoint yet.</p> : null}
      {endpoint ? (
        <EndpointDetail key={endpoint.id} endpoint={endpoint} confirm={confirm} onChange={list.reload} onClose={() => setSelected(undefined)} />
      ) : null}
    </>
  )
}
