/**
 * Users: search and filters over keyset pages (the API's cursor: each page costs the same at any depth of a
 * million rows), create, change role, disable and enable, unlock, end sessions, delete.
 */
import { useEffect, useState } from 'preact/hooks'
import type { User } from '../../../src/core/users/users.schema.js'
import { call } from '../api.js'
import { can } from '../session.js'
import { Form, SelectField, TextField } from '../ui/fields.js'
import { actor, useAction, useLoad, useRenderedMark, type Action, type Confirm } from '../ui/hooks.js'
import { Pager, useCursorPages } from '../ui/paging.js'
import { ErrorNote, Gate, Outcome, SecretOnce, Time, useConfirm } from '../ui/parts.js'
import { Table } from '../ui/table.js'

const PAGE = 50
/** A filter's first choice: no filter. */
const ANY = { value: '', text: 'any' }

export function Users() {
  const [search, setSearch] = useState('')
  const [query, setQuery] = useState('')
  const [role, setRole] = useState('')
  const [status, setStatus] = useState('')
  const pages = useCursorPages()
  const { cursor } = pages
  const page = useLoad(
    () =>
      call('users.list', {
        limit: PAGE,
        ...(query ? { search: query } : {}),
        ...(role ? { role } : {}),
        ...(status ? { status: status as User['status'] } : {}),
        ...(cursor ? { cursor } : {}),
      }),
    [query, role, status, cursor],
  )
  // The role names (filter, role pickers) after the first page: roles.list counts each role's users, a scan
  // of every row, which would hold the page back where the database takes one query at a time (SQLite).
  const firstPageIn = page.data !== undefined
  const roles = useLoad(() => (can('roles:read') && firstPageIn ? call('roles.list') : Promise.resolve(undefined)), [firstPageIn])
  // Typing settles for a moment before it becomes a search.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(search.trim()), 250)
    return () => clearTimeout(timer)
  }, [search])
  useEffect(() => pages.reset(), [query, role, status])
  useRenderedMark(page.data !== undefined)
  const action = useAction()
  const [confirmDialog, confirm] = useConfirm()
  const roleNames = roles.data?.data.map((r) => r.name) ?? []

  return (
    <>
      <h1>Users</h1>
      <Gate permission="users:write">
        <CreateUser roles={roleNames} onCreated={page.reload} />
      </Gate>
      <Form class="filters" role="search">
        <TextField label="Search" type="search" placeholder="email or name" value={search} onValue={setSearch} />
        <SelectField label="Role" value={role} onValue={setRole} choices={[ANY, ...roleNames]} />
        <SelectField label="Status" value={status} onValue={setStatus} choices={[ANY, 'active', 'disabled']} />
      </Form>
      <ErrorNote error={page.error} />
      <Outcome of={action} />
      {confirmDialog}
      <Table
        name="users"
        busy={page.loading}
        caption={
          <>
            {page.data?.total !== undefined && page.data.total !== null ? `${page.data.total} users match` : 'Users'}
            {pages.captionSuffix}
          </>
        }
        columns={['Email', 'Name', 'Role', 'Status', 'Last login', 'Actions']}
      >
        {page.data?.data.map((user) => (
          <UserRow key={user.id} user={user} roles={roleNames} action={action} confirm={confirm} onChange={page.reload} />
        ))}
      </Table>
      <Pager of="users" pages={pages} next={page.data?.nextCursor} />
    </>
  )
}

function UserRow({ user, roles, action, confirm, onChange }: { user: User; roles: readonly string[]; action: Action; confirm: Confirm; onChange: () => void }) {
  const target = { email: user.email }
  const locked = user.lockedUntil !== null && Date.parse(user.lockedUntil) > Date.now()
  const act = actor(action, confirm, onChange)
  return (
    <tr>
      <th scope="row">{user.email}</th>
      <td>{user.name}</td>
      <td>
        {can('users:write') && roles.length > 0 ? (
          <select
            aria-label={`Role of ${user.email}`}
            value={user.role}
            onChange={(e) => {
              const next = e.currentTarget.value
              void act(
                `Change the role of ${user.email} from ${user.role} to ${next}?`,
                'Change role',
                () => call('users.update', target, { role: next }),
                `${user.email} is now ${next}.`,
              )
            }}
          >
            {roles.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        ) : (
          user.role
        )}
      </td>
      <td>
        <span class={`badge ${user.status === 'active' ? 'pass' : 'warn'}`}>{user.status}</span>
        {locked ? <span class="badge warn">locked</span> : null}
      </td>
      <td>
        <Time at={user.lastLoginAt} />
      </td>
      <td class="row-actions">
        <Gate permission="users:write">
          {user.status === 'active' ? (
            <button
              type="button"
              onClick={() =>
                void act(`Disable ${user.email}? They are signed out everywhere.`, 'Disable', () => call('users.disable', target), `${user.email} is disabled.`)
              }
            >
              Disable
            </button>
          ) : (
            <button type="button" onClick={() => void act(undefined, 'Enable', () => call('users.enable', target), `${user.email} is enabled.`)}>
              Enable
            </button>
          )}
          {locked ? (
            <button type="button" onClick={() => void act(undefined, 'Unlock', () => call('users.unlock', target), `${user.email} is unlocked.`)}>
              Unlock
            </button>
          ) : null}
        </Gate>
        <Gate permission="sessions:write">
          <button
            type="button"
            onClick={() =>
              void act(`End every session of ${user.email}?`, 'End sessions', () => call('tokens.revoke', target), `Ended the sessions of ${user.email}.`)
            }
          >
            End sessions
          </button>
        </Gate>
        <Gate permission="users:write">
          <button
            type="button"
            class="danger"
            onClick={() =>
              void act(
                `Delete the user ${user.email}? This cannot be undone.`,
                `Delete ${user.email}`,
                () => call('users.delete', target),
                `${user.email} is deleted.`,
              )
            }
          >
            Delete
          </button>
        </Gate>
      </td>
    </tr>
  )
}

function CreateUser({ roles, onCreated }: { roles: readonly string[]; onCreated: () => void }) {
  const [email, setEmail] = useState('')
  const [name, setName] = useState('')
  const [role, setRole] = useState('viewer')
  const action = useAction()
  const [password, setPassword] = useState<string>()
  return (
    <details class="card">
      <summary>Create a user</summary>
      <Form
        class="inline-form"
        onSubmit={() => {
          setPassword(undefined)
          void action
            .run(
              () => call('users.create', { email, name, role, generatePassword: true }),
              (created) => `Created ${created.user.email}.`,
            )
            .then((created) => {
              if (!created) return
              setPassword(created.password)
              setEmail('')
              setName('')
              onCreated()
            })
        }}
      >
        <TextField label="Email" type="email" required value={email} onValue={setEmail} />
        <TextField label="Name" value={name} onValue={setName} />
        <SelectField label="Role" value={role} onValue={setRole} choices={roles.length > 0 ? roles : ['viewer']} />
        <button type="submit" class="primary" disabled={action.busy}>
          Create with a generated password
        </button>
      </Form>
      <Outcome of={action} />
      {password ? <SecretOnce label="The new user's password" value={password} /> : null}
    </details>
  )
}
