/**
 * `gantry login --sso`, in one of two ways.
 *
 * Through a browser on this machine, as a native app (RFC 8252). The CLI listens once on the
 * IP loopback (127.0.0.1, a port of its own: never a name another program could answer for), sends the
 * browser to the server's sign-in with that address, a random state and a PKCE challenge (S256), and waits.
 * The server signs the user in with the identity provider, then sends the browser back here with a
 * one-time code, which only this process can exchange: the server checks the verifier of the challenge.
 *
 * On another device (RFC 8628), where this machine has no browser (a shell over SSH, a server): the server
 * asks the provider for a device sign-in, the CLI prints the page and the code to enter there, and polls the
 * server, waiting the seconds each answer names (the provider's interval), until the person has approved it
 * on any device.
 */
import { spawn } from 'node:child_process'
import { createServer, type Server } from 'node:http'
import { setTimeout as sleep } from 'node:timers/promises'
import type { AddressInfo } from 'node:net'
import { calculatePKCECodeChallenge, randomPKCECodeVerifier, randomState } from 'openid-client'
import type { AuthApi } from '../client/auth-api.js'
import { GantryError, isGantryError } from '../core/errors.js'
import type { SessionTokens } from '../core/sessions/sessions.schema.js'
import type { SsoDevicePoll, SsoDeviceStart } from '../core/sso/sso.schema.js'

const CALLBACK_PATH = '/callback'
/** How long the browser has to come back (a person signing in, maybe with a second factor). */
export const SSO_LOGIN_TIMEOUT_MS = 5 * 60_000

export interface SsoLoginOptions {
  /** The server's base URL. */
  readonly url: string
  readonly auth: Pick<AuthApi, 'ssoProviders' | 'ssoExchange' | 'ssoDeviceStart' | 'ssoDevicePoll'>
  /** The provider's id; none: the server's only one. */
  readonly provider?: string | undefined
  /** Says where to sign in (the address, on stderr: a script or a person copies it from there). */
  readonly tell: (line: string) => void
  /** Opens the browser at an address; false when there is none to open. */
  readonly openBrowser: boolean
  /**
   * true: on another device (the provider must offer it); false: through a browser on this machine;
   * undefined: on another device where this machine has no browser and the provider offers it.
   */
  readonly device?: boolean | undefined
  readonly timeoutMs?: number | undefined
}

type Provider = { id: string; name: string }

/** Signs in with the server's identity provider; the session the server handed back. */
export async function ssoLogin(options: SsoLoginOptions): Promise<SessionTokens> {
  const { providers } = await options.auth.ssoProviders()
  const provider = pickProvider(providers, options.provider)
  const device = options.device ?? (hasLocalBrowser() ? false : undefined)
  if (device !== false) {
    const started = await startDevice(options, provider, device === true)
    if (started) return awaitDevice(options, started)
  }
  return signInThroughBrowser(options, provider)
}

/**
 * Whether a browser here can reach this machine's loopback: a desktop session, not a shell over SSH (whose
 * browser is on another machine) nor a Linux box without a display.
 */
export function hasLocalBrowser(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): boolean {
  if (env.SSH_CONNECTION || env.SSH_TTY) return false
  if (platform === 'darwin' || platform === 'win32') return true
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY)
}

/** A device sign-in at the provider; undefined, when not `required`, where the provider offers none (the browser it is). */
async function startDevice(options: SsoLoginOptions, provider: Provider, required: boolean): Promise<SsoDeviceStart | undefined> {
  try {
    const started = await options.auth.ssoDeviceStart(provider.id)
    const complete = started.verificationUriComplete ? ` (or open ${started.verificationUriComplete})` : ''
    options.tell(`Sign in with ${provider.name} on any device: open ${started.verificationUri} and enter the code ${started.userCode}${complete}`)
    return started
  } catch (err) {
    if (required || !isGantryError(err) || err.code !== 'SSO_UNAVAILABLE') throw err
    options.tell(`${provider.name} offers no sign-in on another device here; signing in through a browser on this machine instead.`)
    return undefined
  }
}

/** Polls the device sign-in until the person approved it, waiting what each answer says; SSO_FAILED when refused or expired. */
async function awaitDevice(options: SsoLoginOptions, started: SsoDeviceStart): Promise<SessionTokens> {
  // The server refuses an expired code; this bound only keeps a server that never says so from holding the CLI forever.
  const deadline = Date.now() + started.expiresIn * 1000 + 60_000
  for (let wait = started.interval; Date.now() < deadline;) {
    await sleep(Math.min(wait * 1000, Math.max(0, deadline - Date.now())))
    let poll: SsoDevicePoll
    try {
      poll = await options.auth.ssoDevicePoll(started.handle)
    } catch (err) {
      // The provider or the server out of reach for now: the sign-in stays on the server, so ask again.
      if (isGantryError(err) && (err.code === 'SSO_UNAVAILABLE' || err.code === 'SERVER_UNREACHABLE')) continue
      throw err
    }
    if (poll.status === 'signed-in') return poll.tokens
    wait = poll.interval
  }
  throw new GantryError('SSO_FAILED', `The code was not approved within ${Math.round(started.expiresIn / 60)} min.`, {
    hint: 'Run `gantry login --sso` again.',
  })
}

async function signInThroughBrowser(options: SsoLoginOptions, provider: Provider): Promise<SessionTokens> {
  const verifier = randomPKCECodeVerifier()
  const state = randomState()
  const listener = await listenOnLoopback()
  try {
    const redirect = `http://127.0.0.1:${(listener.server.address() as AddressInfo).port}${CALLBACK_PATH}`
    const query = new URLSearchParams({ cli: redirect, state, challenge: await calculatePKCECodeChallenge(verifier) })
    const start = `${options.url.replace(/\/+$/, '')}/api/v1/auth/sso/${encodeURIComponent(provider.id)}/start?${query}`
    options.tell(`Sign in with ${provider.name} in your browser: ${start}`)
    if (options.openBrowser) openInBrowser(start)
    const code = await listener.code(state, options.timeoutMs ?? SSO_LOGIN_TIMEOUT_MS)
    return await options.auth.ssoExchange(code, verifier)
  } finally {
    listener.server.close()
  }
}

function pickProvider(providers: readonly Provider[], wanted: string | undefined): Provider {
  const ids = providers.map((p) => p.id).join(', ')
  if (providers.length === 0) throw new GantryError('SSO_PROVIDER_UNKNOWN', 'This server signs in with no identity provider (auth.sso.providers is empty).')
  if (wanted === undefined) {
    if (providers.length === 1) return providers[0] as Provider
    throw new GantryError('INVALID_INPUT', `This server signs in with several identity providers (${ids}): name one with --provider.`)
  }
  const found = providers.find((p) => p.id === wanted)
  if (!found) throw new GantryError('SSO_PROVIDER_UNKNOWN', `This server has no identity provider ${JSON.stringify(wanted.slice(0, 40))}; it has ${ids}.`)
  return found
}

/** A one-shot listener on 127.0.0.1: `code(state)` resolves with the code of the first callback that carries that state. */
async function listenOnLoopback(): Promise<{ server: Server; code(state: string, timeoutMs: number): Promise<string> }> {
  let settle: ((outcome: { code: string } | { error: GantryError }) => void) | undefined
  let expected = ''
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1')
    const code = url.searchParams.get('code')
    // Anything but the callback of this sign-in is answered and ignored: a page the user opens by mistake ends nothing.
    if (url.pathname !== CALLBACK_PATH || url.searchParams.get('state') !== expected || !code) {
      res.writeHead(400, { 'content-type': 'text/plain; charset=utf-8' }).end('This is not the sign-in Gantry is waiting for.\n')
      return
    }
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('Signed in to Gantry. You can close this window.\n')
    settle?.({ code })
  })
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.0.0.1', () => resolve()))
  return {
    server,
    code(state, timeoutMs) {
      expected = state
      return new Promise<string>((resolve, reject) => {
        const timer = setTimeout(
          () =>
            settle?.({
              error: new GantryError('SSO_FAILED', `No sign-in came back within ${Math.round(timeoutMs / 1000)} s.`, {
                hint: 'Run `gantry login --sso` again.',
              }),
            }),
          timeoutMs,
        )
        settle = (outcome) => {
          clearTimeout(timer)
          settle = undefined
          if ('code' in outcome) resolve(outcome.code)
          else reject(outcome.error)
        }
      })
    },
  }
}

/**
 * The platform's opener (open, xdg-open), detached, the address as one argument; a failure, or Windows (whose
 * `start` goes through cmd, which would read the query's & as a command separator), leaves the printed address.
 */
function openInBrowser(url: string): void {
  if (process.platform === 'win32') return
  try {
    const child = spawn(process.platform === 'darwin' ? 'open' : 'xdg-open', [url], { stdio: 'ignore', detached: true })
    child.on('error', () => undefined)
    child.unref()
  } catch {
    // No opener here: the address printed above is the way.
  }
}
