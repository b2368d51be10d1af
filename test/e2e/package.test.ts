import { execFile, spawn } from 'node:child_process'
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { PACKAGE_ROOT, cliEnv, parseJson, tempDir, type CliResult } from '../helpers/cli.js'

interface PackResult {
  filename: string
  size: number
  unpackedSize: number
  files: { path: string; size: number }[]
}

/** Runs a program to completion. */
function run(file: string, args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { cwd, env: cliEnv({ GANTRY_AUTH_SECRET: 'e2e-secret-e2e-secret-e2e-secret-e2e' }), maxBuffer: 16 * 1024 * 1024 },
      (error, stdout, stderr) => resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    )
  })
}

describe('e2e: the packed package ships what runs, and it runs (npm pack, extracted into an app)', function () {
  this.timeout(120_000)
  let dir: string
  let packed: PackResult
  let app: string
  const gantry = (args: readonly string[]) => run(process.execPath, [join(app, 'node_modules', 'gantry', 'bin', 'run.js'), ...args], app)

  before(async () => {
    dir = tempDir('gantry-pack-')
    const result = await run('npm', ['pack', '--json', '--pack-destination', dir], PACKAGE_ROOT)
    expect(result.code, result.stderr).to.equal(0)
    packed = (JSON.parse(result.stdout) as PackResult[])[0] as PackResult
    // The tarball as `npm install ./gantry-*.tgz` unpacks it; its dependencies are the repository's (as a link would find them).
    app = join(dir, 'app')
    const installed = join(app, 'node_modules', 'gantry')
    mkdirSync(installed, { recursive: true })
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', version: '1.0.0' }))
    const untar = await run('tar', ['-xzf', join(dir, packed.filename), '-C', installed, '--strip-components=1'], dir)
    expect(untar.code, untar.stderr).to.equal(0)
    symlinkSync(join(PACKAGE_ROOT, 'node_modules'), join(installed, 'node_modules'), 'dir')
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it('no source maps, no build metadata, no declarations beside the bundle or dev entry; what runs is there', () => {
    const paths = packed.files.map((f) => f.path)
    expect(paths.filter((p) => p.endsWith('.map'))).to.deep.equal([])
    expect(paths.filter((p) => /bundle-meta|tsbuildinfo/.test(p))).to.deep.equal([])
    // The bundle: a file per command and the chunks they share, JavaScript only.
    expect(paths.filter((p) => /^dist\/(commands|chunks)\//.test(p) && !p.endsWith('.js'))).to.deep.equal([])
    expect(paths.filter((p) => /^dist\/chunks\/chunk-[A-Z0-9]+\.js$/.test(p))).to.have.length.at.least(1)
    expect(paths).not.to.include('bin/dev.js')
    for (const p of [
      'bin/run.js',
      'dist/execute.js',
      'dist/commands/users/list.js',
      'dist/src/index.js',
      'dist/src/index.d.ts',
      'dist/src/cli/hooks/command-not-found.js',
      'oclif.manifest.json',
      'schema/gantry.config.schema.json',
      'templates/init/gitignore',
      'dist/console/index.html',
    ]) {
      expect(paths, p).to.include(p)
    }
    expect(paths.filter((p) => /^dist\/migrations\/.*\.js$/.test(p))).to.have.length.at.least(4)
    // 17.9 MB unpacked with the source maps and the bundle's metafile; some 7 MB without.
    expect(packed.unpackedSize).to.be.below(10 * 1024 * 1024)
  })

  it('the extracted package runs: init, migrate latest, users create and list, an unknown command, require() from a .cjs app', async () => {
    const init = await gantry(['init', '.', '--yes', '--json'])
    expect(init.code, init.stderr).to.equal(0)
    expect((await gantry(['migrate', 'latest'])).code).to.equal(0)
    const created = await gantry(['users', 'create', '--email', 'root@example.com', '--role', 'admin', '--generate-password', '--json'])
    expect(created.code, created.stderr).to.equal(0)
    const listed = await gantry(['users', 'list', '--json'])
    expect(parseJson<{ data: { email: string }[] }>(listed).data.map((u) => u.email)).to.deep.equal(['root@example.com'])
    const typo = await gantry(['users', 'lst'])
    expect(typo.code).to.equal(2)
    expect(typo.stderr).to.match(/users list/)

    writeFileSync(
      join(app, 'check.cjs'),
      "const { createGantry, GANTRY_PERMISSIONS } = require('gantry'); console.log(typeof createGantry, GANTRY_PERMISSIONS.length > 0)",
    )
    const required = await run(process.execPath, ['check.cjs'], app)
    expect(required.code, required.stderr).to.equal(0)
    expect(required.stdout.trim()).to.equal('function true')
  })

  it('the extracted package serves the admin console it ships, with no build step', async () => {
    const serve = spawn(process.execPath, [join(app, 'node_modules', 'gantry', 'bin', 'run.js'), 'serve', '--port', '0'], {
      cwd: app,
      env: cliEnv({ GANTRY_AUTH_SECRET: 'e2e-secret-e2e-secret-e2e-secret-e2e' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = ''
        serve.stdout.setEncoding('utf8').on('data', (chunk: string) => {
          out += chunk
          const listening = out
            .split('\n')
            .flatMap((line) => (line.startsWith('{') ? [JSON.parse(line) as { msg?: string; url?: string }] : []))
            .find((line) => line.msg === 'listening')
          if (listening?.url) resolve(listening.url)
        })
        serve.once('exit', (code) => reject(new Error(`serve exited (${code}) before listening: ${out}`)))
      })
      const page = await fetch(new URL('/console/', url))
      expect(page.status).to.equal(200)
      const script = /src="(assets\/main-[A-Z0-9]+\.js)"/.exec(await page.text())?.[1]
      expect(script).to.be.a('string')
      const asset = await fetch(new URL(`/console/${script}`, url))
      expect(asset.status).to.equal(200)
      expect(asset.headers.get('cache-control')).to.equal('public, max-age=31536000, immutable')
    } finally {
      serve.kill('SIGTERM')
      await new Promise((resolve) => serve.once('close', resolve))
    }
  })
})
