/**
 * The console's frame: sign-in, the navigation of the areas the user may read, and the area the address's
 * hash names (`#/users`). Areas stay mounted while the session is renewed or re-entered.
 */
import type { ComponentType } from 'preact'
import { useEffect, useState } from 'preact/hooks'
import { ApiKeys } from './areas/apikeys.js'
import { Audit } from './areas/audit.js'
import { Flags } from './areas/flags/index.js'
import { Maintenance } from './areas/maintenance.js'
import { Overview } from './areas/overview.js'
import { RateLimits } from './areas/ratelimits/index.js'
import { Roles } from './areas/roles.js'
import { Users } from './areas/users.js'
import { Webhooks } from './areas/webhooks/index.js'
import { Backups } from './areas/backups.js'
import { SignIn } from './sign-in.js'
import { can, current, signOut, subscribe, type SessionState } from './session.js'

interface Area {
  readonly path: string
  readonly label: string
  /** What it takes to see the area at all. */
  readonly permission: string
  readonly view: ComponentType
}

const AREAS: readonly Area[] = [
  { path: 'overview', label: 'Overview', permission: 'maintenance:read', view: Overview },
  { path: 'users', label: 'Users', permission: 'users:read', view: Users },
  { path: 'roles', label: 'Roles', permission: 'roles:read', view: Roles },
  { path: 'apikeys', label: 'API keys', permission: 'apikeys:read', view: ApiKeys },
  { path: 'ratelimits', label: 'Rate limits', permission: 'ratelimits:read', view: RateLimits },
  { path: 'audit', label: 'Audit log', permission: 'audit:read', view: Audit },
  { path: 'maintenance', label: 'Maintenance', permission: 'maintenance:read', view: Maintenance },
  { path: 'flags', label: 'Feature flags', permission: 'flags:read', view: Flags },
  { path: 'webhooks', label: 'Webhooks', permission: 'webhooks:read', view: Webhooks },
  { path: 'backups', label: 'Backups', permission: 'backups:read', view: Backups },
]

/**
 * Effects run after the first frame, which a loaded machine paints late: by then the session check on load
 * may have finished, so each hook reads the current value again once it listens, or the page would keep
 * showing "Loading…".
 */
function useSession(): SessionState {
  const [state, setState] = useState(current())
  useEffect(() => {
    const unsubscribe = subscribe(setState)
    setState(current())
    return unsubscribe
  }, [])
  return state
}

function useHash(): string {
  const read = (): string => location.hash.replace(/^#\/?/, '').split('/')[0] ?? ''
  const [hash, setHash] = useState(read())
  useEffect(() => {
    const onChange = (): void => setHash(read())
    addEventListener('hashchange', onChange)
    onChange()
    return () => removeEventListener('hashchange', onChange)
  }, [])
  return hash
}

export function App() {
  const session = useSession()
  const hash = useHash()
  const areas = session.status === 'signed-in' || session.status === 'expired' ? AREAS.filter((a) => can(a.permission)) : []
  const area = areas.find((a) => a.path === hash) ?? areas[0]
  useEffect(() => {
    document.title = area ? `${area.label} · Gantry console` : 'Gantry console'
  }, [area])
  if (session.status === 'starting') return <p class="loading">Loading…</p>
  if (session.status === 'signed-out') return <SignIn />
  return (
    <>
      <a class="skip" href="#main">
        Skip to content
      </a>
      <header class="top">
        <span class="brand">Gantry console</span>
        <nav aria-label="Areas">
          <ul>
            {areas.map((a) => (
              <li key={a.path}>
                <a href={`#/${a.path}`} aria-current={a === area ? 'page' : undefined}>
                  {a.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          <span title={session.me.user.role}>{session.me.user.email}</span>
          <button type="button" onClick={() => void signOut()}>
            Sign out
          </button>
        </span>
      </header>
      <main id="main" tabIndex={-1}>
        {area ? <area.view key={area.path} /> : <p>Your role ({session.me.user.role}) may not read any area of the console.</p>}
      </main>
      {session.status === 'expired' ? <SignIn expired /> : null}
    </>
  )
}
