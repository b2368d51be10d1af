/**
 * Maintenance mode: whether it is on, since when, by whom, with what message and Retry-After; turn it on (or,
 * while on, change its message and Retry-After), turn it off. Health, auth, admin and this console stay open
 * while it is on, so this page keeps working.
 */
import { useState } from 'preact/hooks'
import type { MaintenanceState } from '../../../src/core/maintenance/maintenance.schema.js'
import { call } from '../api.js'
import { Form, TextField } from '../ui/fields.js'
import { actor, useAction, useLoad, type Action, type Confirm } from '../ui/hooks.js'
import { ErrorNote, Gate, Outcome, Time, useConfirm } from '../ui/parts.js'

/** Retry-After bounds of the API (maintenanceInputSchema). */
const RETRY_MIN = 1
const RETRY_MAX = 86_400

export function Maintenance() {
  const state = useLoad(() => call('maintenance.status'), [])
  const action = useAction()
  const [confirmDialog, confirm] = useConfirm()
  const data = state.data

  return (
    <>
      <h1>Maintenance</h1>
      <ErrorNote error={state.error} />
      <Outcome of={action} />
      {confirmDialog}
      <section class="card" aria-labelledby="maintenance-state" aria-busy={state.loading}>
        <h2 id="maintenance-state">State {data ? <span class={`badge ${data.enabled ? 'warn' : 'pass'}`}>{data.enabled ? 'on' : 'off'}</span> : null}</h2>
        {data ? <StateDetails state={data} /> : null}
        <button type="button" onClick={state.reload} disabled={state.loading}>
          Refresh
        </button>
      </section>
      <Gate permission="maintenance:write">
        {data ? <Change key={`${data.enabled}-${data.since ?? ''}`} state={data} action={action} confirm={confirm} onChange={state.reload} /> : null}
      </Gate>
    </>
  )
}

function StateDetails({ state }: { state: MaintenanceState }) {
  return (
    <dl>
      <dt>Message</dt>
      <dd>{state.message ? state.message : <span class="muted">none</span>}</dd>
      <dt>Retry-After</dt>
      <dd>
        {state.retryAfter} seconds{state.enabled ? '' : <span class="muted"> (the default while off)</span>}
      </dd>
      <dt>{state.enabled ? 'On since' : 'Off since'}</dt>
      <dd>{state.since ? <Time at={state.since} /> : <span class="muted">never turned on</span>}</dd>
      <dt>By</dt>
      <dd>{state.by ?? <span class="muted">—</span>}</dd>
    </dl>
  )
}

function Change({ state, action, confirm, onChange }: { state: MaintenanceState; action: Action; confirm: Confirm; onChange: () => void }) {
  const [message, setMessage] = useState(state.message ?? '')
  const [retryAfter, setRetryAfter] = useState(String(state.retryAfter))

  const act = actor(action, confirm, onChange)
  const turnOn = (): Promise<unknown> => {
    const text = message.trim()
    const input = { retryAfter: Number(retryAfter), ...(text ? { message: text } : {}) }
    return act(
      state.enabled
        ? 'Change the message and Retry-After of maintenance mode? It stays on.'
        : 'Turn maintenance on? Every route but health, auth, admin and the console answers 503.',
      state.enabled ? 'Update' : 'Turn on',
      () => call('maintenance.on', input),
      state.enabled ? 'Maintenance mode is updated.' : 'Maintenance mode is on.',
    )
  }
  const turnOff = (): Promise<unknown> =>
    act('Turn maintenance off? Every route answers normally again.', 'Turn off', () => call('maintenance.off'), 'Maintenance mode is off.')

  return (
    <section class="card" aria-labelledby="maintenance-change">
      <h2 id="maintenance-change">{state.enabled ? 'Change or turn off' : 'Turn on'}</h2>
      <Form class="inline-form" onSubmit={() => void turnOn()}>
        <TextField
          label="Message"
          maxLength={500}
          size={40}
          placeholder="Back shortly."
          aria-describedby="maintenance-message-hint"
          value={message}
          onValue={setMessage}
        />
        <TextField
          label="Retry-After (seconds)"
          type="number"
          required
          min={RETRY_MIN}
          max={RETRY_MAX}
          step={1}
          aria-describedby="maintenance-retry-hint"
          value={retryAfter}
          onValue={setRetryAfter}
        />
        <button type="submit" class={state.enabled ? undefined : 'danger'} disabled={action.busy}>
          {state.enabled ? 'Update' : 'Turn maintenance on'}
        </button>
        {state.enabled ? (
          <button type="button" class="primary" disabled={action.busy} onClick={() => void turnOff()}>
            Turn maintenance off
          </button>
        ) : null}
      </Form>
      <p class="muted">
        <span id="maintenance-message-hint">The message goes in every 503 answer. </span>
        <span id="maintenance-retry-hint">
          Retry-After tells clients how long to wait: {RETRY_MIN} to {RETRY_MAX} seconds.
        </span>
      </p>
    </section>
  )
}
