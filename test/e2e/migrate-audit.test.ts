/**
 * Migration runs in the audit log, and so as webhook events: `migrate latest` and `migrate rollback` record
 * what they applied or undid, and a failed run its error, after the run and outside its transactions.
 */
import { writeFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import type { AuditPage } from '../../src/core/audit/audit.schema.js'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'

describe('migration runs in the audit log (built CLI, SQLite)', function () {
  this.timeout(60_000)
  let root: string
  const gantry = (args: readonly string[]): Promise<CliResult> =>
    runGantry(args, { cwd: root, env: { GANTRY_ENCRYPTION_KEY: Buffer.alloc(32, 4).toString('base64') } })
  const audit = async (action: string) => parseJson<AuditPage>(await gantry(['audit', 'list', '--action', action, '--json'])).data

  before(() => {
    root = tempDir()
    writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
    writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: `sqlite:${join(root, 'db.sqlite3')}` } } }))
    mkdirSync(join(root, 'migrations'))
    writeFileSync(
      join(root, 'migrations', '20260101000000_orders.js'),
      `export const up = (k) => k.schema.createTable('orders', (t) => t.increments())\nexport const down = (k) => k.schema.dropTable('orders')\n`,
    )
  })

  it('records what latest applied, what a failed run stopped at, and what rollback undid; a subscribed endpoint gets each as an event', async () => {
    const first = await gantry(['migrate', 'latest', '--json'])
    expect(first.code, first.stderr).to.equal(0)
    const [applied] = await audit('migrations.apply')
    expect(applied!.actor).to.match(/^local:/)
    expect(applied!.targetId).to.equal('development')
    expect((applied!.after as { applied: string[] }).applied).to.include('app/20260101000000_orders')

    const hook = await gantry(['webhooks', 'create', 'http://127.0.0.1:9/x', '--events', 'migrations.*', '--json'])
    expect(hook.code, hook.stderr).to.equal(0)
    writeFileSync(
      join(root, 'migrations', '20260102000000_broken.js'),
      `export const up = (k) => k.raw('select * from no_such_table')\nexport const down = () => {}\n`,
    )
    const broken = await gantry(['migrate', 'latest', '--json'])
    expect(broken.code).to.not.equal(0)
    const [failed] = await audit('migrations.fail')
    expect((failed!.after as { failed: unknown }).failed).to.deep.equal({ code: 'MIGRATION_FAILED', set: 'app', name: '20260102000000_broken' })

    writeFileSync(join(root, 'migrations', '20260102000000_broken.js'), `export const up = () => {}\nexport const down = () => {}\n`)
    const rollback = await gantry(['migrate', 'rollback', '--json'])
    expect(rollback.code, rollback.stderr).to.equal(0)
    const [undone] = await audit('migrations.rollback')
    expect((undone!.after as { rolledBack: string[] }).rolledBack).to.deep.equal(['app/20260101000000_orders'])

    // A run that changes nothing is not recorded.
    await gantry(['migrate', 'latest', '--json'])
    await gantry(['migrate', 'latest', '--json'])
    expect(await audit('migrations.apply')).to.have.length(2)

    const deliveries = parseJson<{ data: Array<{ eventType: string }> }>(
      await gantry(['webhooks', 'deliveries', JSON.parse(hook.stdout).endpoint.id, '--json']),
    )
    expect(deliveries.data.map((d) => d.eventType).sort()).to.deep.equal(['migrations.applied', 'migrations.failed', 'migrations.rolled_back'])
  })
})
