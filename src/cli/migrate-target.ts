import { displayDatabase } from '../db/url.js'
import type { Runtime } from '../runtime.js'
import type { Ui } from './ui.js'

/**
 * `production → mysql://app:***@db:3306/shop`: which environment and database a migrate or seed command
 * acts on, in words (displayDatabase).
 */
export function describeMigrateTarget(environment: string, databaseUrl: string, root: string): string {
  return `${environment} → ${displayDatabase(databaseUrl, root)}`
}

/** Says on stderr, before anything connects, where the command is about to act (silent under --json). */
export function noteMigrateTarget(ui: Ui, environment: string, runtime: Runtime): void {
  ui.note(describeMigrateTarget(environment, runtime.environment.database, runtime.workspace.root))
}
