/**
 * tsx is an optional peer of Gantry, not a dependency: the packed package, installed into an app without
 * tsx (Gantry's own node_modules is this checkout's minus tsx), scaffolds the app with tsx in its
 * dependencies, refuses a .ts migration with TSX_MISSING (exit 2) before running anything, and runs it once
 * the app has tsx of its own.
 */
import { execFile } from 'node:child_process'
import { mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { PACKAGE_ROOT, cliEnv, parseJson, tempDir, type CliResult } from '../helpers/cli.js'

/** Runs a program to completion. */
function run(file: string, args: readonly string[], cwd: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(file, args, { cwd, env: cliEnv({ NODE_PATH: undefined }), maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr }),
    )
  })
}

interface Status {
  migrations: { set: string; name: string; state: string }[]
}

describe('e2e: .ts migrations need the project to have tsx (the packed package, installed without it)', function () {
  this.timeout(120_000)
  let dir: string
  let app: string
  const gantry = (args: readonly string[]) => run(process.execPath, [join(app, 'node_modules', 'gantry', 'bin', 'run.js'), ...args], app)
  const states = async (): Promise<string[]> => {
    const status = await gantry(['migrate', 'status', '--json'])
    expect(status.code, status.stderr).to.equal(0)
    return [...new Set(parseJson<Status>(status).migrations.map((m) => m.state))]
  }

  before(async () => {
    dir = tempDir('gantry-tsx-peer-')
    const packed = await run('npm', ['pack', '--json', '--pack-destination', dir], PACKAGE_ROOT)
    expect(packed.code, packed.stderr).to.equal(0)
    const { filename } = (JSON.parse(packed.stdout) as { filename: string }[])[0] as { filename: string }
    app = join(dir, 'app')
    const installed = join(app, 'node_modules', 'gantry')
    mkdirSync(installed, { recursive: true })
    writeFileSync(join(app, 'package.json'), `${JSON.stringify({ name: 'app', version: '1.0.0', type: 'module' }, null, 2)}\n`)
    const untar = await run('tar', ['-xzf', join(dir, filename), '-C', installed, '--strip-components=1'], dir)
    expect(untar.code, untar.stderr).to.equal(0)
    // Gantry's dependencies as an install gives them: this checkout's, but not tsx (a peer nobody installed).
    mkdirSync(join(installed, 'node_modules'))
    for (const name of readdirSync(join(PACKAGE_ROOT, 'node_modules'))) {
      if (name === 'tsx' || name.startsWith('.')) continue
      symlinkSync(join(PACKAGE_ROOT, 'node_modules', name), join(installed, 'node_modules', name), 'dir')
    }
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  it("init adds tsx to the app's dependencies (not devDependencies), keeping what package.json had", async () => {
    const init = await gantry(['init', '.', '--yes'])
    expect(init.code, init.stderr).to.equal(0)
    expect(init.stdout).to.match(/^ {2}npm install .*tsx/m)
    expect(JSON.parse(readFileSync(join(app, 'package.json'), 'utf8'))).to.deep.equal({
      name: 'app',
      version: '1.0.0',
      type: 'module',
      dependencies: { tsx: '^4.23.14' },
    })
  })

  it('without tsx, a .ts migration stops migrate latest (and its dry run, and a .ts seed) with TSX_MISSING, exit 2, nothing applied', async () => {
    const made = await gantry(['migrate', 'make', 'create_orders'])
    expect(made.code, made.stderr).to.equal(0)
    const file = readdirSync(join(app, 'migrations')).find((f) => f.endsWith('_create_orders.ts'))
    expect(file).to.be.a('string')
    for (const args of [
      ['migrate', 'latest'],
      ['migrate', 'latest', '--dry-run'],
    ]) {
      const refused = await gantry(args)
      expect(refused.code, args.join(' ')).to.equal(2)
      expect(refused.stderr, args.join(' ')).to.match(
        new RegExp(
          `^Error \\(TSX_MISSING\\): migrations/${file?.replace('.', '\\.')} is TypeScript: loading it needs the package tsx, which is installed neither in its project nor beside Gantry\\.$`,
          'm',
        ),
      )
      expect(refused.stderr).to.match(/^Try: Run `npm install tsx` in the project \(into dependencies, not devDependencies/m)
      expect(refused.stderr).not.to.match(/^\s+at /m)
    }
    // Every migration is loaded before any runs: Gantry's own (JavaScript) did not run either.
    expect(await states()).to.deep.equal(['pending'])

    expect((await gantry(['seed', 'make', 'customers'])).code).to.equal(0)
    const seed = await gantry(['seed', 'run', '--json'])
    expect(seed.code).to.equal(2)
    expect(parseJson<{ error: { code: string; message: string } }>(seed).error).to.deep.include({ code: 'TSX_MISSING' })
  })

  it('once the app has tsx of its own (npm install), the same migrations run with it', async () => {
    mkdirSync(join(app, 'node_modules', 'tsx', '..'), { recursive: true })
    symlinkSync(join(PACKAGE_ROOT, 'node_modules', 'tsx'), join(app, 'node_modules', 'tsx'), 'dir')
    const latest = await gantry(['migrate', 'latest'])
    expect(latest.code, latest.stderr).to.equal(0)
    expect(await states()).to.deep.equal(['applied'])
  })
})
