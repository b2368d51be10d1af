/**
 * Permissions as the roles and API-key forms show and offer them: a list, and a checklist of Gantry's
 * permissions and those the roles hold — within what the signed-in user may hand out — with a field for any
 * other `resource:action`, which the server validates.
 */
import { permissions as gantryPermissions } from 'gantry:catalog'
import { useState } from 'preact/hooks'
import { hasPermission } from '../../../src/core/roles/permission-match.js'
import { current } from '../session.js'

/** Permissions as code, comma separated. */
export function PermissionList({ permissions }: { permissions: readonly string[] }) {
  if (permissions.length === 0) return <span class="muted">—</span>
  return (
    <>
      {permissions.map((p, i) => (
        <span key={p}>
          {i > 0 ? ', ' : ''}
          <code>{p}</code>
        </span>
      ))}
    </>
  )
}

/**
 * A checkbox per offered permission (and per selected one not offered), and a field to add any other
 * `resource:action`; the server validates what is sent and refuses what the user may not hand out.
 */
export function PermissionChecklist({
  legend,
  options,
  selected,
  onChange,
}: {
  legend: string
  options: readonly string[]
  selected: readonly string[]
  onChange: (selected: string[]) => void
}) {
  const [other, setOther] = useState('')
  const all = [...new Set([...options, ...selected])].sort()
  const toggle = (permission: string, on: boolean): void => onChange(on ? [...selected, permission] : selected.filter((p) => p !== permission))
  const add = (): void => {
    const permission = other.trim()
    if (!permission) return
    if (!selected.includes(permission)) onChange([...selected, permission])
    setOther('')
  }
  return (
    <>
      <fieldset class="checklist">
        <legend>{legend}</legend>
        {all.map((permission) => (
          <label key={permission}>
            <input type="checkbox" checked={selected.includes(permission)} onChange={(e) => toggle(permission, e.currentTarget.checked)} />
            <code>{permission}</code>
          </label>
        ))}
      </fieldset>
      <div class="inline-form">
        <label>
          Another permission
          <input
            value={other}
            placeholder="resource:action"
            onInput={(e) => setOther(e.currentTarget.value)}
            onKeyDown={(e) => {
              // Enter adds the permission rather than submitting the form around it.
              if (e.key !== 'Enter') return
              e.preventDefault()
              add()
            }}
          />
        </label>
        <button type="button" disabled={!other.trim()} onClick={add}>
          Add permission
        </button>
      </div>
      <p class="muted">
        <code>*</code> grants everything, <code>users:*</code> every action on users, <code>*:read</code> every read.
      </p>
    </>
  )
}

/** What the signed-in user holds (for a key: its scopes). */
export function heldPermissions(): readonly string[] {
  const state = current()
  return state.status === 'signed-in' || state.status === 'expired' ? state.me.permissions : []
}

/**
 * The permissions worth offering: Gantry's own and `seen` (held by roles: an app's own among them), within
 * what the user may hand out, and the user's own patterns.
 */
export function permissionOptions(seen: readonly string[]): string[] {
  const held = heldPermissions()
  return [...new Set([...held, ...[...gantryPermissions, ...seen].filter((p) => hasPermission(held, p))])].sort()
}
