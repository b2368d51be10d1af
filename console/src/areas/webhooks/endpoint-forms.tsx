/** Adding an endpoint (its signing secret shown once) and changing one: its URL, description and events. */
import { useState } from 'preact/hooks'
import type { Endpoint } from '../../../../src/core/webhooks/webhooks.schema.js'
import { call } from '../../api.js'
import { Form, TextField } from '../../ui/fields.js'
import { useAction } from '../../ui/hooks.js'
import { Outcome, SecretOnce } from '../../ui/parts.js'
import { EventPicker, eventTypesOf, KNOWN_PATTERNS } from './event-picker.js'

/** What an endpoint form holds: from `endpoint` when it changes one, empty for a new one. */
function useEndpointDraft(endpoint?: Endpoint) {
  const [url, setUrl] = useState(endpoint?.url ?? '')
  const [description, setDescription] = useState(endpoint?.description ?? '')
  const [chosen, setChosen] = useState<Set<string>>(() => new Set(endpoint?.eventTypes.filter((t) => KNOWN_PATTERNS.has(t))))
  const [other, setOther] = useState(() => endpoint?.eventTypes.filter((t) => !KNOWN_PATTERNS.has(t)).join(' ') ?? '')
  return {
    url,
    setUrl,
    description,
    setDescription,
    chosen,
    setChosen,
    other,
    setOther,
    /** The fields as the API takes them. */
    input: { url: url.trim(), eventTypes: eventTypesOf(chosen, other), description: description.trim() },
    clear(): void {
      setUrl('')
      setDescription('')
      setChosen(new Set())
      setOther('')
    },
  }
}

/** The URL, the description and the events, then the submit button: `submit` its text. */
function EndpointFields({
  draft,
  urlPlaceholder,
  busy,
  submit,
}: {
  draft: ReturnType<typeof useEndpointDraft>
  urlPlaceholder?: string
  busy: boolean
  submit: string
}) {
  return (
    <>
      <div class="inline-form">
        <TextField label="URL" type="url" required maxLength={2048} placeholder={urlPlaceholder} value={draft.url} onValue={draft.setUrl} />
        <TextField label="Description" maxLength={500} value={draft.description} onValue={draft.setDescription} />
      </div>
      <EventPicker chosen={draft.chosen} other={draft.other} onChosen={draft.setChosen} onOther={draft.setOther}>
        <button type="submit" class="primary" disabled={busy || draft.input.eventTypes.length === 0}>
          {submit}
        </button>
      </EventPicker>
    </>
  )
}

export function CreateEndpoint({ onCreated }: { onCreated: () => void }) {
  const draft = useEndpointDraft()
  const [created, setCreated] = useState<{ url: string; secret: string }>()
  const action = useAction()
  return (
    <details class="card">
      <summary>Add an endpoint</summary>
      <p class="muted">It receives the events you choose that you may read yourself, signed with a secret shown once, when it is created.</p>
      <Form
        onSubmit={() => {
          setCreated(undefined)
          void action
            .run(
              () => call('webhooks.create', draft.input),
              (r) => `Created ${r.endpoint.url}.`,
            )
            .then((r) => {
              if (!r) return
              setCreated({ url: r.endpoint.url, secret: r.secret })
              draft.clear()
              onCreated()
            })
        }}
      >
        <EndpointFields draft={draft} urlPlaceholder="https://example.com/hooks/gantry" busy={action.busy} submit="Add the endpoint" />
      </Form>
      <Outcome of={action} />
      {created ? <SecretOnce label={`The signing secret of ${created.url}`} value={created.secret} /> : null}
    </details>
  )
}

export function EditEndpoint({ endpoint, onSaved }: { endpoint: Endpoint; onSaved: () => void }) {
  const draft = useEndpointDraft(endpoint)
  const action = useAction()
  return (
    <details class="card">
      <summary>Change the URL, events or description</summary>
      <Form
        onSubmit={() => {
          void action
            .run(
              () => call('webhooks.update', { id: endpoint.id }, draft.input),
              (e) => `${e.url} is saved.`,
            )
            .then((e) => e && onSaved())
        }}
      >
        <EndpointFields draft={draft} busy={action.busy} submit="Save the endpoint" />
      </Form>
      <Outcome of={action} />
    </details>
  )
}
