import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { configCheck, secretsFileChecks } from '../../../src/doctor/workspace.js'

describe('doctor: config and .env files', () => {
  let root: string
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'gantry-doctor-'))
  })
  afterEach(() => rmSync(root, { recursive: true, force: true }))

  const writeConfig = (content: unknown) => writeFileSync(join(root, 'gantry.config.json'), typeof content === 'string' ? content : JSON.stringify(content))

  describe('the config', () => {
    it('passes a valid config, found from a folder below it, and names its environments', () => {
      writeConfig({ environments: { qa: { database: 'sqlite:./qa.sqlite3' } } })
      mkdirSync(join(root, 'src'))
      const found = configCheck({ cwd: join(root, 'src') })
      expect(found.check).to.deep.equal({
        id: 'config',
        group: 'config',
        status: 'ok',
        message: `${join(root, 'gantry.config.json')} is valid (environments: development, staging, production, qa).`,
      })
      expect(found.workspace?.root).to.equal(root)
      expect(found.root).to.equal(root)
    })

    it("fails an invalid config with the loader's message and hint, keeping the folder for the .env check", () => {
      writeConfig({ environments: { development: { log: { level: 'loud' } } } })
      const found = configCheck({ cwd: root })
      expect(found.check.status).to.equal('fail')
      expect(found.check.message).to.match(/gantry\.config\.json: environments\.development\.log\.level: /)
      expect(found.check.fix).to.equal('Fix gantry.config.json; its JSON Schema is named in its "$schema" field.')
      expect(found.workspace).to.equal(undefined)
      expect(found.root).to.equal(root)
    })

    it('fails a config that is not JSON', () => {
      writeConfig('{ "environments": ')
      expect(configCheck({ cwd: root }).check)
        .to.include({ status: 'fail' })
        .and.satisfy((c: { message: string }) => c.message.includes('is not valid JSON'))
    })

    it('warns where there is no workspace, and names a --config that does not exist', () => {
      const none = configCheck({ cwd: root })
      expect(none.check).to.include({ status: 'warn' })
      expect(none.check.message).to.match(/^no gantry\.config\.json in .* or any folder above it: the workspace checks are skipped\.$/)
      expect(none.root).to.equal(undefined)
      expect(configCheck({ cwd: root, configPath: 'elsewhere.json' }).check.message).to.match(/^elsewhere\.json does not exist/)
    })
  })

  describe('.env files', () => {
    const env = (name: string, mode: number) => {
      writeFileSync(join(root, name), 'SECRET=do-not-print-me\n')
      chmodSync(join(root, name), mode)
    }

    it('warns on every .env file looser than 0600, with the chmod, and passes the private ones', () => {
      env('.env', 0o644)
      env('.env.development', 0o600)
      env('.env.production', 0o640)
      env('.env.staging', 0o400)
      const checks = secretsFileChecks(root, { cwd: root, platform: 'linux' })
      expect(checks.map((c) => [c.id, c.status, c.fix])).to.deep.equal([
        ['secrets:.env', 'warn', 'chmod 600 .env'],
        ['secrets:.env.development', 'ok', undefined],
        ['secrets:.env.production', 'warn', 'chmod 600 .env.production'],
        ['secrets:.env.staging', 'ok', undefined],
      ])
      expect(checks[0]!.message).to.equal('.env has mode 0644: other users of this machine can read it.')
      expect(JSON.stringify(checks)).not.to.include('do-not-print-me')
    })

    it('leaves out templates, folders and other files; follows a symlink to the file it names', () => {
      env('.env.example', 0o644)
      env('.envrc', 0o644)
      mkdirSync(join(root, '.env.d'))
      env('real-secrets', 0o666)
      symlinkSync(join(root, 'real-secrets'), join(root, '.env.local'))
      expect(secretsFileChecks(root, { cwd: root }).map((c) => [c.id, c.status])).to.deep.equal([['secrets:.env.local', 'warn']])
    })

    it('names the file from the current folder when under it, else by its absolute path, quoted for a shell', () => {
      env('.env', 0o604)
      mkdirSync(join(root, 'sub dir'))
      expect(secretsFileChecks(root, { cwd: join(root, 'sub dir') })[0]!.fix).to.equal(`chmod 600 ${join(root, '.env')}`)
      const spaced = join(root, 'sub dir')
      writeFileSync(join(spaced, '.env'), '')
      chmodSync(join(spaced, '.env'), 0o644)
      expect(secretsFileChecks(spaced, { cwd: join(root, 'elsewhere') })[0]!.fix).to.equal(`chmod 600 '${join(spaced, '.env')}'`)
    })

    it('says when there are none, and skips the check on Windows', () => {
      expect(secretsFileChecks(root, { cwd: root })).to.deep.equal([{ id: 'secrets', group: 'secrets', status: 'ok', message: `no .env files in ${root}.` }])
      env('.env', 0o644)
      expect(secretsFileChecks(root, { cwd: root, platform: 'win32' })[0]).to.include({ status: 'skipped' })
    })
  })
})
