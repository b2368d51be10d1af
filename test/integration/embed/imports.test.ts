/**
 * The package as an app imports it (`import { createGantry } from 'gantry'`, the built dist/ through
 * package.json "exports"): it loads none of the CLI's packages — oclif, inquirer, chalk, ora — neither on
 * import nor while createGantry opens an environment and decides. A child process records every module it
 * loads: ES modules through a loader hook (module.register; the load hook sees each URL once), CommonJS
 * ones from require.cache (where Node keeps every CommonJS module, however it was reached).
 */
import { execFile } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { expect } from 'chai'
import { PACKAGE_ROOT } from '../../helpers/cli.js'
import { embedFixture, type EmbedFixture } from './fixture.js'

const CLI_ONLY = /[\\/]node_modules[\\/](@oclif[\\/]|oclif[\\/]|@inquirer[\\/]|inquirer[\\/]|chalk[\\/]|ora[\\/])/

const HOOKS = `
import { appendFileSync } from 'node:fs'
let log
export function initialize(data) { log = data.log }
export async function load(url, context, nextLoad) {
  appendFileSync(log, url + '\\n')
  return nextLoad(url, context)
}
`

/** What the child runs: register the hook, import the package by name, optionally use it (and `extra`); then list what was loaded. */
const childScript = (use: boolean, extra: string): string => `
import { register, createRequire } from 'node:module'
import { readFileSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
const { hooks, log, out, workspace } = JSON.parse(process.env.EMBED_PROBE)
register(hooks, { data: { log } })
const lib = await import('gantry')
if (${use}) {
  const gantry = await lib.createGantry({ cwd: workspace, env: 'development' })
  const decision = await gantry.checkRateLimit({ method: 'GET', path: '/orders', ip: '203.0.113.1' })
  if (!decision.allowed) throw new Error('refused')
  await gantry.close()
}
${extra}
const esm = readFileSync(log, 'utf8').split('\\n').filter(Boolean).filter((u) => u.startsWith('file:')).map((u) => fileURLToPath(u))
const cjs = Object.keys(createRequire(import.meta.url).cache)
writeFileSync(out, JSON.stringify({ exports: Object.keys(lib), loaded: [...esm, ...cjs] }))
`

interface Probe {
  exports: string[]
  loaded: string[]
}

describe('the library entry (built): imports no CLI packages', function () {
  this.timeout(60_000)
  let dir: string
  let f: EmbedFixture | undefined

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'gantry-imports-'))
    writeFileSync(join(dir, 'hooks.mjs'), HOOKS)
    f = await embedFixture('sqlite', { redis: false })
  })
  after(async () => {
    await f?.cleanup()
    rmSync(dir, { recursive: true, force: true })
  })

  let runs = 0
  const probe = (use: boolean, extra = ''): Promise<Probe> => {
    runs += 1
    const log = join(dir, `loaded-${runs}.log`)
    const out = join(dir, `probe-${runs}.json`)
    writeFileSync(log, '')
    const env = {
      ...process.env,
      NODE_OPTIONS: '',
      EMBED_PROBE: JSON.stringify({ hooks: pathToFileURL(join(dir, 'hooks.mjs')).href, log, out, workspace: f!.root }),
    }
    return new Promise((resolve, reject) => {
      // From the package root, `import('gantry')` resolves to the package itself through its "exports".
      execFile(process.execPath, ['--input-type=module', '-e', childScript(use, extra)], { cwd: PACKAGE_ROOT, env }, (err, _stdout, stderr) => {
        if (err) return reject(new Error(`the child failed: ${stderr}`))
        resolve(JSON.parse(readFileSync(out, 'utf8')) as Probe)
      })
    })
  }

  it('"exports" gives the ESM entry (also to require(), the default condition) and its declarations', () => {
    const manifest = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> }
    expect(manifest.exports['.']).to.deep.equal({ types: './dist/src/index.d.ts', import: './dist/src/index.js', default: './dist/src/index.js' })
    expect(existsSync(join(PACKAGE_ROOT, 'dist', 'src', 'index.d.ts')), 'npm run build first').to.equal(true)
    expect(readFileSync(join(PACKAGE_ROOT, 'dist', 'src', 'index.d.ts'), 'utf8')).to.include('createGantry')
  })

  it('the probe sees a CLI package when one loads (ES module or CommonJS)', async () => {
    const esm = await probe(false, "await import('chalk')")
    expect(esm.loaded.filter((p) => CLI_ONLY.test(p))).not.to.deep.equal([])
    const cjs = await probe(false, "createRequire(import.meta.url)('@oclif/core')")
    expect(cjs.loaded.filter((p) => /@oclif/.test(p))).not.to.deep.equal([])
  })

  it('on import', async () => {
    const { exports, loaded } = await probe(false)
    expect(exports).to.include.members(['createGantry', 'GantryError', 'isGantryError'])
    // The probe sees what it should: Gantry's own built files and packages.
    expect(loaded.some((p) => p.endsWith(join('dist', 'src', 'index.js')))).to.equal(true)
    expect(loaded.some((p) => p.includes(join('node_modules', 'zod')))).to.equal(true)
    expect(loaded.filter((p) => CLI_ONLY.test(p))).to.deep.equal([])
  })

  it('while createGantry opens an environment, decides and closes', async () => {
    const { loaded } = await probe(true)
    // Knex and the SQLite driver did load: the probe saw the environment opened.
    expect(loaded.some((p) => p.includes(join('node_modules', 'knex')))).to.equal(true)
    expect(loaded.some((p) => p.includes(join('node_modules', process.env.GANTRY_SQLITE_DRIVER ?? 'libsql')))).to.equal(true)
    expect(loaded.filter((p) => CLI_ONLY.test(p))).to.deep.equal([])
  })
})
