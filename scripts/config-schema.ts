/**
 * `npm run schema`: writes schema/gantry.config.schema.json from the zod schema in src/config/schema.ts.
 * `--check` exits 1 when the committed file differs from what would be written (for CI).
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { CONFIG_SCHEMA_FILE, configJsonSchemaText } from '../src/config/json-schema.js'

const target = join(dirname(fileURLToPath(import.meta.url)), '..', 'schema', CONFIG_SCHEMA_FILE)
const text = configJsonSchemaText()
if (process.argv.includes('--check')) {
  let current = ''
  try {
    current = readFileSync(target, 'utf8')
  } catch {
    // a missing file differs
  }
  if (current !== text) {
    process.stderr.write(`${target} is out of date: run npm run schema.\n`)
    process.exitCode = 1
  }
} else {
  writeFileSync(target, text)
  process.stdout.write(`wrote ${target}\n`)
}
