import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { parse as parseYaml } from 'yaml'
import { referencedVariables } from '../../../src/config/interpolate.js'
import { parseConfigText } from '../../../src/config/workspace.js'
import type { GantryError } from '../../../src/core/errors.js'
import { missingLines, writePlannedFiles } from '../../../src/scaffold/files.js'
import { composeVariables, planWorkspace, type InitAnswers } from '../../../src/scaffold/init.js'
import { readTemplate, renderTemplate } from '../../../src/scaffold/render.js'

describe('scaffold: renderTemplate', () => {
  it('fills {{placeholders}}, with or without inner spaces, and leaves ${VARS} alone', () => {
    expect(renderTemplate('a {{x}} b {{ y }} ${Z:-{{x}}}', { x: '1', y: '2' })).to.equal('a 1 b 2 ${Z:-1}')
  })

  it('fails on a placeholder without a value and on a value without a placeholder', () => {
    expect(() => renderTemplate('{{missing}}', {})).to.throw('{{missing}}')
    expect(() => renderTemplate('plain', { extra: 'x' })).to.throw('extra')
  })

  it('reads templates from the package, not the cwd', () => {
    const cwd = process.cwd()
    process.chdir(tmpdir())
    try {
      expect(readTemplate('init/gitignore')).to.include('.env.*')
    } finally {
      process.chdir(cwd)
    }
  })
})

describe('scaffold: files', () => {
  let root: string
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'gantry-files-'))))
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  it('refuses to replace any existing file without force and then writes nothing', () => {
    writeFileSync(join(root, 'b.txt'), 'mine')
    const plan = [{ path: 'a.txt', content: 'a' }, { path: 'b.txt', content: 'b' }]
    try {
      writePlannedFiles(root, plan, { force: false })
      expect.fail('should refuse')
    } catch (err) {
      expect((err as GantryError).code).to.equal('FILE_EXISTS')
      expect((err as GantryError).message).to.include('b.txt')
    }
    expect(existsSync(join(root, 'a.txt'))).to.equal(false)
    expect(readFileSync(join(root, 'b.txt'), 'utf8')).to.equal('mine')
    expect(writePlannedFiles(root, plan, { force: true })).to.deep.equal([
      { path: 'a.txt', action: 'created' },
      { path: 'b.txt', action: 'overwritten' },
    ])
  })

  it('creates secret files with mode 0600, also when overwriting', () => {
    writeFileSync(join(root, '.env.x'), 'old', { mode: 0o644 })
    writePlannedFiles(root, [{ path: '.env.y', content: 'S=1', mode: 0o600 }, { path: '.env.x', content: 'S=2', mode: 0o600 }], { force: true })
    expect(statSync(join(root, '.env.y')).mode & 0o777).to.equal(0o600)
    expect(statSync(join(root, '.env.x')).mode & 0o777).to.equal(0o600)
  })

  it('appends only missing lines (idempotent) and keeps existing .gitkeep files', () => {
    writeFileSync(join(root, '.gitignore'), 'node_modules/\n.env')
    const plan = [{ path: '.gitignore', content: '# gantry\n.env\n.gantry/\n', strategy: 'lines' as const }, { path: 'm/.gitkeep', content: '', strategy: 'keep' as const }]
    expect(writePlannedFiles(root, plan, { force: false })).to.deep.equal([
      { path: '.gitignore', action: 'updated' },
      { path: 'm/.gitkeep', action: 'created' },
    ])
    expect(readFileSync(join(root, '.gitignore'), 'utf8')).to.equal('node_modules/\n.env\n# gantry\n.gantry/\n')
    expect(writePlannedFiles(root, plan, { force: false })).to.deep.equal([])
    expect(missingLines('a\nb\n', 'a\nb')).to.deep.equal([])
  })
})

describe('scaffold: init plan', () => {
  const answers: InitAnswers = { name: 'My Shop', database: 'postgres', redis: true, migrationsExtension: 'js' }
  const file = (files: ReturnType<typeof planWorkspace>, path: string): string => {
    const found = files.find((f) => f.path === path)
    if (!found) throw new Error(`${path} not planned`)
    return found.content
  }

  it('writes a config that validates, with $schema, the answers and the three environments explicit', () => {
    const root = join(tmpdir(), 'some', 'app')
    const config = parseConfigText(file(planWorkspace(root, answers), 'gantry.config.json'), 'gantry.config.json')
    expect(config.$schema).to.match(/schema\/gantry\.config\.schema\.json$/)
    expect(config.name).to.equal('My Shop')
    expect(config.migrations?.extension).to.equal('js')
    expect(Object.keys(config.environments ?? {})).to.deep.equal(['development', 'staging', 'production'])
    expect(config.environments?.development?.database).to.equal('sqlite:./.gantry/development.sqlite3')
    expect(config.environments?.production?.database).to.equal('${DATABASE_URL}')
    expect(config.environments?.production?.protected).to.equal(true)
    expect(config.environments?.staging?.rateLimits?.default).to.deep.equal({ limit: 500, window: '1m', burst: 100 })
  })

  it('lists every variable of the config and compose file in .env.example, with no secret values', () => {
    const files = planWorkspace('/tmp/x', answers)
    const example = file(files, '.env.example')
    const config = JSON.parse(file(files, 'gantry.config.json')) as unknown
    for (const name of [...referencedVariables(config), ...composeVariables(file(files, 'docker-compose.yml'))]) {
      expect(example, name).to.match(new RegExp(`^${name}=`, 'm'))
    }
    expect(example).to.match(/^GANTRY_AUTH_SECRET=$/m)
    expect(example).to.match(/^DB_PASSWORD=$/m)
    expect(example).to.include('DATABASE_URL=postgres://gantry@127.0.0.1:5432/my_shop')
  })

  it('generates the development secrets into .env.development with mode 0600', () => {
    const dev = planWorkspace('/tmp/x', answers).find((f) => f.path === '.env.development')
    expect(dev?.mode).to.equal(0o600)
    expect(dev?.content).to.match(/^GANTRY_AUTH_SECRET=[A-Za-z0-9_-]{43}$/m)
  })

  it('renders docker-compose.yml for PostgreSQL + Redis and MariaDB alone, with healthchecks, volumes and no secrets', () => {
    const pg = parseYaml(file(planWorkspace('/tmp/x', answers), 'docker-compose.yml')) as { services: Record<string, { image: string; healthcheck?: unknown; environment?: Record<string, string> }>; volumes: Record<string, unknown> }
    expect(Object.keys(pg.services)).to.deep.equal(['db', 'redis'])
    expect(pg.services.db?.image).to.equal('postgres:16')
    expect(pg.services.redis?.image).to.equal('redis:7')
    expect(pg.services.db?.healthcheck).to.be.an('object')
    expect(Object.keys(pg.volumes)).to.deep.equal(['db-data', 'redis-data'])
    expect(pg.services.db?.environment?.POSTGRES_PASSWORD).to.match(/^\$\{DB_PASSWORD/)
    const maria = parseYaml(file(planWorkspace('/tmp/x', { ...answers, database: 'mariadb', redis: false }), 'docker-compose.yml')) as typeof pg
    expect(Object.keys(maria.services)).to.deep.equal(['db'])
    expect(maria.services.db?.image).to.equal('mariadb:11')
    expect(maria.services.db?.healthcheck).to.be.an('object')
    expect(Object.keys(maria.volumes)).to.deep.equal(['db-data'])
  })

  it('plans .gitignore entries, and migrations/ and seeds/ with a .gitkeep', () => {
    const files = planWorkspace('/tmp/x', answers)
    expect(files.map((f) => f.path)).to.include.members(['.gitignore', join('migrations', '.gitkeep'), join('seeds', '.gitkeep')])
    expect(file(files, '.gitignore').split('\n')).to.include.members(['.env', '.env.*', '!.env.example', '.gantry/'])
  })
})
