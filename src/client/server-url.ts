/** Server URLs: one spelling per server (the credentials file's keys), and a display form without secrets. */
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
    throw new GantryError('INVALID_INPUT', `The server URL "${displayUrl(url)}" is not a valid URL.`, { hint: 'Use the form https://host[:port], e.g. http://127.0.0.1:3000.' })
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
    return url.replace(/\/\/[^/@]*@/, '//').slice(0, 200)
  }
}
