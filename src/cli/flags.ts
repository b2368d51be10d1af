import { Flags } from '@oclif/core'

/** Flags that several commands share, written once so their names, help and defaults stay the same. */
export const sharedFlags = {
  force: Flags.boolean({ summary: 'Confirm a destructive action in a protected environment.' }),
  lockTimeout: Flags.integer({ summary: 'Seconds to wait for another run to release the migration lock.', default: 60, min: 0 }),
  ts: Flags.boolean({ summary: 'Write TypeScript.', exclusive: ['js'] }),
  js: Flags.boolean({ summary: 'Write JavaScript.', exclusive: ['ts'] }),
}

/** The file type --ts / --js ask for, else the workspace's setting. */
export function scriptExtension(flags: { ts?: boolean; js?: boolean }, fallback: 'ts' | 'js'): 'ts' | 'js' {
  return flags.ts ? 'ts' : flags.js ? 'js' : fallback
}
