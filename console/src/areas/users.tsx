/**
 * Users: search and filters over keyset pages (the API's cursor: each page costs the same at any depth of a
 * million rows), create, change role, disable and enable, unlock, end sessions, delete.
 */
import { useEffect, useState } from 'preact/hooks'
import type { User } from '../../../src/core/users/users.schema.js'
import { call } from '../api.js'
import { can } from '../session.js'
import { useAction, useLoad, useRenderedMark, type Action } from '../ui/hooks.js'
import { Done, ErrorNote, Gate, SecretOnce, Time, useConfirm } from '../ui/parts.js'

const PAGE = 50

export function Users() {
  const [search, setSearch] = useState('')
  const [query, setQuery] = useState('')
  const [role, setRole] = useState('')
  const [status, setStatus] = useState('')
  // The cursors of the pages before this one: Back pops, Next pushes.
  const [cursors, setCursors] = useState<string[]>([])
  const cursor = cursors.at(-1)
  const roles = useLoad(() => (can('roles:read') ? call('roles.list') : Promise.resolve(undefined)), [])
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
  // Typing settles for a moment before it becomes a search.
  useEffect(() => {
    const timer = setTimeout(() => setQuery(search.trim()), 250)
    return () => clearTimeout(timer)
  }, [search])
  useEffect(() => setCursors([]), [query, role, status])
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
      <form class="filters" role="search" onSubmit={(e) => e.preventDefault()}>
        <label>
          Search
          <input type="search" placeholder="email or name" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            <option value="">any</option>
            {roleNames.map((name) => (
              <option key={name}>{name}</option>
            ))}
          </select>
        </label>
        <label>
          Status
          <select value={status} onChange={(e) => setStatus(e.currentTarget.value)}>
            <option value="">any</option>
            <option>active</option>
            <option>disabled</option>
          </select>
        </label>
      </form>
      <ErrorNote error={page.error} />
      <ErrorNote error={action.error} />
      <Done message={action.done} />
      {confirmDialog}
      <div class="table-wrap">
        <table aria-busy={page.loading} data-table="users">
          <caption>
            {page.data?.total !== undefined && page.data.total !== null ? `${page.data.total} users match` : 'Users'}
            {cursors.length > 0 ? `, page ${cursors.length + 1}` : ''}
          </caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Name</th>
              <th scope="col">Role</th>
              <th scope="col">Status</th>
              <th scope="col">Last login</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            {page.data?.data.map((user) => (
              <UserRow key={user.id} user={user} roles={roleNames} action={action} confirm={confirm} onChange={page.reload} />
            ))}
          </tbody>
        </table>
      </div>
      <nav class="pager" aria-label="Pages of users">
        <button type="button" disabled={cursors.length === 0} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <button type="button" disabled={!page.data?.nextCursor} onClick={() => page.data?.nextCursor && setCursors((c) => [...c, page.data!.nextCursor!])}>
          Next page
        </button>
      </nav>
    </>
  )
}

function UserRow({
  user,
  roles,
  action,
  confirm,
  onChange,
}: {
  user: User
  roles: readonly string[]
  action: Action
  confirm: (question: string, act: string) => Promise<boolean>
  onChange: () => void
}) {
  const target = { email: user.email }
  const locked = user.lockedUntil !== null && Date.parse(user.lockedUntil) > Date.now()
  const act = async (question: string | undefined, label: string, run: () => Promise<unknown>, done: string): Promise<void> => {
    if (question && !(await confirm(question, label))) return
    if ((await action.run(run, done)) !== undefined) onChange()
  }
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
      <form
        class="inline-form"
        onSubmit={(event) => {
          event.preventDefault()
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
        <label>
          Email
          <input type="email" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
        </label>
        <label>
          Name
          <input value={name} onInput={(e) => setName(e.currentTarget.value)} />
        </label>
        <label>
          Role
          <select value={role} onChange={(e) => setRole(e.currentTarget.value)}>
            {(roles.length > 0 ? roles : ['viewer']).map((r) => (
              <option key={r}>{r}</option>
            ))}
          </select>
        </label>
        <button type="submit" class="primary" disabled={action.busy}>
          Create with a generated password
        </button>
      </form>
      <ErrorNote error={action.error} />
      <Done message={action.done} />
      {password ? <SecretOnce label="The new user's password" value={password} /> : null}
    </details>
  )
}
