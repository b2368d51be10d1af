import { isAbsolute, relative } from 'node:path'
import { parseDatabaseUrl, redact } from '../db/url.js'
import type { Runtime } from '../runtime.js'
import type { Ui } from './ui.js'

/**
 * `production → mysql://app:***@db:3306/shop`: which environment and database a migrate or seed command
 * acts on, in words. A server URL is shown with its secrets masked; a SQLite file by its path from the
 * workspace root (as the config writes it), or absolute when it lies outside the workspace.
 */
export function describeMigrateTarget(environment: string, databaseUrl: string, root: string): string {
  return `${environment} → ${displayDatabase(databaseUrl, root)}`
}

/** Says on stderr, before anything connects, where the command is about to act (silent under --json). */
export function noteMigrateTarget(ui: Ui, environment: string, runtime: Runtime): void {
  ui.note(describeMigrateTarget(environment, runtime.environment.database, runtime.workspace.root))
}

function displayDatabase(url: string, root: string): string {
  let target
  try {
    target = parseDatabaseUrl(url, root)
  } catch {
    // Opening the database reports what is wrong with the URL; this line only says where the command points.
    return redact(url)
  }
  if (target.dialect !== 'sqlite') return redact(url)
  if (target.filename === ':memory:') return 'sqlite::memory:'
  const path = relative(root, target.filename)
  return `sqlite:${path.startsWith('..') || isAbsolute(path) ? target.filename : `./${path}`}`
}
