/**
 * How migrations, seeds and knex setup modules are loaded (src/db/migrator/source.ts importScript):
 * require() for declared CommonJS, import() otherwise, one result shape for both, and an edited file
 * loaded again in the same process.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { importScript } from '../../../src/db/migrator/source.js'
import { fileChecksum } from '../../../src/db/migrator/checksum.js'
import { tempDir } from '../../helpers/cli.js'

describe('importScript: loading JavaScript migrations (unit)', () => {
  let dir: string
  before(() => {
    dir = tempDir('gantry-scripts-')
  })
  after(() => rmSync(dir, { recursive: true, force: true }))

  const write = (folder: string, name: string, text: string, packageJson?: object): string => {
    mkdirSync(join(dir, folder), { recursive: true })
    if (packageJson) writeFileSync(join(dir, folder, 'package.json'), JSON.stringify(packageJson))
    const path = join(dir, folder, name)
    writeFileSync(path, text)
    return path
  }
  const load = (path: string) => importScript(path, fileChecksum(path))
  const up = async (path: string): Promise<unknown> => ((await load(path)).up as () => unknown)()

  it('CommonJS (.js under "type": "commonjs", .cjs anywhere): its exports named and as default, as import() gives them', async () => {
    const js = write('cjs', 'a.js', 'exports.up = () => "up"; exports.down = () => "down"', { type: 'commonjs' })
    const mod = await load(js)
    expect((mod.up as () => string)()).to.equal('up')
    expect((mod.default as { down: () => string }).down()).to.equal('down')
    const cjs = write('esm-package', 'b.cjs', 'module.exports = function setup() { return "setup" }', { type: 'module' })
    expect((await load(cjs)).default).to.be.a('function')
  })

  it('.js in a package without "type" or with "type": "module" loads as before, by import()', async () => {
    const typeless = write('typeless', 'c.js', 'export const up = () => "esm up"\nexport default { down: () => "esm down" }')
    const mod = await load(typeless)
    expect((mod.up as () => string)()).to.equal('esm up')
    expect((mod.default as { down: () => string }).down()).to.equal('esm down')
    expect(await up(write('module', 'd.js', 'export const up = () => "module up"', { type: 'module' }))).to.equal('module up')
  })

  const editedFilesLoadAgain = async (prefix: string) => {
    for (const [folder, v1, v2, pkg] of [
      ['edited-cjs', 'exports.up = () => 1', 'exports.up = () => 2', { type: 'commonjs' }],
      ['edited-esm', 'export const up = () => 1', 'export const up = () => 2', { type: 'module' }],
    ] as const) {
      const path = write(`${prefix}${folder}`, 'f.js', v1, pkg)
      expect(await up(path), folder).to.equal(1)
      expect(await up(path), folder).to.equal(1)
      writeFileSync(path, v2)
      expect(await up(path), folder).to.equal(2)
    }
  }

  it('an edited file is loaded again: CommonJS (which import() never reloaded) and ES modules alike', async () => {
    await editedFilesLoadAgain('')
  })

  // Last: TypeScript support, once registered, stays for the process (CommonJS then goes through import()).
  it('an edited file is loaded again once a .ts script has registered TypeScript support too', async () => {
    expect(await up(write('typescript', 'e.ts', 'export const up = (): string => "ts up"', { type: 'module' }))).to.equal('ts up')
    await editedFilesLoadAgain('after-ts-')
  })
})
