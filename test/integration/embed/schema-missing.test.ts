/**
 * createGantry over a database whose Gantry migrations have not run: its middleware answers a credential it
 * must look up as the bundled server does, 503 GANTRY_SCHEMA_MISSING with the command that creates the
 * tables, never a 500 or driver text. (Each dialect's "no such table" is covered by the server's test.)
 */
import { randomBytes } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { pino } from 'pino'
import request from 'supertest'
import { generateApiKey } from '../../../src/core/apikeys/apikey-format.js'
import type { Gantry } from '../../../src/index.js'
import { library, ordersApp } from './fixture.js'

describe("createGantry over a database without Gantry's tables (SQLite)", function () {
  this.timeout(30_000)
  let root: string
  let gantry: Gantry | undefined
  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'gantry-embed-schema-'))
    writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: 'sqlite:./gantry.sqlite3' } } }))
    writeFileSync(join(root, '.env.development'), `GANTRY_AUTH_SECRET=${randomBytes(48).toString('base64')}\n`, { mode: 0o600 })
    const { createGantry } = await library()
    gantry = await createGantry({ cwd: root, env: 'development', logger: pino({ level: 'silent' }) })
  })
  after(async () => {
    await gantry?.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('verifyApiKey() with a well-formed key: 503 problem+json, the code and `gantry migrate latest -e development`', async () => {
    const res = await request(ordersApp(gantry as Gantry))
      .get('/machine')
      .set('X-API-Key', generateApiKey('development').key)
    expect(res.status, res.text).to.equal(503)
    expect(res.headers['content-type']).to.match(/^application\/problem\+json/)
    const problem = JSON.parse(res.text) as { code: string; hint: string }
    expect(problem.code).to.equal('GANTRY_SCHEMA_MISSING')
    expect(problem.hint).to.equal("Run `gantry migrate latest -e development` to create Gantry's tables.")
    expect(res.text).not.to.match(/select|no such table|SQLITE/i)
  })
})
