import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { DEFAULT_ENVIRONMENT, ENVIRONMENT_DEFAULTS } from '../../../src/config/defaults.js'
import { environmentNames, loadWorkspace, rawEnvironment, resolveEnvironment, type Workspace } from '../../../src/config/workspace.js'
import { GantryError } from '../../../src/core/errors.js'

/** A workspace folder with the given files (objects are written as JSON). */
function workspaceWith(files: Record<string, unknown>): string {
  const root = mkdtempSync(join(tmpdir(), 'gantry-config-'))
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true })
    writeFileSync(join(root, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2))
  }
  return root
}

function caught(fn: () => unknown): GantryError {
  try {
    fn()
  } catch (err) {
    if (err instanceof GantryError) return err
    throw err
  }
  throw new Error('expected a GantryError')
}

const roots: string[] = []
const make = (files: Record<string, unknown>): string => {
  const root = workspaceWith(files)
  roots.push(root)
  return root
}
const load = (root: string): Workspace => loadWorkspace({ cwd: root })

describe('config: loading the workspace', () => {
  after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })))

  it('finds gantry.config.json by walking up from a nested folder', () => {
    const root = make({ 'gantry.config.json': { name: 'walk' }, 'a/b/c/.keep': '' })
    const ws = loadWorkspace({ cwd: join(root, 'a', 'b', 'c') })
    expect(ws.root).to.equal(root)
    expect(ws.config.name).to.equal('walk')
    expect(ws.migrations.directory).to.equal(join(root, 'migrations'))
    expect(ws.migrations.tableName).to.equal('knex_migrations')
  })

  it('takes --config PATH relative to the cwd, over the walk up', () => {
    const root = make({ 'gantry.config.json': { name: 'near' }, 'elsewhere/gantry.config.json': { name: 'far' } })
    const ws = loadWorkspace({ cwd: root, configPath: 'elsewhere/gantry.config.json' })
    expect(ws.config.name).to.equal('far')
    expect(ws.root).to.equal(join(root, 'elsewhere'))
  })

  it('resolves the knex setup module from the workspace root, not the cwd; refuses a file that is no script', () => {
    const root = make({ 'gantry.config.json': { knex: './config/gantry.knex.ts' }, 'a/.keep': '' })
    expect(loadWorkspace({ cwd: join(root, 'a') }).knexSetup).to.deep.equal({ name: './config/gantry.knex.ts', path: join(root, 'config', 'gantry.knex.ts') })
    expect(load(make({ 'gantry.config.json': {} })).knexSetup).to.equal(undefined)
    const bad = caught(() => load(make({ 'gantry.config.json': { knex: './knexfile.json' } })))
    expect(bad.code).to.equal('CONFIG_INVALID')
    expect(bad.message).to.match(/knex: expected a \.js, \.cjs, \.mjs, \.ts, \.mts or \.cts file\.$/)
  })

  it('commits each migration on its own unless migrations.transaction says "batch"; refuses any other value', () => {
    expect(load(make({ 'gantry.config.json': {} })).migrations.transaction).to.equal('each')
    expect(load(make({ 'gantry.config.json': { migrations: { transaction: 'batch' } } })).migrations.transaction).to.equal('batch')
    const bad = caught(() => load(make({ 'gantry.config.json': { migrations: { transaction: 'all' } } })))
    expect(bad.code).to.equal('CONFIG_INVALID')
    expect(bad.message).to.match(/migrations\.transaction/)
  })

  it('reports CONFIG_NOT_FOUND when there is no config, naming --config PATH when given', () => {
    const root = make({ '.keep': '' })
    expect(caught(() => loadWorkspace({ cwd: root, configPath: 'nope.json' })).code).to.equal('CONFIG_NOT_FOUND')
    expect(caught(() => loadWorkspace({ cwd: root, configPath: 'nope.json' })).message).to.include('nope.json')
  })

  it('rejects invalid JSON with CONFIG_INVALID naming the file', () => {
    const root = make({ 'gantry.config.json': '{ "name": ' })
    const err = caught(() => load(root))
    expect(err.code).to.equal('CONFIG_INVALID')
    expect(err.message).to.include('gantry.config.json').and.include('not valid JSON')
    expect(err.exit).to.equal(2)
  })

  it('rejects a wrong field with its path and what was expected', () => {
    const root = make({ 'gantry.config.json': { environments: { production: { server: { port: true } } } } })
    const err = caught(() => load(root))
    expect(err.code).to.equal('CONFIG_INVALID')
    expect(err.message).to.include('environments.production.server.port')
    expect(err.message).to.include('expected a number or a ${VAR} reference, received true')
  })

  it('rejects an unknown key and a bad duration, naming each path', () => {
    const unknown = caught(() => load(make({ 'gantry.config.json': { environments: { staging: { databse: 'x' } } } })))
    expect(unknown.message).to.include('environments.staging')
    const duration = caught(() => load(make({ 'gantry.config.json': { environments: { staging: { auth: { accessTokenTtl: '15 minutes' } } } } })))
    expect(duration.message).to.include('environments.staging.auth.accessTokenTtl').and.include('duration')
  })

  it('keeps auth.accessTokenTtl within auth.maxTokenTtl (default 24h), naming the field', () => {
    const resolve = (auth: Record<string, string>) => () =>
      resolveEnvironment(load(make({ 'gantry.config.json': { environments: { development: { auth } } } })), 'development', { GANTRY_AUTH_SECRET: 's' })
    const err = caught(resolve({ accessTokenTtl: '25h' }))
    expect(err.code).to.equal('CONFIG_INVALID')
    expect(err.message).to.include('environments.development.auth.accessTokenTtl').and.include('auth.maxTokenTtl')
    expect(resolve({ accessTokenTtl: '25h', maxTokenTtl: '2d' })().auth).to.include({ accessTokenTtl: '25h', maxTokenTtl: '2d' })
    expect(resolve({})().auth.maxTokenTtl).to.equal('24h')
  })

  it('turns password sign-in off only beside an identity provider and a break-glass admin, naming the field', () => {
    const resolve = (auth: Record<string, unknown>) => () =>
      resolveEnvironment(load(make({ 'gantry.config.json': { environments: { development: { auth } } } })), 'development', { GANTRY_AUTH_SECRET: 's' })
    const provider = { id: 'corp', issuer: 'https://login.example.com', clientId: 'gantry' }
    const noProvider = caught(resolve({ passwordLogin: false, breakGlass: 'root@example.com' }))
    expect(noProvider.code).to.equal('CONFIG_INVALID')
    expect(noProvider.message).to.include('environments.development.auth.passwordLogin').and.include('nobody could sign in')
    const noBreakGlass = caught(resolve({ passwordLogin: false, sso: { providers: [provider] } }))
    expect(noBreakGlass.message).to.include('environments.development.auth.breakGlass')
    expect(resolve({ passwordLogin: false, breakGlass: 'root@example.com', sso: { providers: [provider] } })().auth).to.include({
      passwordLogin: false,
      breakGlass: 'root@example.com',
    })
    expect(resolve({})().auth.passwordLogin, 'on by default').to.equal(true)
  })

  it('refuses deviceFlow on a provider without OpenID Connect (oauth2), naming the field', () => {
    const oauth2 = {
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      userInfoEndpoint: 'https://api.github.com/user',
    }
    const resolve = (provider: Record<string, unknown>) => () =>
      resolveEnvironment(load(make({ 'gantry.config.json': { environments: { development: { auth: { sso: { providers: [provider] } } } } } })), 'development', {
        GANTRY_AUTH_SECRET: 's',
      })
    const github = { id: 'github', issuer: 'https://github.com', clientId: 'gantry', oauth2 }
    const err = caught(resolve({ ...github, deviceFlow: true }))
    expect(err.code).to.equal('CONFIG_INVALID')
    expect(err.message).to.include('environments.development.auth.sso.providers.0.deviceFlow').and.include('leave deviceFlow out')
    expect(resolve(github)().auth.sso.providers[0]).to.include({ id: 'github', deviceFlow: false })
  })

  it('keeps jobs.leaseTimeout at least twice webhooks.attemptTimeout, so a lease outlasts any attempt, naming the field', () => {
    const resolve = (environment: Record<string, unknown>) => () =>
      resolveEnvironment(load(make({ 'gantry.config.json': { environments: { development: environment } } })), 'development', { GANTRY_AUTH_SECRET: 's' })
    const err = caught(resolve({ webhooks: { attemptTimeout: '40s' } })) // against the default lease of 60s
    expect(err.code).to.equal('CONFIG_INVALID')
    expect(err.message).to.include('environments.development.jobs.leaseTimeout').and.include('webhooks.attemptTimeout')
    expect(resolve({ webhooks: { attemptTimeout: '30s' } })().jobs.leaseTimeout).to.equal('60s')
    expect(resolve({ webhooks: { attemptTimeout: '40s' }, jobs: { leaseTimeout: '2m' } })().webhooks.attemptTimeout).to.equal('40s')
  })

  it('reports a value that only fails once resolved with its path (port from a variable)', () => {
    const root = make({ 'gantry.config.json': { environments: { development: { server: { port: '${PORT}' } } } } })
    const err = caught(() => resolveEnvironment(load(root), 'development', { PORT: 'eighty', GANTRY_AUTH_SECRET: 's' }))
    expect(err.code).to.equal('CONFIG_INVALID')
    expect(err.message).to.include('environments.development.server.port')
  })
})

describe('config: variables and interpolation', () => {
  after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })))

  const config = {
    environments: {
      staging: { database: '${DATABASE_URL}', redis: '${REDIS_URL:-redis://localhost:6379}', server: { publicUrl: 'https://$${HOST}/${SUB:-x}' } },
    },
  }

  it('takes the process env over .env.<env> over .env', () => {
    const root = make({
      'gantry.config.json': config,
      '.env': 'DATABASE_URL=sqlite:./from-dotenv.sqlite3\nGANTRY_AUTH_SECRET=s\nREDIS_URL=redis://dotenv:6379\nSUB=dot',
      '.env.staging': 'DATABASE_URL=sqlite:./from-staging.sqlite3\nREDIS_URL=redis://staging:6379',
    })
    const ws = load(root)
    expect(resolveEnvironment(ws, 'staging', {}).database).to.equal('sqlite:./from-staging.sqlite3')
    expect(resolveEnvironment(ws, 'staging', {}).redis).to.equal('redis://staging:6379')
    expect(resolveEnvironment(ws, 'staging', {}).server.publicUrl).to.equal('https://${HOST}/dot')
    expect(resolveEnvironment(ws, 'staging', { DATABASE_URL: 'sqlite:./from-process.sqlite3' }).database).to.equal('sqlite:./from-process.sqlite3')
  })

  it('uses ${VAR:-default} when the variable is unset or empty, and keeps $${ as a literal ${', () => {
    const root = make({ 'gantry.config.json': config })
    const env = resolveEnvironment(load(root), 'staging', { DATABASE_URL: 'sqlite:./x.sqlite3', GANTRY_AUTH_SECRET: 's', REDIS_URL: '' })
    expect(env.redis).to.equal('redis://localhost:6379')
    expect(env.server.publicUrl).to.equal('https://${HOST}/x')
  })

  it('names an unset variable without a default, and never a value', () => {
    const root = make({ 'gantry.config.json': config, '.env.staging': 'GANTRY_AUTH_SECRET=hunter2-very-secret' })
    const err = caught(() => resolveEnvironment(load(root), 'staging', {}))
    expect(err.code).to.equal('CONFIG_VAR_UNSET')
    expect(err.message).to.include('DATABASE_URL').and.include('environments.staging.database')
    expect(JSON.stringify({ m: err.message, d: err.details })).not.to.include('hunter2')
  })

  it('resolves only the selected environment (another one may lack its variables)', () => {
    const root = make({ 'gantry.config.json': config })
    const ws = load(root)
    expect(resolveEnvironment(ws, 'development', { GANTRY_AUTH_SECRET: 's' }).database).to.equal('sqlite:./.gantry/development.sqlite3')
    expect(caught(() => resolveEnvironment(ws, 'staging', {})).code).to.equal('CONFIG_VAR_UNSET')
  })

  it('refuses an unknown environment with ENV_UNKNOWN (exit 2)', () => {
    const ws = load(make({ 'gantry.config.json': {} }))
    const err = caught(() => resolveEnvironment(ws, 'nope', {}))
    expect(err.code).to.equal('ENV_UNKNOWN')
    expect(err.exit).to.equal(2)
    expect(caught(() => resolveEnvironment(ws, 'Bad Name', {})).code).to.equal('ENV_UNKNOWN')
    // names of Object.prototype are no environments
    expect(caught(() => resolveEnvironment(ws, 'constructor', {})).code).to.equal('ENV_UNKNOWN')
  })
})

describe('config: built-in environments and defaults', () => {
  after(() => roots.forEach((r) => rmSync(r, { recursive: true, force: true })))
  const vars = { DATABASE_URL: 'postgres://u:p@h/db', GANTRY_AUTH_SECRET: 'secret' }

  it('has development, staging and production, development selected by default', () => {
    const ws = load(make({ 'gantry.config.json': {} }))
    expect(environmentNames(ws)).to.deep.equal(['development', 'staging', 'production'])
    expect(DEFAULT_ENVIRONMENT).to.equal('development')
  })

  it('gives development no rate limit, staging 500/1m burst 100, production 100/1m burst 20 and protected', () => {
    const ws = load(make({ 'gantry.config.json': {} }))
    const dev = resolveEnvironment(ws, 'development', { GANTRY_AUTH_SECRET: 's' })
    const staging = resolveEnvironment(ws, 'staging', vars)
    const production = resolveEnvironment(ws, 'production', vars)
    expect(dev.rateLimits.default).to.equal(null)
    expect(dev.redis).to.equal(null)
    expect(dev.protected).to.equal(false)
    expect(staging.rateLimits.default).to.deep.equal({ limit: 500, window: '1m', burst: 100 })
    expect(staging.protected).to.equal(false)
    expect(production.rateLimits.default).to.deep.equal({ limit: 100, window: '1m', burst: 20 })
    expect(production.protected).to.equal(true)
    expect(production.server.port).to.equal(3000)
  })

  it('merges a config section over the defaults key by key', () => {
    const ws = load(
      make({
        'gantry.config.json': { environments: { production: { rateLimits: { default: { limit: 50, window: '1m', burst: 5 } }, server: { port: 8080 } } } },
      }),
    )
    const production = resolveEnvironment(ws, 'production', vars)
    expect(production.rateLimits.default).to.deep.equal({ limit: 50, window: '1m', burst: 5 })
    expect(production.server.port).to.equal(8080)
    expect(production.server.host).to.equal('0.0.0.0')
    expect(production.protected).to.equal(true)
  })

  it('gives a custom environment the custom defaults: unprotected, unlimited, database from DATABASE_URL', () => {
    const ws = load(make({ 'gantry.config.json': { environments: { qa: { log: { level: 'debug' } } } } }))
    expect(environmentNames(ws)).to.include('qa')
    const qa = resolveEnvironment(ws, 'qa', vars)
    expect(qa.protected).to.equal(false)
    expect(qa.rateLimits.default).to.equal(null)
    expect(qa.database).to.equal(vars.DATABASE_URL)
    expect(qa.log.level).to.equal('debug')
    expect(rawEnvironment(ws, 'qa').database).to.equal('${DATABASE_URL}')
    expect(ENVIRONMENT_DEFAULTS.qa).to.equal(undefined)
  })
})
