#!/usr/bin/env node
// Development mode: oclif registers tsx itself and runs commands/ and src/ as TypeScript, no build needed
// (package.json oclif.commands, dist/commands, maps to commands/ through tsconfig's outDir and rootDir).
import { execute } from '@oclif/core'

await execute({ development: true, dir: import.meta.url })
