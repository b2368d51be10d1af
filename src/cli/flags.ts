import { Flags } from '@oclif/core'
import type { TransactionMode } from '../db/migrator/types.js'

/** Flags that several commands share, written once so their names, help and defaults stay the same. */
export const sharedFlags = {
  force: Flags.boolean({ summary: 'Confirm a destructive action in a protected environment.' }),
  yes: Flags.boolean({ char: 'y', summary: 'Do not ask at a terminal (a protected environment still needs --force or the typed name).' }),
  lockTimeout: Flags.integer({ summary: 'Seconds to wait for another run to release the migration lock.', default: 60, min: 0 }),
  ts: Flags.boolean({ summary: 'Write TypeScript.', exclusive: ['js'] }),
  js: Flags.boolean({ summary: 'Write JavaScript.', exclusive: ['ts'] }),
  atomic: Flags.boolean({
    summary:
      'Run the whole run in one transaction, so a failure keeps none of it (SQLite, PostgreSQL; refused on MySQL/MariaDB). --no-atomic: one per migration. Default: migrations.transaction in gantry.config.json.',
    allowNo: true,
  }),
}

/**
 * A flag whose values are an enum's (a zod enum's `options`, or a constant list): oclif lists and checks
 * them in help and parsing, and the parsed value is typed as the enum, so no command casts it.
 */
export function enumFlag<const T extends readonly string[]>(values: { readonly options: T } | T, summary: string) {
  const options = 'options' in values ? values.options : values
  return Flags.option({ summary, options })()
}

/** The file type --ts / --js ask for, else the workspace's setting. */
export function scriptExtension(flags: { ts?: boolean; js?: boolean }, fallback: 'ts' | 'js'): 'ts' | 'js' {
  return flags.ts ? 'ts' : flags.js ? 'js' : fallback
}

/** The transaction mode --atomic / --no-atomic ask for, else none (the workspace's setting applies). */
export function atomicMode(atomic: boolean | undefined): TransactionMode | undefined {
  return atomic === undefined ? undefined : atomic ? 'batch' : 'each'
}
