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
    const plan = [
      { path: 'a.txt', content: 'a' },
      { path: 'b.txt', content: 'b' },
    ]
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
    writePlannedFiles(
      root,
      [
        { path: '.env.y', content: 'S=1', mode: 0o600 },
        { path: '.env.x', content: 'S=2', mode: 0o600 },
      ],
      { force: true },
    )
    expect(statSync(join(root, '.env.y')).mode & 0o777).to.equal(0o600)
    expect(statSync(join(root, '.env.x')).mode & 0o777).to.equal(0o600)
  })

  it('appends only missing lines (idempotent) and keeps existing .gitkeep files', () => {
    writeFileSync(join(root, '.gitignore'), 'node_modules/\n.env')
    const plan = [
      { path: '.gitignore', content: '# gantry\n.env\n.gantry/\n', strategy: 'lines' as const },
      { path: 'm/.gitkeep', content: '', strategy: 'keep' as const },
    ]
    expect(writePlannedFiles(root, plan, { force: false })).to.deep.equal([
      { path: '.gitignore', action: 'updated' },
      { path: 'm/.gitkeep', action: 'created' },
    ])
    expect(readFileSync(join(root, '.gitignore'), 'utf8')).to.equal('node_modules/\n.env\n# gantry\n.gantry/\n')
    expect(writePlannedFiles(root, plan, { force: false })).to.deep.equal([])
    expect(missingLines('a\nb\n', 'a\nb')).to.deep.equal([])
  })

  it('merges into an existing file (never a clash, never replaced, even with force) or creates it', () => {
    writeFileSync(join(root, 'package.json'), '{"name":"mine"}')
    const plan = [{ path: 'package.json', content: 'new', strategy: 'merge' as const, merge: (c: string) => (c.includes('tsx') ? undefined : `${c}+tsx`) }]
    expect(writePlannedFiles(root, plan, { force: false })).to.deep.equal([{ path: 'package.json', action: 'updated' }])
    expect(writePlannedFiles(root, plan, { force: true })).to.deep.equal([])
    expect(readFileSync(join(root, 'package.json'), 'utf8')).to.equal('{"name":"mine"}+tsx')
    rmSync(join(root, 'package.json'))
    expect(writePlannedFiles(root, plan, { force: false })).to.deep.equal([{ path: 'package.json', action: 'created' }])
    expect(readFileSync(join(root, 'package.json'), 'utf8')).to.equal('new')
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
    const config = parseConfigText(file(planWorkspace(answers), 'gantry.config.json'), 'gantry.config.json')
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
    const files = planWorkspace(answers)
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
    const dev = planWorkspace(answers).find((f) => f.path === '.env.development')
    expect(dev?.mode).to.equal(0o600)
    expect(dev?.content).to.match(/^GANTRY_AUTH_SECRET=[A-Za-z0-9_-]{43}$/m)
  })

  interface ComposeService {
    image?: string
    build?: string
    command?: string[]
    healthcheck?: { test: string[] }
    environment?: Record<string, string>
    depends_on?: Record<string, { condition: string }>
    ports?: string[]
  }
  const compose = (a: InitAnswers) =>
    parseYaml(file(planWorkspace(a), 'docker-compose.yml')) as { services: Record<string, ComposeService>; volumes: Record<string, unknown> }
  /** What compose makes of `${VAR:-default}` / `${VAR:?message}` when VAR is set in `values` (else its default). */
  const interpolate = (text: string, values: Record<string, string>): string =>
    text.replace(/\$\{(\w+)(?::[-?]([^}]*))?\}/g, (_m, name: string, fallback: string | undefined) => values[name] ?? fallback ?? '')

  it('renders docker-compose.yml for PostgreSQL + Redis and MariaDB alone, with healthchecks, volumes and no secrets', () => {
    const pg = compose(answers)
    expect(Object.keys(pg.services)).to.deep.equal(['db', 'redis', 'migrate', 'gantry'])
    expect(pg.services.db?.image).to.equal('postgres:16')
    expect(pg.services.redis?.image).to.equal('redis:7')
    expect(pg.services.db?.healthcheck).to.be.an('object')
    expect(pg.services.redis?.healthcheck).to.be.an('object')
    expect(Object.keys(pg.volumes)).to.deep.equal(['db-data', 'redis-data'])
    expect(pg.services.db?.environment?.POSTGRES_PASSWORD).to.match(/^\$\{DB_PASSWORD/)
    const maria = compose({ ...answers, database: 'mariadb', redis: false })
    expect(Object.keys(maria.services)).to.deep.equal(['db', 'migrate', 'gantry'])
    expect(maria.services.db?.image).to.equal('mariadb:11')
    expect(maria.services.db?.healthcheck).to.be.an('object')
    expect(Object.keys(maria.volumes)).to.deep.equal(['db-data'])
  })

  it('wires the gantry service to db and redis: URLs of the compose services, healthy dependencies, migrations first', () => {
    const { services } = compose(answers)
    const gantry = services.gantry ?? {}
    expect(gantry.build).to.equal('.')
    expect(gantry.depends_on).to.deep.equal({
      migrate: { condition: 'service_completed_successfully' },
      db: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
    })
    const values = { DB_PASSWORD: 'pw-1', GANTRY_AUTH_SECRET: 's' }
    const database = new URL(interpolate(gantry.environment?.DATABASE_URL ?? '', values))
    expect([database.protocol, database.username, database.password, database.host, database.pathname]).to.deep.equal([
      'postgres:',
      'gantry',
      'pw-1',
      'db:5432',
      '/my_shop',
    ])
    expect(new URL(gantry.environment?.REDIS_URL ?? '').host).to.equal('redis:6379')
    expect(gantry.environment?.GANTRY_AUTH_SECRET).to.equal('${GANTRY_AUTH_SECRET:?set GANTRY_AUTH_SECRET}')
    expect(gantry.environment?.GANTRY_ENV).to.equal('${GANTRY_ENV:-production}')
    expect(gantry.environment?.PORT).to.equal('3000')
    expect(gantry.ports).to.deep.equal(['127.0.0.1:${PORT:-3000}:3000'])
    expect(gantry.healthcheck?.test.join(' ')).to.include('http://127.0.0.1:3000/api/health/ready')
    // The one-shot migrate service runs the same image against the same database, before the server.
    const migrate = services.migrate ?? {}
    expect(migrate.build).to.equal('.')
    expect(migrate.command).to.deep.equal(['gantry', 'migrate', 'latest'])
    expect(migrate.environment?.DATABASE_URL).to.equal(gantry.environment?.DATABASE_URL)
    expect(migrate.depends_on).to.deep.equal({ db: { condition: 'service_healthy' } })

    const maria = compose({ ...answers, database: 'mariadb', redis: false }).services.gantry ?? {}
    expect(Object.keys(maria.depends_on ?? {})).to.deep.equal(['migrate', 'db'])
    const mysql = new URL(interpolate(maria.environment?.DATABASE_URL ?? '', values))
    expect([mysql.protocol, mysql.host]).to.deep.equal(['mysql:', 'db:3306'])
    expect(maria.environment?.REDIS_URL).to.equal('')
  })

  it('writes a multi-stage Dockerfile that runs `gantry serve` as the node user, and a .dockerignore that keeps secrets out', () => {
    const files = planWorkspace(answers)
    const dockerfile = file(files, 'Dockerfile')
    // Instructions, comments dropped and continuation lines joined.
    const instructions = dockerfile
      .replace(/\\\n\s*/g, ' ')
      .split('\n')
      .filter((l) => l.trim() !== '' && !l.startsWith('#'))
    const from = instructions.filter((l) => l.startsWith('FROM '))
    expect(from).to.deep.equal(['FROM node:20-bookworm-slim AS dependencies', 'FROM node:20-bookworm-slim'])
    const final = instructions.slice(instructions.indexOf(from[1] as string))
    expect(instructions.find((l) => l.startsWith('RUN ') && l.includes('npm ci'))).to.include('--omit=dev')
    // Before `npm ci`: the manifest, its lock, and a packed Gantry when package.json installs it from one.
    expect(instructions.filter((l) => l.startsWith('COPY ') && !l.includes('--from'))[0]).to.equal('COPY package.json package-lock.json gantry-*.tgz ./')
    // Nothing compiles (libsql is prebuilt): no compiler in either stage. The only package the image
    // installs is the database's client tools, in the final stage, for `db backup`.
    expect(
      instructions.some((l) => /python3|g\+\+|build-essential|make\b/.test(l)),
      'no compiler installed',
    ).to.equal(false)
    const installs = instructions.filter((l) => l.includes('apt-get install'))
    expect(installs).to.have.length(1)
    expect(final).to.include(installs[0])
    expect(installs[0]).to.include('postgresql-client-16').and.include('rm -rf /var/lib/apt/lists/*')
    expect(final).to.include('USER node')
    expect(final).to.include('EXPOSE 3000')
    expect(final.find((l) => l.startsWith('ENV '))).to.include('NODE_ENV=production')
    expect(final.find((l) => l.startsWith('HEALTHCHECK ')))
      .to.include('fetch(')
      .and.include('/api/health')
    expect(final[final.length - 1]).to.equal('CMD ["gantry", "serve"]')
    expect(final.indexOf('USER node')).to.be.lessThan(final.length - 1)
    expect(dockerfile).to.include('my-shop-gantry').and.not.include('{{')

    const entry = files.find((f) => f.path === '.dockerignore')
    expect(entry?.strategy).to.equal('lines')
    expect(entry?.content.split('\n')).to.include.members(['.env', '.env.*', '!.env.example', '.gantry', '**/node_modules'])
  })

  it('plans package.json with tsx in dependencies for .ts migrations, and none for .js', () => {
    const entry = planWorkspace({ ...answers, name: 'my-shop', migrationsExtension: 'ts' }).find((f) => f.path === 'package.json')
    expect(entry?.strategy).to.equal('merge')
    expect(JSON.parse(entry?.content ?? '{}')).to.deep.include({ name: 'my-shop', dependencies: { tsx: '^4.23.14' } })
    expect(JSON.parse(entry?.merge?.('{"name":"x","devDependencies":{"mocha":"1"}}') ?? '{}')).to.deep.equal({
      name: 'x',
      devDependencies: { mocha: '1' },
      dependencies: { tsx: '^4.23.14' },
    })
    expect(planWorkspace({ ...answers, migrationsExtension: 'js' }).map((f) => f.path)).to.not.include('package.json')
  })

  it('plans .gitignore entries, and migrations/ and seeds/ with a .gitkeep', () => {
    const files = planWorkspace(answers)
    expect(files.map((f) => f.path)).to.include.members(['.gitignore', join('migrations', '.gitkeep'), join('seeds', '.gitkeep')])
    expect(file(files, '.gitignore').split('\n')).to.include.members(['node_modules/', '.env', '.env.*', '!.env.example', '.gantry/'])
  })
})
