import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { readEnvFile } from '../../../src/config/dotenv.js'
import { loadWorkspace, rawEnvironment } from '../../../src/config/workspace.js'
import type { GantryError } from '../../../src/core/errors.js'
import { createEnvironment } from '../../../src/scaffold/environment.js'

describe('scaffold: env create', () => {
  let root: string
  const original = { $schema: './s.json', name: 'keep-me', environments: { staging: { log: { level: 'debug' } } } }
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'gantry-envcreate-'))
    writeFileSync(join(root, 'gantry.config.json'), `${JSON.stringify(original, null, 2)}\n`)
    writeFileSync(join(root, '.env.staging'), 'DATABASE_URL=postgres://u@h/staging\nGANTRY_AUTH_SECRET=staging-secret\nFEATURE=on\n')
    writeFileSync(join(root, '.env.example'), 'DATABASE_URL=\nGANTRY_AUTH_SECRET=\nPORT=3000\n')
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))
  const ws = () => loadWorkspace({ cwd: root })
  const code = (fn: () => unknown): string => {
    try {
      fn()
    } catch (err) {
      return (err as GantryError).code
    }
    return 'none'
  }

  it('copies --from settings and .env keys, regenerating secrets and clearing service URLs, keeping the rest of the config', () => {
    const created = createEnvironment(ws(), { name: 'qa', from: 'staging', protected: false, force: false })
    expect(created.files).to.deep.equal([
      { path: '.env.qa', action: 'created' },
      { path: 'gantry.config.json', action: 'updated' },
    ])
    const text = readFileSync(join(root, 'gantry.config.json'), 'utf8')
    const json = JSON.parse(text) as typeof original & { environments: Record<string, unknown> }
    expect(text).to.equal(`${JSON.stringify(json, null, 2)}\n`)
    expect(json.name).to.equal('keep-me')
    expect(json.$schema).to.equal('./s.json')
    expect(Object.keys(json.environments)).to.deep.equal(['staging', 'qa'])
    expect(rawEnvironment(ws(), 'qa')).to.deep.equal({ ...rawEnvironment(ws(), 'staging'), protected: false })
    const vars = readEnvFile(join(root, '.env.qa'))
    expect(vars.DATABASE_URL).to.equal('')
    expect(created.variables).to.deep.include({ name: 'DATABASE_URL', value: 'cleared' })
    expect(vars.FEATURE).to.equal('on')
    expect(vars.GANTRY_AUTH_SECRET).to.match(/^[A-Za-z0-9_-]{43}$/)
    expect(statSync(join(root, '.env.qa')).mode & 0o777).to.equal(0o600)
  })

  it('a copy of a protected environment stays protected unless told otherwise', () => {
    expect(createEnvironment(ws(), { name: 'preprod', from: 'production', force: false }).protected).to.equal(true)
    expect(rawEnvironment(ws(), 'preprod').protected).to.equal(true)
    expect(createEnvironment(ws(), { name: 'sandbox', from: 'production', protected: false, force: false }).protected).to.equal(false)
    expect(createEnvironment(ws(), { name: 'review', from: 'staging', force: false }).protected).to.equal(false)
  })

  it('uses the custom defaults and .env.example without --from; --protected marks it', () => {
    const created = createEnvironment(ws(), { name: 'preview-1', protected: true, force: false })
    expect(created.variablesFrom).to.equal('.env.example')
    expect(rawEnvironment(ws(), 'preview-1')).to.deep.include({ protected: true, database: '${DATABASE_URL}', rateLimits: { default: null } })
    const vars = readEnvFile(join(root, '.env.preview-1'))
    expect(vars.PORT).to.equal('3000')
    expect(vars.GANTRY_AUTH_SECRET).to.have.length(43)
  })

  it('refuses an existing environment (built in or configured), a bad name, an unknown --from, and an existing .env file', () => {
    expect(code(() => createEnvironment(ws(), { name: 'production', protected: false, force: false }))).to.equal('ENV_EXISTS')
    expect(code(() => createEnvironment(ws(), { name: 'staging', protected: false, force: false }))).to.equal('ENV_EXISTS')
    expect(code(() => createEnvironment(ws(), { name: 'QA!', protected: false, force: false }))).to.equal('INVALID_INPUT')
    expect(code(() => createEnvironment(ws(), { name: 'qa', from: 'nope', protected: false, force: false }))).to.equal('ENV_UNKNOWN')
    writeFileSync(join(root, '.env.qa'), 'MINE=1\n')
    expect(code(() => createEnvironment(ws(), { name: 'qa', protected: false, force: false }))).to.equal('FILE_EXISTS')
    expect(JSON.parse(readFileSync(join(root, 'gantry.config.json'), 'utf8'))).to.deep.equal(original)
  })
})
