import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import { imageInstallProblems } from '../../../src/scaffold/image-install.js'

describe('scaffold: imageInstallProblems (would the generated Dockerfile install gantry?)', () => {
  let root: string
  beforeEach(() => (root = mkdtempSync(join(tmpdir(), 'gantry-image-'))))
  afterEach(() => rmSync(root, { recursive: true, force: true }))
  const withPackage = (manifest: object): string[] => {
    writeFileSync(join(root, 'package.json'), JSON.stringify(manifest))
    return imageInstallProblems(root)
  }

  it('nothing to say without a package.json, without gantry in it, or with gantry from a registry or a gantry-*.tgz here', () => {
    expect(imageInstallProblems(root)).to.deep.equal([])
    expect(withPackage({ dependencies: { express: '5.0.0' } })).to.deep.equal([])
    expect(withPackage({ dependencies: { gantry: '^0.1.0' } })).to.deep.equal([])
    expect(withPackage({ dependencies: { gantry: 'file:gantry-0.1.0.tgz' } })).to.deep.equal([])
  })

  it('a path outside the build context, or a folder: pack it here first', () => {
    for (const spec of ['file:../gantry', 'file:vendor/gantry-0.1.0.tgz', 'file:gantry', 'link:../gantry']) {
      const [problem, ...more] = withPackage({ dependencies: { gantry: spec } })
      expect(more, spec).to.deep.equal([])
      expect(problem, spec).to.include(`installs gantry from ${spec}`).and.include('npm pack ').and.include('npm install --save-prod ./gantry-*.tgz')
    }
    expect(withPackage({ dependencies: { gantry: 'file:../gantry' } })[0]).to.include(`npm pack ${join(root, '..', 'gantry')} `)
  })

  it('only a devDependency: npm ci --omit=dev leaves it out', () => {
    const [problem] = withPackage({ devDependencies: { gantry: 'file:gantry-0.1.0.tgz' } })
    expect(problem).to.include('devDependency').and.include('npm install --save-prod gantry@file:gantry-0.1.0.tgz')
  })
})
