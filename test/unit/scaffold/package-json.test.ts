import { readFileSync } from 'node:fs'
import { expect } from 'chai'
import { addTsxDependency, newPackageJson, TSX_RANGE } from '../../../src/scaffold/package-json.js'

describe("scaffold: tsx in the project's package.json (gantry init with .ts migrations)", () => {
  it("asks for the tsx Gantry is tested with: its own devDependency satisfies the range, which is Gantry's peer range", () => {
    const gantry = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
      dependencies: Record<string, string>
      devDependencies: Record<string, string>
      peerDependencies: Record<string, string>
      peerDependenciesMeta: Record<string, { optional?: boolean }>
    }
    expect(gantry.dependencies.tsx, 'tsx is no dependency of Gantry').to.equal(undefined)
    expect(TSX_RANGE).to.equal(`^${gantry.devDependencies.tsx}`)
    expect(gantry.peerDependencies.tsx).to.equal(TSX_RANGE)
    expect(gantry.peerDependenciesMeta.tsx?.optional).to.equal(true)
  })

  it('a new package.json: the project, private, with tsx in dependencies', () => {
    const text = newPackageJson('shop')
    expect(text.endsWith('}\n')).to.equal(true)
    expect(JSON.parse(text)).to.deep.equal({ name: 'shop', version: '0.1.0', private: true, dependencies: { tsx: TSX_RANGE } })
  })

  it('an existing one gains tsx in dependencies, in name order, everything else kept as it was', () => {
    const current = `${JSON.stringify(
      { name: 'shop', type: 'module', scripts: { start: 'node .' }, dependencies: { express: '^5.0.0', zod: '^4.0.0' }, devDependencies: { mocha: '^11.0.0' } },
      null,
      4,
    )}\n`
    const updated = addTsxDependency(current) ?? ''
    expect(updated).to.equal(
      `${JSON.stringify(
        {
          name: 'shop',
          type: 'module',
          scripts: { start: 'node .' },
          dependencies: { express: '^5.0.0', tsx: TSX_RANGE, zod: '^4.0.0' },
          devDependencies: { mocha: '^11.0.0' },
        },
        null,
        4,
      )}\n`,
    )
    expect(Object.keys(JSON.parse(updated) as object)).to.deep.equal(['name', 'type', 'scripts', 'dependencies', 'devDependencies'])
  })

  it('without "dependencies", adds it last; keeps tabs, CRLF and a missing final newline', () => {
    expect(JSON.parse(addTsxDependency('{"name":"a","version":"1.0.0"}') ?? '')).to.deep.equal({
      name: 'a',
      version: '1.0.0',
      dependencies: { tsx: TSX_RANGE },
    })
    const crlf = addTsxDependency('{\r\n\t"name": "a"\r\n}\r\n') ?? ''
    expect(crlf).to.equal(`{\r\n\t"name": "a",\r\n\t"dependencies": {\r\n\t\t"tsx": "${TSX_RANGE}"\r\n\t}\r\n}\r\n`)
    expect(addTsxDependency('{\n  "name": "a"\n}')?.endsWith('}')).to.equal(true)
  })

  it('leaves alone a package.json that lists tsx already (its version, even as a devDependency) or that is not JSON', () => {
    expect(addTsxDependency(JSON.stringify({ dependencies: { tsx: '4.19.0' } }))).to.equal(undefined)
    expect(addTsxDependency(JSON.stringify({ devDependencies: { tsx: '^4.20.0' } }))).to.equal(undefined)
    expect(addTsxDependency('{ "name": ')).to.equal(undefined)
    expect(addTsxDependency('[]')).to.equal(undefined)
  })
})
