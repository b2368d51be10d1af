import { execFile } from 'node:child_process'
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { PACKAGE_ROOT, runGantry, tempDir } from '../helpers/cli.js'

/** An app's script that requires the package by name, opens the environment and makes one decision. */
const APP = `
const { createGantry, GantryError, isGantryError } = require('gantry')
createGantry({ cwd: __dirname, env: 'development' }).then(async (gantry) => {
  const decision = await gantry.checkRateLimit({ method: 'GET', path: '/orders', ip: '203.0.113.1' })
  await gantry.close()
  const err = new GantryError('USER_NOT_FOUND', 'no such user')
  console.log('RESULT ' + JSON.stringify({ allowed: decision.allowed, isGantryError: isGantryError(err), exit: err.exit }))
})
`

/** Runs `node FILE` in `cwd`. */
function runNode(file: string, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [file], { cwd, env: { ...process.env, GANTRY_AUTH_SECRET: 'e2e-secret-e2e-secret-e2e-secret-e2e' } }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    )
  })
}

describe('e2e: a CommonJS app requires the package (require(esm), Node >= 20.19)', function () {
  this.timeout(60_000)
  let root: string
  before(async () => {
    // What `npm init -y` writes (no "type": CommonJS), with the package linked in as `npm link gantry` would.
    root = tempDir('gantry-cjs-')
    writeFileSync(join(root, 'package.json'), JSON.stringify({ name: 'cjs-app', version: '1.0.0', main: 'index.js' }))
    mkdirSync(join(root, 'node_modules'))
    symlinkSync(PACKAGE_ROOT, join(root, 'node_modules', 'gantry'), 'dir')
    writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: `sqlite:${join(root, 'app.sqlite3')}` } } }))
    const migrated = await runGantry(['migrate', 'latest'], { cwd: root })
    expect(migrated.code, migrated.stderr).to.equal(0)
  })
  after(() => rmSync(root, { recursive: true, force: true }))

  for (const file of ['app.cjs', 'index.js']) {
    it(`require('gantry') from ${file}: createGantry decides; no warning`, async () => {
      writeFileSync(join(root, file), APP)
      const run = await runNode(file, root)
      expect(run.code, run.stderr).to.equal(0)
      const line = run.stdout.split('\n').find((l) => l.startsWith('RESULT '))
      expect(JSON.parse(line?.slice('RESULT '.length) ?? 'null')).to.deep.equal({ allowed: true, isGantryError: true, exit: 1 })
      expect(run.stderr).to.equal('')
    })
  }
})
