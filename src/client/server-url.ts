/**
 * Server URLs: one spelling per server (the credentials file's keys), a display form without secrets, and
 * whether credentials may be sent to one.
 */
import { GantryError } from '../core/errors.js'

/**
 * The canonical form of a server URL: lower-case scheme and host (the URL parser does that), default port
 * dropped, no user info, query or fragment, no trailing slash. `HTTP://Host:80/api/` → `http://host/api`.
 */
export function normaliseServerUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url.trim())
  } catch {
    throw new GantryError('INVALID_INPUT', `The server URL "${displayUrl(url)}" is not a valid URL.`, {
      hint: 'Use the form https://host[:port], e.g. http://127.0.0.1:3000.',
    })
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new GantryError('INVALID_INPUT', `The server URL "${displayUrl(url)}" must start with http:// or https://.`)
  }
  const path = parsed.pathname.replace(/\/+$/, '')
  return `${parsed.protocol}//${parsed.host}${path}`
}

/** A URL as it may be shown: user info (a password in the URL) removed; unparseable input cut short. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url)
    parsed.username = ''
    parsed.password = ''
    return parsed.toString().replace(/\/$/, '')
  } catch {
    // Up to the last @ of the authority: a password may hold an unencoded @.
    return url.replace(/\/\/[^/]*@/, '//').slice(0, 200)
  }
}

/** Whether a normalised URL's host is this machine: localhost, 127.0.0.0/8 or ::1. */
export function isLoopback(url: string): boolean {
  const { hostname } = new URL(url)
  return hostname === 'localhost' || hostname === '[::1]' || /^127(\.\d{1,3}){3}$/.test(hostname)
}

/**
 * Refuses to send credentials (a password, a token, an API key) to a plain http:// URL off this machine:
 * they would cross the network in clear. `allowHttp` is the operator saying the network in between is trusted.
 */
export function requireEncryptedTransport(url: string, allowHttp: boolean): void {
  if (allowHttp || new URL(url).protocol === 'https:' || isLoopback(url)) return
  throw new GantryError('INVALID_INPUT', `Refusing to send credentials to ${displayUrl(url)} over plain http: they would cross the network in clear.`, {
    hint: 'Use an https:// URL, or pass --allow-http (GANTRY_ALLOW_HTTP=1) if the network in between is trusted.',
    details: { url: displayUrl(url) },
  })
}
