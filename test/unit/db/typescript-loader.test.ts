/**
 * Where the tsx that loads a .ts migration, seed or knex setup module comes from: the file's own project,
 * else beside Gantry; neither is TSX_MISSING (exit 2), naming the package. test/e2e/typescript-loader.test.ts
 * checks the same with the packed package, where Gantry has no tsx beside it.
 */
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { ExitCode } from '../../../src/core/errors.js'
import { resolveTsx, typescriptLoaderMissing } from '../../../src/db/migrator/source.js'
import { PACKAGE_ROOT } from '../../helpers/cli.js'

describe('migrator: the TypeScript loader (tsx) comes from the project', () => {
  let project: string
  let migration: string
  const ownTsx = realpathSync(join(PACKAGE_ROOT, 'node_modules', 'tsx'))
  beforeEach(() => {
    // Under the temporary folder, outside this repository: nothing above it has a node_modules/tsx.
    project = mkdtempSync(join(tmpdir(), 'gantry-tsx-'))
    mkdirSync(join(project, 'migrations'))
    migration = join(project, 'migrations', '20260101000000_orders.ts')
    writeFileSync(migration, 'export async function up() {}\nexport async function down() {}\n')
  })
  afterEach(() => rmSync(project, { recursive: true, force: true }))

  it("a project without tsx has none of its own; beside Gantry (this checkout's devDependency) is the fallback", () => {
    expect(resolveTsx(migration, [])).to.equal(undefined)
    expect(resolveTsx(migration)).to.equal(ownTsx)
  })

  it("the project's own tsx comes first (node_modules beside the migrations, or further up)", () => {
    const projectTsx = join(project, 'node_modules', 'tsx')
    mkdirSync(projectTsx, { recursive: true })
    writeFileSync(join(projectTsx, 'package.json'), JSON.stringify({ name: 'tsx', version: '4.23.14', exports: { './package.json': './package.json' } }))
    expect(resolveTsx(migration)).to.equal(realpathSync(projectTsx))
    expect(resolveTsx(migration, [])).to.equal(realpathSync(projectTsx))
  })

  it('a linked install counts as the project having it', () => {
    mkdirSync(join(project, 'node_modules'))
    symlinkSync(ownTsx, join(project, 'node_modules', 'tsx'), 'dir')
    expect(resolveTsx(migration, [])).to.equal(ownTsx)
  })

  it('missing everywhere: TSX_MISSING, exit 2, one line naming the file and the package, the fix in the hint', () => {
    const err = typescriptLoaderMissing(migration)
    expect(err.code).to.equal('TSX_MISSING')
    expect(err.exit).to.equal(ExitCode.usage)
    expect(err.message).to.not.include('\n')
    expect(err.message).to.include(migration).and.include('the package tsx')
    expect(err.hint).to.include('npm install tsx').and.include('not devDependencies')
    expect(err.details).to.deep.equal({ package: 'tsx', file: migration })
  })
})
