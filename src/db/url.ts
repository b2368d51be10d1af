import { isAbsolute, resolve } from 'node:path'
import { GantryError } from '../core/errors.js'

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
 * `sqlite:/abs/x.sqlite3`, `sqlite::memory:`. The display form never carries the password.
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
  return {
    dialect,
    host,
    port,
    user,
    password: decodeURIComponent(parsed.password),
    database,
    params: parsed.searchParams,
    display: `${scheme}//${user}@${parsed.host}/${database}`,
  }
}

/** Text with the password of every URL in it replaced (also inside `${VAR:-default}`), for messages. */
export function redact(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]*:)[^@\s/]*@/gi, '$1***@')
}
