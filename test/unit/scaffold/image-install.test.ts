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

  it('with .ts migrations, tsx only as a devDependency: the image could not load them', () => {
    writeFileSync(join(root, 'package.json'), JSON.stringify({ dependencies: { gantry: '^0.1.0' }, devDependencies: { tsx: '^4.23.14' } }))
    const [problem, ...more] = imageInstallProblems(root, { typescript: true })
    expect(more).to.deep.equal([])
    expect(problem).to.match(/^tsx is a devDependency: .*npm ci --omit=dev.* Move it: npm install --save-prod tsx@\^4\.23\.14$/)
    expect(imageInstallProblems(root), 'JavaScript migrations need no tsx').to.deep.equal([])
    expect(withPackage({ dependencies: { tsx: '^4.23.14' }, devDependencies: { tsx: '^4.23.14' } })).to.deep.equal([])
    writeFileSync(join(root, 'package.json'), JSON.stringify({ devDependencies: { gantry: '^0.1.0', tsx: '^4.23.14' } }))
    expect(imageInstallProblems(root, { typescript: true }).map((p) => p.split(' ')[0])).to.deep.equal(['gantry', 'tsx'])
  })

  it('only a devDependency: npm ci --omit=dev leaves it out', () => {
    const [problem] = withPackage({ devDependencies: { gantry: 'file:gantry-0.1.0.tgz' } })
    expect(problem).to.include('devDependency').and.include('npm install --save-prod gantry@file:gantry-0.1.0.tgz')
  })
})
