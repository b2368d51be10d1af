import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { PACKAGE_ROOT } from './cli.js'

/** Gantry's own migrations as the migrator names them (bare, in order), read from the migrations folder. */
export const GANTRY_MIGRATIONS: readonly string[] = readdirSync(join(PACKAGE_ROOT, 'migrations'))
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort()
