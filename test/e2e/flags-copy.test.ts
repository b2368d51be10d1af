/**
 * `gantry flags copy`: promotion from staging to a protected production, each on its own SQLite file of one
 * workspace. The difference comes first, the protected target needs --force without a terminal, the copy
 * brings the segments its rules name, and one database under two environment names is refused.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import type { ApplyFlagsResult, FlagsFile } from '../../src/core/flags/flags.schema.js'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'

describe('gantry flags copy (built CLI, two SQLite environments)', function () {
  this.timeout(60_000)
  let root: string
  const gantry = (args: readonly string[]): Promise<CliResult> => runGantry(args, { cwd: root, env: { DATABASE_URL: undefined } })
  const ok = async (args: readonly string[]): Promise<CliResult> => {
    const result = await gantry(args)
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0)
    return result
  }
  const exported = async (env: string): Promise<FlagsFile> => parseJson<FlagsFile>(await ok(['flags', 'export', '-e', env, '--json']))

  before(async () => {
    root = tempDir('gantry-flags-copy-')
    writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
    writeFileSync(
      join(root, 'gantry.config.json'),
      JSON.stringify({
        environments: {
          staging: { database: 'sqlite:./staging.sqlite3' },
          production: { database: 'sqlite:./production.sqlite3', protected: true },
          // The same file as staging, spelled otherwise: what two environments reading one ${DATABASE_URL} amount to.
          'staging-again': { database: `sqlite:${join(root, 'staging.sqlite3')}` },
        },
      }),
    )
    await ok(['migrate', 'latest', '-e', 'staging'])
    await ok(['migrate', 'latest', '-e', 'production'])
    await ok(['flags', 'segment', 'set', 'staff', '-e', 'staging', '--when', 'emailDomain = example.com'])
    await ok(['flags', 'create', 'new-checkout', '--type', 'boolean', '-e', 'staging'])
    await ok(['flags', 'rule', 'add', 'new-checkout', '-e', 'staging', '--when', 'segment staff', '--serve', 'on'])
    await ok(['flags', 'set', 'new-checkout', '--on', '-e', 'staging'])
  })

  it('into a protected environment without a terminal: needs --force (exit 2), and nothing is copied', async () => {
    const refused = await gantry(['flags', 'copy', 'new-checkout', '--from', 'staging', '--to', 'production'])
    expect(refused.code).to.equal(2)
    expect(refused.stderr).to.contain('FORCE_REQUIRED')
    expect(refused.stdout).to.contain('production has no flag new-checkout: it is created.')
    expect((await exported('production')).flags).to.deep.equal([])
  })

  it('with --force: the flag and the segment its rule names arrive as staging has them', async () => {
    const copied = parseJson<ApplyFlagsResult>(await ok(['flags', 'copy', 'new-checkout', '--from', 'staging', '--to', 'production', '--force', '--json']))
    expect(copied.changes).to.deep.include.members([
      { kind: 'segment', name: 'staff', change: 'create' },
      { kind: 'flag', name: 'new-checkout', change: 'create' },
    ])
    expect(await exported('production')).to.deep.equal(await exported('staging'))
  })

  it('--dry-run shows each changed field before and after, and changes nothing', async () => {
    await ok(['flags', 'rollout', 'new-checkout', '--percent', '10', '-e', 'staging'])
    await ok(['flags', 'set', 'new-checkout', '--off', '-e', 'staging'])
    const before = await exported('production')
    const dry = await ok(['flags', 'copy', 'new-checkout', '--from', 'staging', '--to', 'production', '--dry-run'])
    expect(dry.stdout).to.match(/state\s+on\s+off/)
    expect(dry.stdout).to.match(/rule 1\s+-\s+everyone -> rollout by userId: on 10%, off 90%/)
    expect(await exported('production')).to.deep.equal(before)
  })

  it('refuses two names of one database (exit 2), naming it', async () => {
    const same = await gantry(['flags', 'copy', 'new-checkout', '--from', 'staging', '--to', 'staging-again', '--yes'])
    expect(same.code).to.equal(2)
    expect(same.stderr).to.contain('resolve to the same database')
    const unknown = await gantry(['flags', 'copy', 'no-such-flag', '--from', 'staging', '--to', 'production', '--force'])
    expect(unknown.code).to.equal(1)
    expect(unknown.stderr).to.contain('FLAG_NOT_FOUND')
  })
})
