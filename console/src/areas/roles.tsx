/**
 * Roles: every role with its permissions and how many users hold it; create a custom role, change a role's
 * permissions and description (the API refuses what a built-in role may not change, and says why), delete a
 * custom role. The permission checklist is ui/permissions.tsx's.
 */
import { useState } from 'preact/hooks'
import type { Role } from '../../../src/core/roles/roles.schema.js'
import { call } from '../api.js'
import { can } from '../session.js'
import { Form, TextField } from '../ui/fields.js'
import { actor, useAction, useLoad, type Confirm } from '../ui/hooks.js'
import { ErrorNote, Gate, OpenedCard, Outcome, Time, useConfirm } from '../ui/parts.js'
import { PermissionChecklist, PermissionList, permissionOptions } from '../ui/permissions.js'
import { Table } from '../ui/table.js'

export function Roles() {
  const roles = useLoad(() => call('roles.list'), [])
  const action = useAction()
  const [confirmDialog, confirm] = useConfirm()
  const [editing, setEditing] = useState<string>()
  const list = roles.data?.data ?? []
  const offered = permissionOptions(list.flatMap((r) => r.permissions))
  const edited = list.find((r) => r.name === editing)
  const writable = can('roles:write')

  const remove = (role: Role): Promise<unknown> => {
    const removed = (): void => {
      if (editing === role.name) setEditing(undefined)
      roles.reload()
    }
    return actor(action, confirm, removed)(
      `Delete the role ${role.name}? This cannot be undone.`,
      `Delete ${role.name}`,
      () => call('roles.delete', { name: role.name }),
      (result) => `The role ${result.deleted} is deleted.`,
    )
  }

  return (
    <>
      <h1>Roles</h1>
      <Gate permission="roles:write">
        <CreateRole offered={offered} onCreated={roles.reload} />
      </Gate>
      <ErrorNote error={roles.error} />
      <Outcome of={action} />
      {confirmDialog}
      <Table
        name="roles"
        busy={roles.loading}
        caption={roles.data ? `${list.length} roles` : 'Roles'}
        columns={['Name', 'Description', 'Users', 'Permissions', 'Updated', writable && 'Actions']}
      >
        {list.map((role) => (
          <tr key={role.name}>
            <th scope="row">
              {role.name} {role.builtin ? <span class="badge shadow">built-in</span> : null}
            </th>
            <td>{role.description || <span class="muted">—</span>}</td>
            <td>{role.users}</td>
            <td>
              <PermissionList permissions={role.permissions} />
            </td>
            <td>
              <Time at={role.updatedAt} />
            </td>
            {writable ? (
              <td class="row-actions">
                <button
                  type="button"
                  aria-expanded={editing === role.name}
                  aria-controls="role-editor"
                  onClick={() => setEditing((name) => (name === role.name ? undefined : role.name))}
                >
                  Edit <span class="sr-only">{role.name}</span>
                </button>
                {role.builtin ? null : (
                  <button type="button" class="danger" disabled={action.busy} onClick={() => void remove(role)}>
                    Delete <span class="sr-only">{role.name}</span>
                  </button>
                )}
              </td>
            ) : null}
          </tr>
        ))}
      </Table>
      {edited && writable ? (
        <EditRole key={edited.name} role={edited} offered={offered} confirm={confirm} onSaved={roles.reload} onClose={() => setEditing(undefined)} />
      ) : null}
    </>
  )
}

function EditRole({
  role,
  offered,
  confirm,
  onSaved,
  onClose,
}: {
  role: Role
  offered: readonly string[]
  confirm: Confirm
  onSaved: () => void
  onClose: () => void
}) {
  const [description, setDescription] = useState(role.description)
  const [selected, setSelected] = useState<string[]>(role.permissions)
  const action = useAction()
  const grant = selected.filter((p) => !role.permissions.includes(p))
  const revoke = role.permissions.filter((p) => !selected.includes(p))
  const describe = description.trim() !== role.description
  const changed = grant.length > 0 || revoke.length > 0 || describe

  const save = async (): Promise<void> => {
    if (revoke.length > 0 && role.users > 0) {
      const holders = role.users === 1 ? 'Its 1 user loses' : `Its ${role.users} users lose`
      if (
        !(await confirm(
          `Revoke ${revoke.join(', ')} from the role ${role.name}? ${holders} ${revoke.length === 1 ? 'it' : 'them'} at once.`,
          `Revoke from ${role.name}`,
        ))
      )
        return
    }
    const saved = await action.run(
      () => call('roles.update', { name: role.name }, { grant, revoke, ...(describe ? { description: description.trim() } : {}) }),
      `The role ${role.name} is saved.`,
    )
    if (saved) onSaved()
  }

  return (
    <OpenedCard id="role-editor" labelId="role-editor-title" title={`Edit the role ${role.name}`}>
      {role.builtin ? <p class="muted">A built-in role keeps its built-in permissions; the API says what it refuses.</p> : null}
      <Form onSubmit={() => void save()}>
        <div class="inline-form">
          <TextField label="Description" maxLength={500} value={description} onValue={setDescription} />
        </div>
        <PermissionChecklist legend={`Permissions of ${role.name}`} options={offered} selected={selected} onChange={setSelected} />
        <div class="actions">
          <button type="submit" class="primary" disabled={action.busy || !changed || selected.length === 0}>
            Save
          </button>
          <button type="button" onClick={onClose}>
            Close
          </button>
        </div>
      </Form>
      <Outcome of={action} />
    </OpenedCard>
  )
}

function CreateRole({ offered, onCreated }: { offered: readonly string[]; onCreated: () => void }) {
  const [name, setName] = useState('')
  const [description, setDescription] = useState('')
  const [selected, setSelected] = useState<string[]>([])
  const action = useAction()
  return (
    <details class="card">
      <summary>Create a role</summary>
      <Form
        onSubmit={() => {
          void action
            .run(
              () => call('roles.create', { name: name.trim(), description: description.trim(), permissions: selected }),
              (role) => `Created the role ${role.name}.`,
            )
            .then((role) => {
              if (!role) return
              setName('')
              setDescription('')
              setSelected([])
              onCreated()
            })
        }}
      >
        <div class="inline-form">
          <TextField label="Name" required maxLength={64} pattern="[a-z][a-z0-9_\-]*" aria-describedby="role-name-hint" value={name} onValue={setName} />
          <TextField label="Description" maxLength={500} value={description} onValue={setDescription} />
        </div>
        <p id="role-name-hint" class="muted">
          Lower case letters, digits, - and _, starting with a letter.
        </p>
        <PermissionChecklist legend="Permissions of the new role" options={offered} selected={selected} onChange={setSelected} />
        <div class="actions">
          <button type="submit" class="primary" disabled={action.busy || selected.length === 0}>
            Create
          </button>
        </div>
      </Form>
      <Outcome of={action} />
    </details>
  )
}
