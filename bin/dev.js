#!/usr/bin/env node
// Development mode: oclif registers tsx itself and runs commands/ and src/ as TypeScript, no build needed.
// tsx's CommonJS hook as well, so that oclif resolves the command table (package.json oclif.commands,
// mapped from dist/ to commands/index.ts) at once, instead of warning that it found no source for it.
import { register } from 'tsx/cjs/api'
import { execute } from '@oclif/core'

register()
await execute({ development: true, dir: import.meta.url })
