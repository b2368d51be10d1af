import { existsSync, mkdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { parse as parseYaml } from 'yaml'
import { loadWorkspace, resolveEnvironment } from '../../src/config/workspace.js'
import { PACKAGE_ROOT, parseJson, runGantry, tempDir } from '../helpers/cli.js'
import { hasScript, onTerminal } from '../helpers/pty.js'
import { pendingUnlessCi } from '../helpers/services.js'

interface InitResult {
  root: string
  files: Array<{ path: string; action: string }>
  warnings: string[]
}

const SCAFFOLD = [
  'gantry.config.json',
  '.env.example',
  '.env.development',
  '.gitignore',
  'migrations/.gitkeep',
  'seeds/.gitkeep',
  'docker-compose.yml',
  'Dockerfile',
  '.dockerignore',
  '.github/workflows/deploy.yml',
  'package.json',
]

interface Compose {
  services: Record<string, { image?: string; build?: string; environment?: Record<string, string>; depends_on?: Record<string, { condition: string }> }>
}

describe('e2e: gantry init', function () {
  this.timeout(60_000)
  let dir: string
  beforeEach(() => (dir = tempDir()))
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('init --yes scaffolds a workspace that loads and resolves', async () => {
    const result = await runGantry(['init', 'app', '--yes', '--json'], { cwd: dir })
    expect(result.code, result.stderr).to.equal(0)
    const root = join(dir, 'app')
    const json = parseJson<InitResult>(result)
    expect(json.root).to.equal(root)
    expect(json.files.map((f) => f.path)).to.deep.equal(SCAFFOLD)
    expect(json.files.every((f) => f.action === 'created')).to.equal(true)
    expect(json.warnings).to.deep.equal([])
    for (const file of SCAFFOLD) expect(existsSync(join(root, file)), file).to.equal(true)
    expect(statSync(join(root, '.env.development')).mode & 0o777).to.equal(0o600)
    // .ts migrations (the default) load with tsx, which Gantry does not install: the project depends on it,
    // in dependencies (the Dockerfile installs with --omit=dev).
    expect(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))).to.deep.equal({
      name: 'app',
      version: '0.1.0',
      private: true,
      dependencies: { tsx: '^4.23.14' },
    })

    const workspace = loadWorkspace({ cwd: root })
    expect(workspace.config.name).to.equal('app')
    // $schema names the schema of the project's own install of gantry, which holds for every collaborator.
    expect(workspace.config.$schema).to.equal('./node_modules/gantry/schema/gantry.config.schema.json')
    mkdirSync(join(root, 'node_modules'))
    symlinkSync(PACKAGE_ROOT, join(root, 'node_modules', 'gantry'))
    expect(existsSync(join(root, workspace.config.$schema ?? 'none')), 'the $schema path points at the shipped schema').to.equal(true)
    expect(resolveEnvironment(workspace, 'development', {}).database).to.equal('sqlite:./.gantry/development.sqlite3')

    const compose = parseYaml(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as Compose
    expect(compose.services.db?.image).to.equal('postgres:16')
    expect(compose.services.redis?.image).to.equal('redis:7')
    const server = compose.services.gantry
    expect(server?.build).to.equal('.')
    expect(server?.environment?.DATABASE_URL).to.match(/^postgres:\/\/.*@db:5432\//)
    expect(server?.environment?.REDIS_URL).to.equal('redis://redis:6379')
    expect(server?.depends_on?.db?.condition).to.equal('service_healthy')
    expect(server?.depends_on?.redis?.condition).to.equal('service_healthy')
    expect(readFileSync(join(root, 'Dockerfile'), 'utf8')).to.match(/^CMD \["gantry", "serve"\]$/m)
    // The image can back up its database: pg_dump as new as the compose file's PostgreSQL 16.
    expect(readFileSync(join(root, 'Dockerfile'), 'utf8')).to.match(/apt-get install -y --no-install-recommends postgresql-client-16/)
    expect(readFileSync(join(root, '.dockerignore'), 'utf8').split('\n')).to.include('.env.*')
    expect(readFileSync(join(root, '.gitignore'), 'utf8'))
      .to.include('.env.*')
      .and.include('!.env.example')
  })

  it('takes every answer as a flag (MariaDB, no Redis, js migrations) and prints next steps', async () => {
    const result = await runGantry(['init', '--name', 'shop', '--database', 'mariadb', '--no-redis', '--migrations-extension', 'js'], { cwd: dir })
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stdout).to.include('gantry migrate latest').and.include('gantry env check').and.include('docker-compose.yml')
    const compose = parseYaml(readFileSync(join(dir, 'docker-compose.yml'), 'utf8')) as Compose
    expect(Object.keys(compose.services)).to.deep.equal(['db', 'migrate', 'gantry'])
    expect(compose.services.db?.image).to.equal('mariadb:11')
    expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).to.match(/apt-get install -y --no-install-recommends mariadb-client/)
    expect(Object.keys(compose.services.gantry?.depends_on ?? {})).to.deep.equal(['migrate', 'db'])
    expect(loadWorkspace({ cwd: dir }).migrations.extension).to.equal('js')
    // JavaScript migrations need no tsx: no package.json is made for it.
    expect(existsSync(join(dir, 'package.json'))).to.equal(false)
    expect(result.stdout).not.to.include('npm install')
  })

  it("a project's own package.json gains tsx in dependencies, everything else as it was; --js leaves it alone", async () => {
    const mine = {
      name: 'shop',
      type: 'module',
      scripts: { start: 'node server.js' },
      dependencies: { express: '^5.0.0' },
      devDependencies: { mocha: '^11.0.0' },
    }
    writeFileSync(join(dir, 'package.json'), `${JSON.stringify(mine, null, 4)}\n`)
    const js = await runGantry(['init', '--yes', '--migrations-extension', 'js', '--json'], { cwd: dir })
    expect(js.code, js.stderr).to.equal(0)
    expect(parseJson<InitResult>(js).files.map((f) => f.path)).not.to.include('package.json')
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).to.equal(`${JSON.stringify(mine, null, 4)}\n`)

    const ts = await runGantry(['init', '--yes', '--force'], { cwd: dir })
    expect(ts.code, ts.stderr).to.equal(0)
    expect(ts.stdout).to.match(/updated +package\.json/)
    expect(ts.stdout).to.match(/^ {2}npm install .*tsx/m)
    const text = readFileSync(join(dir, 'package.json'), 'utf8')
    expect(text).to.equal(`${JSON.stringify({ ...mine, dependencies: { express: '^5.0.0', tsx: '^4.23.14' } }, null, 4)}\n`)
    // Once it is there, init leaves it (even with --force: package.json is never replaced).
    const again = parseJson<InitResult>(await runGantry(['init', '--yes', '--force', '--json'], { cwd: dir }))
    expect(again.files.map((f) => f.path)).not.to.include('package.json')
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).to.equal(text)
  })

  it('tsx as a devDependency is left where it is, with a warning: the image installs dependencies only', async () => {
    const mine = JSON.stringify({ name: 'shop', dependencies: { gantry: '^0.1.0' }, devDependencies: { tsx: '^4.20.0' } })
    writeFileSync(join(dir, 'package.json'), mine)
    const result = await runGantry(['init', '--yes', '--json'], { cwd: dir })
    expect(result.code, result.stderr).to.equal(0)
    const json = parseJson<InitResult>(result)
    expect(json.files.map((f) => f.path)).not.to.include('package.json')
    expect(readFileSync(join(dir, 'package.json'), 'utf8')).to.equal(mine)
    expect(json.warnings).to.deep.equal([
      'tsx is a devDependency: the Dockerfile installs dependencies only (npm ci --omit=dev), so its image could not load .ts migrations. Move it: npm install --save-prod tsx@^4.20.0',
    ])
  })

  it('refuses to overwrite without --force (exit 1, naming the file, nothing touched), and overwrites with it', async () => {
    expect((await runGantry(['init', '--yes'], { cwd: dir })).code).to.equal(0)
    const before = Object.fromEntries(SCAFFOLD.map((f) => [f, readFileSync(join(dir, f), 'utf8')]))
    const again = await runGantry(['init', '--yes'], { cwd: dir })
    expect(again.code).to.equal(1)
    expect(again.stderr).to.match(/^Error \(FILE_EXISTS\): .*gantry\.config\.json/m)
    expect(again.stderr).not.to.match(/^\s+at /m)
    for (const f of SCAFFOLD) expect(readFileSync(join(dir, f), 'utf8'), f).to.equal(before[f])

    const forced = parseJson<InitResult>(await runGantry(['init', '--yes', '--force', '--json'], { cwd: dir }))
    expect(forced.files.find((f) => f.path === 'gantry.config.json')?.action).to.equal('overwritten')
    expect(forced.files.find((f) => f.path === '.gitignore')).to.equal(undefined)
    expect(forced.files.find((f) => f.path === 'Dockerfile')?.action).to.equal('overwritten')
    expect(forced.files.find((f) => f.path === '.dockerignore')).to.equal(undefined)
    expect(readFileSync(join(dir, '.env.development'), 'utf8')).not.to.equal(before['.env.development'])
    expect(statSync(join(dir, '.env.development')).mode & 0o777).to.equal(0o600)
  })

  it("an app's own Dockerfile stops init without --force; its .dockerignore keeps its lines and gains Gantry's", async () => {
    writeFileSync(join(dir, 'Dockerfile'), 'FROM scratch\n')
    writeFileSync(join(dir, '.dockerignore'), 'coverage\n.env\n')
    const refused = await runGantry(['init', '--yes'], { cwd: dir })
    expect(refused.code).to.equal(1)
    expect(refused.stderr).to.match(/^Error \(FILE_EXISTS\): Dockerfile already exists/m)
    expect(existsSync(join(dir, 'gantry.config.json'))).to.equal(false)
    expect(readFileSync(join(dir, '.dockerignore'), 'utf8')).to.equal('coverage\n.env\n')

    const forced = parseJson<InitResult>(await runGantry(['init', '--yes', '--force', '--json'], { cwd: dir }))
    expect(forced.files.find((f) => f.path === '.dockerignore')?.action).to.equal('updated')
    const ignore = readFileSync(join(dir, '.dockerignore'), 'utf8').split('\n')
    expect(ignore.slice(0, 2)).to.deep.equal(['coverage', '.env'])
    expect(ignore).to.include.members(['.env.*', '!.env.example', '**/node_modules'])
    expect(ignore.filter((l) => l === '.env')).to.have.length(1)
    expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).to.include('gantry')
  })

  it("in a project that installs gantry from a folder outside it, init warns that the image's npm ci cannot reach it", async () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'shop', dependencies: { gantry: 'file:../gantry' } }))
    const result = await runGantry(['init', '--yes'], { cwd: dir })
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.match(
      /^Warning: package\.json installs gantry from file:\.\.\/gantry, .*npm pack .*gantry && npm install --save-prod \.\/gantry-\*\.tgz$/m,
    )
    for (const file of SCAFFOLD) expect(existsSync(join(dir, file)), file).to.equal(true)
    expect(readFileSync(join(dir, '.gitignore'), 'utf8').split('\n')).to.include('node_modules/')
  })

  it('--json carries the same warning in `warnings` (stdout one JSON document, stderr empty)', async () => {
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'shop', devDependencies: { gantry: '^0.1.0' } }))
    const result = await runGantry(['init', '--yes', '--json'], { cwd: dir })
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.equal('')
    const { warnings } = parseJson<InitResult>(result)
    expect(warnings).to.have.length(1)
    expect(warnings[0]).to.match(
      /^gantry is a devDependency: the Dockerfile installs dependencies only \(npm ci --omit=dev\).* npm install --save-prod gantry@\^0\.1\.0$/,
    )
    const terminal = await runGantry(['init', '--yes', '--force'], { cwd: dir })
    expect(terminal.stderr).to.include(`Warning: ${warnings[0]}`)
  })

  it('without a terminal and without --yes, a missing answer is an error naming its flag (exit 2)', async () => {
    const result = await runGantry(['init'], { cwd: dir })
    expect(result.code).to.equal(2)
    expect(result.stderr).to.match(/^Error \(MISSING_INPUT\): Missing --name/m)
    expect(result.stderr).to.include('Try: Pass --yes to take the defaults')
    expect(existsSync(join(dir, 'gantry.config.json'))).to.equal(false)
    const partly = await runGantry(['init', '--name', 'x', '--database', 'postgres', '--migrations-extension', 'ts', '--json'], { cwd: dir })
    expect(partly.code).to.equal(2)
    expect(parseJson<{ error: { code: string; message: string } }>(partly).error.message).to.include('--redis')
  })

  it('a project name npm would refuse is refused from a flag (exit 2, nothing written); a folder name suggests one npm accepts', async () => {
    const flag = await runGantry(['init', '--name', 'My Shop!!', '--yes'], { cwd: dir })
    expect(flag.code).to.equal(2)
    expect(flag.stderr).to.match(/^Error \(INVALID_INPUT\): Project name "My Shop!!" is not one npm accepts: /)
    expect(existsSync(join(dir, 'gantry.config.json'))).to.equal(false)
    // A folder name npm would refuse suggests a name it accepts.
    const folder = await runGantry(['init', 'Shop Front', '--yes'], { cwd: dir })
    expect(folder.code, folder.stderr).to.equal(0)
    expect(JSON.parse(readFileSync(join(dir, 'Shop Front', 'gantry.config.json'), 'utf8')).name).to.equal('shop-front')
  })

  it('at a terminal: an existing workspace is refused before any question; a refused name is asked again', async function () {
    if (!hasScript()) pendingUnlessCi(this, 'no `script` (util-linux) here: no pseudo-terminal to prompt on')
    const existing = join(dir, 'existing')
    expect((await runGantry(['init', existing, '--yes'], { cwd: dir })).code).to.equal(0)
    const refused = await onTerminal(['init', existing], { cwd: dir })
    expect(refused.code).to.equal(1)
    expect(refused.screen).to.include('Error (FILE_EXISTS)')
    expect(refused.screen).not.to.include('Project name')

    const fresh = join(dir, 'fresh')
    // The name is refused once, then taken.
    const done = await onTerminal(['init', fresh], {
      cwd: dir,
      answers: [
        ['Project name', 'My Shop!!\r'],
        ['not one npm accepts', '\u0015my-shop\r'],
        ['Database for staging and production', '\r'],
        ['Redis for staging and production', '\r'],
        ['File type of migrations', '\r'],
      ],
    })
    expect(done.code, done.screen).to.equal(0)
    expect(done.unasked, 'every question was asked').to.deep.equal([])
    expect(JSON.parse(readFileSync(join(fresh, 'gantry.config.json'), 'utf8')).name).to.equal('my-shop')
  })
})
