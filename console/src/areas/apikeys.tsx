/**
 * API keys: keyset pages of every key (or one owner's), create a key with scopes within what the signed-in
 * user holds, rotate one (the new secret shown once, the previous one working for a grace period), revoke one.
 * No secret is ever listed: the API returns one at creation and at rotation, and this page shows it that once.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import type { ApiKey } from '../../../src/core/apikeys/apikeys.schema.js'
import { call } from '../api.js'
import { can, current } from '../session.js'
import { Form, TextField } from '../ui/fields.js'
import { actor, useAction, useLoad, type Action, type Confirm } from '../ui/hooks.js'
import { Pager, useCursorPages } from '../ui/paging.js'
import { ErrorNote, Gate, Outcome, SecretOnce, Time, useConfirm } from '../ui/parts.js'
import { PermissionChecklist, PermissionList, permissionOptions } from '../ui/permissions.js'
import { Table } from '../ui/table.js'

const PAGE = 50
/** How long a rotated key's previous secret keeps working unless told otherwise (the API's default). */
const DEFAULT_GRACE = '24h'

interface Secret {
  readonly label: string
  readonly value: string
}

export function ApiKeys() {
  const [ownerText, setOwnerText] = useState('')
  const [owner, setOwner] = useState('')
  const pages = useCursorPages()
  const { cursor } = pages
  const page = useLoad(() => call('apikeys.list', { limit: PAGE, ...(owner ? { owner } : {}), ...(cursor ? { cursor } : {}) }), [owner, cursor])
  const roles = useLoad(() => (can('roles:read') ? call('roles.list') : Promise.resolve(undefined)), [])
  const action = useAction()
  const [confirmDialog, confirm] = useConfirm()
  const [secret, setSecret] = useState<Secret>()
  const secretBox = useRef<HTMLDivElement>(null)
  // A rotated key's secret shows above the table: the reader is taken to it (focus scrolls it into view).
  useEffect(() => {
    if (secret) secretBox.current?.focus()
  }, [secret])
  const writable = can('apikeys:write')
  const filter = (next: string): void => {
    setOwner(next)
    pages.reset()
  }
  const offered = permissionOptions(roles.data?.data.flatMap((r) => r.permissions) ?? [])

  return (
    <>
      <h1>API keys</h1>
      <Gate permission="apikeys:write">
        <CreateKey offered={offered} onCreated={page.reload} />
      </Gate>
      <Form class="filters" role="search" aria-label="Filter API keys" onSubmit={() => filter(ownerText.trim())}>
        <TextField label="Owner's email" type="email" placeholder="any owner" value={ownerText} onValue={setOwnerText} />
        <button type="submit">Filter</button>
        {owner ? (
          <button
            type="button"
            onClick={() => {
              setOwnerText('')
              filter('')
            }}
          >
            Show every owner
          </button>
        ) : null}
      </Form>
      <ErrorNote error={page.error} />
      <Outcome of={action} />
      {secret ? (
        <div ref={secretBox} tabIndex={-1}>
          <SecretOnce label={secret.label} value={secret.value} />
        </div>
      ) : null}
      {confirmDialog}
      <Table
        name="apikeys"
        busy={page.loading}
        caption={
          <>
            {owner ? `API keys of ${owner}` : 'API keys'}
            {pages.captionSuffix}
          </>
        }
        columns={['Name', 'Key', 'Owner', 'Scopes', 'Created', 'Last used', 'Expires', 'Status', writable && 'Actions']}
      >
        {page.data?.data.map((key) => (
          <KeyRow key={key.id} apiKey={key} writable={writable} action={action} confirm={confirm} onSecret={setSecret} onChange={page.reload} />
        ))}
      </Table>
      {page.data && page.data.data.length === 0 ? <p class="muted">No API keys{owner ? ` of ${owner}` : ''}.</p> : null}
      <Pager of="API keys" pages={pages} next={page.data?.nextCursor} />
    </>
  )
}

/** The key as its holder sees its beginning: `gk_<env>_<id>` (the secret follows). */
const prefixOf = (key: ApiKey): string => `gk_${key.env}_${key.id}`

function KeyRow({
  apiKey: key,
  writable,
  action,
  confirm,
  onSecret,
  onChange,
}: {
  apiKey: ApiKey
  writable: boolean
  action: Action
  confirm: Confirm
  onSecret: (secret: Secret | undefined) => void
  onChange: () => void
}) {
  const [grace, setGrace] = useState(DEFAULT_GRACE)
  const target = { keyId: key.id }
  const now = Date.now()
  const expired = key.expiresAt !== null && Date.parse(key.expiresAt) <= now
  const inGrace = !key.revoked && key.graceEndsAt !== null && Date.parse(key.graceEndsAt) > now
  const named = `${key.name} (${prefixOf(key)})`

  const rotate = async (): Promise<void> => {
    const within = grace.trim()
    const previous = /^0+[a-z]+$/.test(within) ? 'the current secret stops working at once' : `the current secret keeps working for ${within}`
    if (!(await confirm(`Rotate the key ${named} of ${key.owner}? A new secret is shown once; ${previous}.`, `Rotate ${key.name}`))) return
    onSecret(undefined)
    const rotated = await action.run(() => call('apikeys.rotate', target, { grace: within }), `Rotated ${key.name}.`)
    if (!rotated) return
    onSecret({ label: `The new secret of ${rotated.apiKey.name}`, value: rotated.key })
    onChange()
  }
  const revoke = (): Promise<unknown> =>
    actor(action, confirm, onChange)(
      `Revoke the key ${named} of ${key.owner}? It is refused from the next request on.`,
      `Revoke ${key.name}`,
      () => call('apikeys.revoke', target),
      `Revoked ${key.name}.`,
    )

  return (
    <tr>
      <th scope="row">{key.name}</th>
      <td>
        <code>{prefixOf(key)}</code>
      </td>
      <td>{key.owner}</td>
      <td>
        <PermissionList permissions={key.scopes} />
      </td>
      <td>
        <Time at={key.createdAt} />
      </td>
      <td>
        <Time at={key.lastUsedAt} />
      </td>
      <td>{key.expiresAt ? <Time at={key.expiresAt} /> : <span class="muted">never</span>}</td>
      <td>
        {key.revoked ? (
          <>
            <span class="badge fail">revoked</span> <Time at={key.revokedAt} />
          </>
        ) : expired ? (
          <span class="badge fail">expired</span>
        ) : (
          <span class="badge pass">active</span>
        )}
        {inGrace ? (
          <div class="muted">
            previous secret works until <Time at={key.graceEndsAt} />
          </div>
        ) : null}
      </td>
      {writable ? (
        <td class="row-actions">
          {key.revoked ? null : (
            <>
              <details>
                <summary>
                  Rotate<span class="sr-only"> {key.name}</span>…
                </summary>
                <Form onSubmit={() => void rotate()}>
                  <TextField
                    label="The current secret keeps working for"
                    required
                    size={6}
                    aria-describedby={`grace-hint-${key.id}`}
                    value={grace}
                    onValue={setGrace}
                  />
                  <div id={`grace-hint-${key.id}`} class="muted">
                    A duration: 24h, 7d; 0s ends it at once (a leaked key).
                  </div>
                  <button type="submit" disabled={action.busy}>
                    Rotate {key.name}
                  </button>
                </Form>
              </details>
              <button type="button" class="danger" disabled={action.busy} onClick={() => void revoke()}>
                Revoke<span class="sr-only"> {key.name}</span>
              </button>
            </>
          )}
        </td>
      ) : null}
    </tr>
  )
}

function CreateKey({ offered, onCreated }: { offered: readonly string[]; onCreated: () => void }) {
  const state = current()
  const me = state.status === 'signed-in' || state.status === 'expired' ? state.me.user.email : ''
  const [name, setName] = useState('')
  const [owner, setOwner] = useState(me)
  const [expires, setExpires] = useState('')
  const [scopes, setScopes] = useState<string[]>([])
  const [secret, setSecret] = useState<Secret>()
  const action = useAction()
  return (
    <details class="card">
      <summary>Create a key</summary>
      <Form
        onSubmit={() => {
          setSecret(undefined)
          const lifetime = expires.trim()
          void action
            .run(
              () =>
                call('apikeys.create', {
                  name: name.trim(),
                  owner: owner.trim(),
                  ...(scopes.length > 0 ? { scopes } : {}),
                  ...(lifetime ? { expires: lifetime } : {}),
                }),
              (created) => `Created the key ${created.apiKey.name} of ${created.apiKey.owner}.`,
            )
            .then((created) => {
              if (!created) return
              setSecret({ label: `The key ${created.apiKey.name}`, value: created.key })
              setName('')
              setExpires('')
              setScopes([])
              onCreated()
            })
        }}
      >
        <div class="inline-form">
          <TextField label="Name" required maxLength={200} value={name} onValue={setName} />
          <TextField label="Owner" type="email" required value={owner} onValue={setOwner} />
          <TextField label="Expires after" placeholder="never" size={8} aria-describedby="key-expires-hint" value={expires} onValue={setExpires} />
        </div>
        <p id="key-expires-hint" class="muted">
          Expiry: a duration such as 30d or 12h from now; empty: the key never expires.
        </p>
        <PermissionChecklist legend="Scopes" options={offered} selected={scopes} onChange={setScopes} />
        <p class="muted">None checked: the key gets every permission its owner holds. Scopes must lie within the owner's permissions and yours.</p>
        <div class="actions">
          <button type="submit" class="primary" disabled={action.busy}>
            Create
          </button>
        </div>
      </Form>
      <Outcome of={action} />
      {secret ? <SecretOnce label={secret.label} value={secret.value} /> : null}
    </details>
  )
}
