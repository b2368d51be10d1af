import { isAbsolute, relative, resolve } from 'node:path'
import { GantryError } from '../core/errors.js'
import { tlsSettings, type TlsSettings } from './tls.js'

export type Dialect = 'sqlite' | 'mysql' | 'postgres'

/** A database URL taken apart: which dialect, and where (a file for SQLite, a server otherwise). */
export type DatabaseTarget =
  | { readonly dialect: 'sqlite'; readonly filename: string; readonly display: string }
  | {
      readonly dialect: 'mysql' | 'postgres'
      readonly host: string
      readonly port: number
      readonly user: string
      readonly password: string
      readonly database: string
      readonly params: URLSearchParams
      /** TLS from the URL's sslmode/sslrootcert (PostgreSQL) or ssl-mode/ssl-ca (MySQL/MariaDB): tls.ts. */
      readonly tls: TlsSettings
      readonly display: string
    }

const SCHEMES: Record<string, Dialect> = {
  'sqlite:': 'sqlite',
  'sqlite3:': 'sqlite',
  'mysql:': 'mysql',
  'mariadb:': 'mysql',
  'postgres:': 'postgres',
  'postgresql:': 'postgres',
}

/**
 * Parses a database URL. SQLite paths resolve from the workspace root (never the cwd): `sqlite:./x.sqlite3`,
 * `sqlite:/abs/x.sqlite3`, `sqlite::memory:`; so does a server URL's CA file. The display form never carries the password.
 */
export function parseDatabaseUrl(url: string, root: string): DatabaseTarget {
  const scheme = /^[a-z0-9]+:/i.exec(url)?.[0]?.toLowerCase()
  const dialect = scheme ? SCHEMES[scheme] : undefined
  if (!scheme || !dialect) {
    throw new GantryError('DB_URL_INVALID', `Unsupported database URL "${redact(url)}": expected sqlite:, mysql:, mariadb: or postgres:.`)
  }
  if (dialect === 'sqlite') {
    const rest = url.slice(scheme.length).replace(/^\/\/(?=\/)/, '')
    if (!rest) throw new GantryError('DB_URL_INVALID', 'The sqlite: URL names no file, e.g. sqlite:./.gantry/dev.sqlite3.')
    const filename = rest === ':memory:' ? rest : isAbsolute(rest) ? rest : resolve(root, rest)
    return { dialect, filename, display: `sqlite:${filename}` }
  }
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new GantryError('DB_URL_INVALID', `"${redact(url)}" is not a valid URL.`)
  }
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, ''))
  if (!parsed.hostname || !database) {
    throw new GantryError('DB_URL_INVALID', `"${redact(url)}" needs a host and a database name, e.g. ${scheme}//user@host/app.`)
  }
  const port = parsed.port ? Number(parsed.port) : dialect === 'mysql' ? 3306 : 5432
  const user = decodeURIComponent(parsed.username) || (dialect === 'mysql' ? 'root' : 'postgres')
  const host = parsed.hostname.replace(/^\[|\]$/g, '')
  const tls = tlsSettings(dialect, parsed.searchParams, root, host)
  return {
    dialect,
    host,
    port,
    user,
    password: decodeURIComponent(parsed.password),
    database,
    params: parsed.searchParams,
    tls,
    display: `${scheme}//${user}@${parsed.host}/${database}`,
  }
}

/** Names that say they hold a secret (a variable, a URL's query parameter): their values are never shown. */
export const SECRET_NAME = /SECRET|PASSWORD|TOKEN|KEY|PASS/i

/** A URL inside text: a scheme and `//`, to the next whitespace. */
const URL_IN_TEXT = /[a-z][a-z0-9+.-]*:\/\/\S*/gi
/** User and password; the password runs to the LAST `@`: it may hold an unencoded `@`, `/`, `?` or `#` (base64 has `/`). */
const USER_INFO = /^[a-z][a-z0-9+.-]*:\/\/([^:@/]*):(\S*)@/i
/** A query parameter and its value; a `}` that ends the value closes a `${VAR:-default}`, it is not part of it. */
const QUERY_PARAMETER = /([?&]([^=&#]*)=)([^&#]*?)(?=\}*(?:[&#]|$))/g

/**
 * Text with the secrets of every URL in it replaced by *** (also inside `${VAR:-default}`), for messages and
 * `env show`: the password in the user info, and the value of each query parameter whose name says it is a
 * secret (`password=`, `sslpassword=`, `token=`, `key=` …). Where a URL is ambiguous (an `@` in a query
 * value, a `&` in a password) both readings are masked: more is hidden, never less.
 */
export function redact(text: string): string {
  return text.replace(URL_IN_TEXT, (url) => {
    const spans: Array<readonly [start: number, end: number]> = []
    const info = USER_INFO.exec(url)
    if (info) spans.push([info[0].length - 1 - (info[2] ?? '').length, info[0].length - 1])
    for (const param of url.matchAll(QUERY_PARAMETER)) {
      const [, head = '', name = '', value = ''] = param
      const start = param.index + head.length
      if (value !== '' && SECRET_NAME.test(name)) spans.push([start, start + value.length])
    }
    return maskSpans(url, spans)
  })
}

/** `text` with each run of characters the spans cover (overlapping or touching spans are one run) replaced by ***. */
function maskSpans(text: string, spans: ReadonlyArray<readonly [number, number]>): string {
  let out = ''
  let at = 0
  for (const [start, end] of [...spans].sort((a, b) => a[0] - b[0])) {
    // A span never starts at 0 (a URL starts with its scheme): one starting at or before `at` extends the run.
    if (start > at) out += `${text.slice(at, start)}***`
    at = Math.max(at, end)
  }
  return out + text.slice(at)
}

/**
 * A database URL as people read it: a server URL with its secrets masked; a SQLite file by its path from the
 * workspace root (as the config writes it), or absolute when it lies outside the workspace.
 */
export function displayDatabase(url: string, root: string): string {
  let target
  try {
    target = parseDatabaseUrl(url, root)
  } catch {
    // Opening the database reports what is wrong with the URL; this only says where it points.
    return redact(url)
  }
  if (target.dialect !== 'sqlite') return redact(url)
  if (target.filename === ':memory:') return 'sqlite::memory:'
  const path = relative(root, target.filename)
  return `sqlite:${path.startsWith('..') || isAbsolute(path) ? target.filename : `./${path}`}`
}

/** Names of the loopback host that reach the same server. */
const LOOPBACK = new Set(['localhost', '127.0.0.1', '::1'])

/**
 * Whether two database URLs reach the same database: the same SQLite file, or the same server (loopback
 * names counted as one) and database, whoever logs in. Staging and production often both read
 * ${DATABASE_URL}, so one shell can resolve them to one database: a copy between them must see that.
 */
export function sameDatabase(a: string, b: string, root: string): boolean {
  const [x, y] = [parseDatabaseUrl(a, root), parseDatabaseUrl(b, root)]
  if (x.dialect === 'sqlite' || y.dialect === 'sqlite') return x.dialect === y.dialect && 'filename' in x && 'filename' in y && x.filename === y.filename
  const host = (h: string): string => (LOOPBACK.has(h.toLowerCase()) ? 'loopback' : h.toLowerCase())
  return x.dialect === y.dialect && host(x.host) === host(y.host) && x.port === y.port && x.database === y.database
}
