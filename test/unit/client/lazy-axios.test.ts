/** `gantry health` and every command that never talks to a server must not pay for axios at import. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'

const DIR = join(import.meta.dirname, '../../../src/client')

describe('src/client loads axios lazily', () => {
  it('no module of src/client imports axios at its top level (only types, or import() inside a function)', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.ts'))
    expect(files).to.include('http-client.ts')
    for (const file of files) {
      const source = readFileSync(join(DIR, file), 'utf8')
      const valueImports = source
        .split('\n')
        .filter((line) => /^\s*import\s+(?!type\b)[^;]*['"]axios['"]/.test(line) || /^\s*export\s+[^;]*from\s+['"]axios['"]/.test(line))
      expect(valueImports, file).to.deep.equal([])
    }
    expect(readFileSync(join(DIR, 'http-client.ts'), 'utf8')).to.include("await import('axios')")
  })
})
