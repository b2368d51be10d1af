/**
 * Sign-in with Gantry's own login and the environment's identity providers (the password form only where
 * auth.passwordLogin is on); over an expired session, a dialog over the page that keeps its state.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { useAction } from './ui/hooks.js'
import { ErrorNote } from './ui/parts.js'
import { request } from './api.js'
import { current, signIn } from './session.js'

export function SignIn({ expired = false }: { expired?: boolean }) {
  const [email, setEmail] = useState(() => {
    const state = current()
    return state.status === 'expired' ? state.me.user.email : ''
  })
  const [password, setPassword] = useState('')
  const action = useAction()
  const options = useSignInOptions()
  const dialog = useRef<HTMLDialogElement>(null)
  useEffect(() => {
    if (expired) dialog.current?.showModal()
  }, [expired])
  const form = (
    <form
      class="sign-in"
      onSubmit={(event) => {
        event.preventDefault()
        void action.run(() => signIn(email, password))
      }}
    >
      <h1 id="sign-in-title">{expired ? 'Your session has ended' : 'Sign in to Gantry'}</h1>
      {expired ? <p>Sign in again to go on where you were.</p> : null}
      {options.passwordLogin ? (
        <>
          <label>
            Email
            <input type="email" name="email" autocomplete="username" required value={email} onInput={(e) => setEmail(e.currentTarget.value)} />
          </label>
          <label>
            Password
            <input
              type="password"
              name="password"
              autocomplete="current-password"
              required
              value={password}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </label>
          <ErrorNote error={action.error} />
          <button type="submit" class="primary" disabled={action.busy}>
            Sign in
          </button>
        </>
      ) : null}
      {/* Over an expired session the password keeps the page; without one, a provider's sign-in is the way back. */}
      {expired && options.passwordLogin ? null : <SingleSignOn providers={options.providers} />}
    </form>
  )
  if (!expired) return <main class="centered">{form}</main>
  // Escape must not dismiss it: behind it, nothing works until the user signs in again.
  return (
    <dialog ref={dialog} aria-labelledby="sign-in-title" onCancel={(e) => e.preventDefault()}>
      {form}
    </dialog>
  )
}

/**
 * The identity providers of the environment (auth.sso.providers), one link each to the server's redirect to
 * it: a full-page navigation, since the provider's page is another site. The callback comes back to the
 * console signed in, or with `?sso=refused` (the reason is in the audit log, not in the address).
 */
function SingleSignOn({ providers }: { providers: readonly Provider[] }) {
  const refused = new URLSearchParams(location.search).get('sso') === 'refused'
  if (providers.length === 0 && !refused) return null
  return (
    <div class="sso">
      {refused ? (
        <p role="alert" class="note error">
          The sign-in with your identity provider was refused. Try again, or ask an admin: the audit log has the reason.
        </p>
      ) : null}
      {providers.map((p) => (
        <a key={p.id} class="button" href={`${SSO_PATH}/${encodeURIComponent(p.id)}/start`}>
          Sign in with {p.name}
        </a>
      ))}
    </div>
  )
}

const SSO_PATH = '/api/v1/auth/sso'

interface Provider {
  readonly id: string
  readonly name: string
}
interface SignInOptions {
  readonly providers: readonly Provider[]
  readonly passwordLogin: boolean
}

/** What the environment signs in with; the password form until it is known (or when it cannot be read). */
function useSignInOptions(): SignInOptions {
  const [options, setOptions] = useState<SignInOptions>({ providers: [], passwordLogin: true })
  useEffect(() => {
    request<SignInOptions>('GET', SSO_PATH, { renew: false }).then(
      (answer) => setOptions({ providers: answer.providers, passwordLogin: answer.passwordLogin !== false }),
      () => undefined,
    )
  }, [])
  return options
}
