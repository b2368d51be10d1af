/**
 * Webhooks: the endpoints with their events and failure state; create one (its signing secret shown once),
 * enable and disable, rotate the secret, send a test event, delete; and an endpoint's detail with its
 * recent deliveries (paged, filtered by status), redelivering a failed one or replaying every failed one.
 * URLs and descriptions are the caller's text: shown as text, never as links.
 */
import { eventAreas } from 'gantry:catalog'
import type { ComponentChildren } from 'preact'
import { useEffect, useRef, useState } from 'preact/hooks'
import type { Delivery, DeliveryStatus, Endpoint, TestResult } from '../../../src/core/webhooks/webhooks.schema.js'
import { call } from '../api.js'
import { can } from '../session.js'
import { useAction, useLoad, type Action } from '../ui/hooks.js'
import { Done, ErrorNote, Gate, SecretOnce, Time, useConfirm } from '../ui/parts.js'

type Confirm = (question: string, act: string) => Promise<boolean>

const PAGE = 25
const STATUSES: readonly DeliveryStatus[] = ['pending', 'succeeded', 'failed', 'skipped']
const STATUS_BADGE: Record<DeliveryStatus, string> = { pending: 'shadow', succeeded: 'pass', failed: 'fail', skipped: 'warn' }

/** The event areas an endpoint can subscribe to, each with the permission that receives it (the creator must hold it). */
const KNOWN_PATTERNS = new Set(eventAreas.map((a) => a.pattern))

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
      <ErrorNote error={action.error} />
      <Done message={action.done} />
      {secret ? <SecretOnce label={`The new signing secret of ${secret.url}`} value={secret.value} /> : null}
      {tested ? <TestOutcome url={tested.url} result={tested.result} /> : null}
      {confirmDialog}
      <div class="table-wrap">
        <table aria-busy={list.loading} data-table="webhooks">
          <caption>{list.data ? `${endpoints.length} webhook endpoint${endpoints.length === 1 ? '' : 's'}` : 'Webhook endpoints'}</caption>
          <thead>
            <tr>
              <th scope="col">URL</th>
              <th scope="col">Description</th>
              <th scope="col">Events</th>
              <th scope="col">State</th>
              <th scope="col">Created</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
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
          </tbody>
        </table>
      </div>
      {list.data && endpoints.length === 0 ? <p class="muted">No webhook endpoint yet.</p> : null}
      {endpoint ? (
        <EndpointDetail key={endpoint.id} endpoint={endpoint} confirm={confirm} onChange={list.reload} onClose={() => setSelected(undefined)} />
      ) : null}
    </>
  )
}

function EndpointState({ endpoint }: { endpoint: Endpoint }) {
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

function EndpointRow({
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
  const act = async <T,>(
    question: string | undefined,
    label: string,
    run: () => Promise<T>,
    done: string | ((result: T) => string),
  ): Promise<T | undefined> => {
    if (question && !(await confirm(question, label))) return undefined
    const result = await action.run(run, done)
    if (result !== undefined) onChange()
    return result
  }
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
                (r) => (r.ok ? `The test event to ${url} was accepted.` : `The test event to ${url} failed.`),
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
          <button
            type="button"
            class="danger"
            onClick={() =>
              void (async () => {
                if (!(await confirm(`Delete the webhook endpoint ${url} and its delivery history? This cannot be undone.`, `Delete ${url}`))) return
                if (await action.run(() => call('webhooks.delete', target), `${url} is deleted.`)) onDeleted()
              })()
            }
          >
            Delete<span class="sr-only"> {url}</span>
          </button>
        </Gate>
      </td>
    </tr>
  )
}

/** What the receiver answered a test event. */
function TestOutcome({ url, result }: { url: string; result: TestResult }) {
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

/** Event patterns as a checklist of the areas the user may read, and a field for any other type or pattern. */
function EventPicker({
  chosen,
  other,
  onChosen,
  onOther,
  children,
}: {
  chosen: ReadonlySet<string>
  other: string
  onChosen: (next: Set<string>) => void
  onOther: (text: string) => void
  /** What follows the field of other types on its line (the form's button). */
  children: ComponentChildren
}) {
  const areas = eventAreas.filter((a) => can(a.permission) || chosen.has(a.pattern))
  return (
    <>
      <fieldset class="checklist">
        <legend>Events</legend>
        {areas.map((area) => (
          <label key={area.pattern}>
            <input
              type="checkbox"
              checked={chosen.has(area.pattern)}
              onChange={(e) => {
                const next = new Set(chosen)
                if (e.currentTarget.checked) next.add(area.pattern)
                else next.delete(area.pattern)
                onChosen(next)
              }}
            />
            {area.pattern === '*' ? 'every event' : area.pattern}
          </label>
        ))}
      </fieldset>
      <div class="inline-form">
        <label>
          Other event types or patterns (space or comma separated)
          <input placeholder="users.created orders.*" value={other} onInput={(e) => onOther(e.currentTarget.value)} />
        </label>
        {children}
      </div>
    </>
  )
}

const eventTypesOf = (chosen: ReadonlySet<string>, other: string): string[] => [
  ...chosen,
  ...other
    .split(/[\s,]+/)
    .map((t) => t.trim())
    .filter(Boolean),
]

function CreateEndpoint({ onCreated }: { onCreated: () => void }) {
  const [url, setUrl] = useState('')
  const [description, setDescription] = useState('')
  const [chosen, setChosen] = useState<Set<string>>(new Set())
  const [other, setOther] = useState('')
  const [created, setCreated] = useState<{ url: string; secret: string }>()
  const action = useAction()
  return (
    <details class="card">
      <summary>Add an endpoint</summary>
      <p class="muted">It receives the events you choose that you may read yourself, signed with a secret shown once, when it is created.</p>
      <form
        onSubmit={(event) => {
          event.preventDefault()
          setCreated(undefined)
          void action
            .run(
              () => call('webhooks.create', { url: url.trim(), eventTypes: eventTypesOf(chosen, other), description: description.trim() }),
              (r) => `Created ${r.endpoint.url}.`,
            )
            .then((r) => {
              if (!r) return
              setCreated({ url: r.endpoint.url, secret: r.secret })
              setUrl('')
              setDescription('')
              setChosen(new Set())
              setOther('')
              onCreated()
            })
        }}
      >
        <div class="inline-form">
          <label>
            URL
            <input
              type="url"
              required
              maxLength={2048}
              placeholder="https://example.com/hooks/gantry"
              value={url}
              onInput={(e) => setUrl(e.currentTarget.value)}
            />
          </label>
          <label>
            Description
            <input maxLength={500} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
        </div>
        <EventPicker chosen={chosen} other={other} onChosen={setChosen} onOther={setOther}>
          <button type="submit" class="primary" disabled={action.busy || eventTypesOf(chosen, other).length === 0}>
            Add the endpoint
          </button>
        </EventPicker>
      </form>
      <ErrorNote error={action.error} />
      <Done message={action.done} />
      {created ? <SecretOnce label={`The signing secret of ${created.url}`} value={created.secret} /> : null}
    </details>
  )
}

/** One endpoint: its details, changes to it, and its deliveries, newest first. */
function EndpointDetail({ endpoint, confirm, onChange, onClose }: { endpoint: Endpoint; confirm: Confirm; onChange: () => void; onClose: () => void }) {
  const heading = useRef<HTMLHeadingElement>(null)
  useEffect(() => heading.current?.focus(), [])
  const [status, setStatus] = useState<DeliveryStatus | ''>('')
  const [cursors, setCursors] = useState<string[]>([])
  const cursor = cursors.at(-1)
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
    <section class="card" aria-labelledby="endpoint-detail">
      <h2 id="endpoint-detail" ref={heading} tabIndex={-1}>
        Endpoint <code>{endpoint.url}</code>
      </h2>
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
      <ErrorNote error={action.error} />
      <Done message={action.done} />
      {secret ? <SecretOnce label={`The new signing secret of ${endpoint.url}`} value={secret} /> : null}
      <Gate permission="webhooks:write">
        <EditEndpoint endpoint={endpoint} onSaved={onChange} />
        <details class="card">
          <summary>Rotate the signing secret</summary>
          <form
            class="inline-form"
            onSubmit={(event) => {
              event.preventDefault()
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
            <label>
              The current secret keeps signing for
              <select value={grace} onChange={(e) => setGrace(e.currentTarget.value)}>
                <option value="24h">24 hours</option>
                <option value="1h">1 hour</option>
                <option value="7d">7 days</option>
                <option value="0s">no time: stop at once</option>
              </select>
            </label>
            <button type="submit" disabled={action.busy}>
              Rotate the secret
            </button>
          </form>
        </details>
        <form
          class="inline-form"
          onSubmit={(event) => {
            event.preventDefault()
            void (async () => {
              if (!(await confirm(`Queue again every failed delivery to ${endpoint.url} since ${since} ago?`, 'Replay failed deliveries'))) return
              const r = await action.run(
                () => call('webhooks.replay', target, { since }),
                (done) => `${done.requeued} failed deliver${done.requeued === 1 ? 'y' : 'ies'} queued again.`,
              )
              if (r) page.reload()
            })()
          }}
        >
          <label>
            Replay the failed deliveries of the last
            <select value={since} onChange={(e) => setSince(e.currentTarget.value)}>
              <option value="1h">hour</option>
              <option value="24h">24 hours</option>
              <option value="7d">7 days</option>
            </select>
          </label>
          <button type="submit" disabled={action.busy}>
            Replay failed deliveries
          </button>
        </form>
      </Gate>
      <h3>Deliveries</h3>
      <form class="filters" onSubmit={(e) => e.preventDefault()}>
        <label>
          Status
          <select
            value={status}
            onChange={(e) => {
              // One load: the first page of the new filter, not the old filter's page first.
              setStatus(e.currentTarget.value as DeliveryStatus | '')
              setCursors([])
            }}
          >
            <option value="">any</option>
            {STATUSES.map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </label>
        <button type="button" onClick={page.reload} disabled={page.loading}>
          Refresh
        </button>
      </form>
      <ErrorNote error={page.error} />
      <div class="table-wrap">
        <table aria-busy={page.loading}>
          <caption>
            Deliveries to {endpoint.url}, newest first{status ? `, ${status}` : ''}
            {cursors.length > 0 ? `, page ${cursors.length + 1}` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Created</th>
              <th scope="col">Event</th>
              <th scope="col">Status</th>
              <th scope="col">Attempts</th>
              <th scope="col">Response</th>
              <th scope="col">Next attempt</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.data.map((delivery) => (
              <DeliveryRow key={delivery.id} delivery={delivery} action={action} onChange={page.reload} />
            ))}
          </tbody>
        </table>
      </div>
      {page.data && page.data.data.length === 0 ? <p class="muted">No delivery{status ? ` ${status}` : ''}.</p> : null}
      <nav class="pager" aria-label="Pages of deliveries">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!page.data?.nextCursor} onClick={() => page.data?.nextCursor && setCursors((c) => [...c, page.data!.nextCursor!])}>
          Next page
        </button>
      </nav>
    </section>
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

function EditEndpoint({ endpoint, onSaved }: { endpoint: Endpoint; onSaved: () => void }) {
  const [url, setUrl] = useState(endpoint.url)
  const [description, setDescription] = useState(endpoint.description)
  const [chosen, setChosen] = useState<Set<string>>(() => new Set(endpoint.eventTypes.filter((t) => KNOWN_PATTERNS.has(t))))
  const [other, setOther] = useState(() => endpoint.eventTypes.filter((t) => !KNOWN_PATTERNS.has(t)).join(' '))
  const action = useAction()
  return (
    <details class="card">
      <summary>Change the URL, events or description</summary>
      <form
        onSubmit={(event) => {
          event.preventDefault()
          void action
            .run(
              () => call('webhooks.update', { id: endpoint.id }, { url: url.trim(), eventTypes: eventTypesOf(chosen, other), description: description.trim() }),
              (e) => `${e.url} is saved.`,
            )
            .then((e) => e && onSaved())
        }}
      >
        <div class="inline-form">
          <label>
            URL
            <input type="url" required maxLength={2048} value={url} onInput={(e) => setUrl(e.currentTarget.value)} />
          </label>
          <label>
            Description
            <input maxLength={500} value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
          </label>
        </div>
        <EventPicker chosen={chosen} other={other} onChosen={setChosen} onOther={setOther}>
          <button type="submit" class="primary" disabled={action.busy || eventTypesOf(chosen, other).length === 0}>
            Save the endpoint
          </button>
        </EventPicker>
      </form>
      <ErrorNote error={action.error} />
      <Done message={action.done} />
    </details>
  )
}
