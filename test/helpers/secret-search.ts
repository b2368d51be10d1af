/**
 * Looking for secrets where they must not be (issue 3, and the reliability scenario secret-leakage):
 * every secret a session mints or is given is collected with the places it may appear (its one creation
 * output; a hash only in its hash columns), every output, file, log and database cell becomes a place,
 * and a secret seen anywhere else is a leak.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join, relative } from 'node:path'
import knexFactory, { type Knex } from 'knex'
import type { CliResult } from './cli.js'
import { sqliteKnex } from './sqlite-file.js'

/** A place a secret was seen: `run N stdout`, `http N`, `file PATH`, `db TABLE.COLUMN`, `log` … */
export type Place = string

export interface Secret {
  readonly what: string
  readonly value: string
  /** Where it may appear; anywhere else is a leak. */
  readonly allowed: readonly Place[]
}

export interface Text {
  readonly place: Place
  /** How a leak there is reported: `gantry users list (stdout)`, `POST /api/v1/auth/login → 401` … */
  readonly label: string
  readonly text: string
}

export interface Cell {
  readonly table: string
  readonly column: string
  readonly value: string
}

/** Columns that hold a secret in its stored form: password and token hashes, an encrypted private key. */
const STORED_SECRET = /hash$|^private_/
/** Databases are dumped row by row instead: their files keep freed pages that once held old hashes. */
const SKIPPED_FILES = /\.sqlite3(-wal|-shm|-journal)?$/

/** The workspace's signing secret, as `gantry init` wrote it into .env.development. */
export function workspaceAuthSecret(root: string): string {
  return /^GANTRY_AUTH_SECRET=(.+)$/m.exec(readFileSync(join(root, '.env.development'), 'utf8'))?.[1] ?? ''
}

/** The secret part of an API key: `gk_<env>_<id>_<secret><check>`, the check being the last 6 characters. */
export function apiKeySecret(key: string): string {
  return (key.split('_')[3] ?? '').slice(0, -6)
}

/**
 * A session's secrets and the texts they are looked for in. `cli` and `http` record an output and return
 * its place, so that a secret can be allowed there (its creation output) and nowhere else.
 */
export class SecretLedger {
  readonly secrets: Secret[] = []
  readonly texts: Text[] = []
  private runs = 0
  private answers = 0

  /** Records the stdout and stderr of a CLI run; returns the place of its stdout. */
  cli(label: string, result: CliResult): Place {
    this.runs += 1
    this.texts.push(
      { place: `run ${this.runs} stdout`, label: `${label} (stdout)`, text: result.stdout },
      { place: `run ${this.runs} stderr`, label: `${label} (stderr)`, text: result.stderr },
    )
    return `run ${this.runs} stdout`
  }

  /** Records an HTTP answer (status, headers and body); returns its place. */
  http(label: string, answer: { status: number; headers: Record<string, unknown>; body: string }): Place {
    this.answers += 1
    const head = Object.entries(answer.headers).map(([name, value]) => `${name}: ${String(value)}`)
    this.texts.push({ place: `http ${this.answers}`, label: `${label} → ${answer.status}`, text: `${answer.status}\n${head.join('\n')}\n\n${answer.body}` })
    return `http ${this.answers}`
  }

  text(place: Place, label: string, text: string): void {
    this.texts.push({ place, label, text })
  }

  add(what: string, value: string, allowed: readonly Place[] = []): void {
    this.secrets.push({ what, value, allowed })
  }

  /** An API key and its secret part, shown at `place`. */
  apiKey(what: string, key: string, place: Place): void {
    if (!/^gk_[a-z0-9-]+_[0-9A-Za-z]{12}_[0-9A-Za-z]{38}$/.test(key)) throw new Error(`${what} is not an API key: ${key}`)
    this.add(what, key, [place])
    this.add(`${what} (secret part)`, apiKeySecret(key), [place])
  }

  /** An access token (JWT) and its signature, shown at `place`. */
  accessToken(what: string, jwt: string, place: Place): void {
    if (!/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/.test(jwt)) throw new Error(`${what} is not a JWT: ${jwt}`)
    this.add(what, jwt, [place])
    this.add(`${what} (signature)`, jwt.split('.')[2] ?? '', [place])
  }

  /**
   * The database's cells become texts, and its stored secrets (hashes, sealed keys) secrets: each may sit
   * in such a column of its own table, and nowhere else.
   */
  database(cells: readonly Cell[]): void {
    const known = new Set(this.secrets.map((s) => s.value))
    for (const cell of cells) {
      if (!STORED_SECRET.test(cell.column) || cell.value === '' || known.has(cell.value)) continue
      known.add(cell.value)
      const columns = [...new Set(cells.filter((c) => c.table === cell.table && STORED_SECRET.test(c.column)).map((c) => `db ${c.table}.${c.column}`))]
      this.add(`stored ${cell.table}.${cell.column}`, cell.value, columns)
    }
    for (const c of cells) this.text(`db ${c.table}.${c.column}`, `${c.table}.${c.column}`, c.value)
  }

  /** Every file under `dir` (databases aside) becomes a text, its place `file PATH` with PATH relative to the workspace `root`. */
  files(dir: string, root: string): void {
    for (const file of filesUnder(dir)) this.text(`file ${relative(root, file)}`, relative(dir, file), readFileSync(file, 'utf8'))
  }

  /**
   * Each secret seen outside its allowed places (`leaks`), and each creation output that does not show
   * the secret it should (`unshown`: a secret shown once is shown; files and columns may be empty of it).
   */
  search(): { leaks: string[]; unshown: string[] } {
    const leaks: string[] = []
    const unshown: string[] = []
    for (const secret of this.secrets) {
      if (secret.value === '') throw new Error(`${secret.what}: an empty secret`)
      const seen = this.texts.filter((t) => t.text.includes(secret.value))
      for (const t of seen) if (!secret.allowed.includes(t.place)) leaks.push(`${secret.what} in ${t.label}`)
      for (const place of secret.allowed) if (/^(run|http) /.test(place) && !seen.some((t) => t.place === place)) unshown.push(`${secret.what} not in ${place}`)
    }
    return { leaks, unshown }
  }
}

/** Every file under `root`, databases aside. */
function filesUnder(root: string): string[] {
  return readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !SKIPPED_FILES.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name))
}

/** Every non-null cell of every table of a SQLite file, as text (read-only). */
export async function dumpSqlite(file: string): Promise<Cell[]> {
  const db = sqliteKnex(file, { readonly: true })
  try {
    const tables = (await db.raw("SELECT name FROM sqlite_master WHERE type = 'table'")) as Array<{ name: string }>
    return await dumpTables(
      db,
      tables.map((t) => t.name),
    )
  } finally {
    await db.destroy()
  }
}

/** Every non-null cell of every table of a PostgreSQL database's public schema, as text. */
export async function dumpPostgres(url: string): Promise<Cell[]> {
  const db = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 1 } })
  try {
    const tables = (await db('information_schema.tables').select('table_name').where({ table_schema: 'public', table_type: 'BASE TABLE' })) as Array<{
      table_name: string
    }>
    return await dumpTables(
      db,
      tables.map((t) => t.table_name),
    )
  } finally {
    await db.destroy()
  }
}

async function dumpTables(db: Knex, tables: readonly string[]): Promise<Cell[]> {
  const dump: Cell[] = []
  for (const table of tables) {
    for (const row of (await db.select('*').from(table)) as Array<Record<string, unknown>>) {
      for (const [column, value] of Object.entries(row)) if (value !== null) dump.push({ table, column, value: cellText(value) })
    }
  }
  return dump
}

/** A cell as text: bytes as UTF-8, JSON columns (PostgreSQL hands them over parsed) as JSON, dates as ISO. */
function cellText(value: unknown): string {
  if (Buffer.isBuffer(value)) return value.toString('utf8')
  if (value instanceof Date) return value.toISOString()
  if (typeof value === 'object') return JSON.stringify(value)
  return String(value)
}
