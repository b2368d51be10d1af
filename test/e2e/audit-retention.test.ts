/**
 * `gantry audit prune` and `gantry audit export` through the built binary, against the workspace's database
 * and through a real `gantry serve` with --remote: a dry run counts, a prune deletes and is audited, a
 * protected environment wants --force, an export to a file is 0600 and its CSV safe to open in a spreadsheet.
 * Old entries are written into the SQLite file directly (the CLI's clock is the real one: no waiting).
 */
import { statSync, readFileSync, writeFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { openDatabase, type Database } from '../../src/db/connect.js'
import { parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import {
  ADMIN,
  createServeWorkspace,
  killLeftovers,
  listeningUrl,
  startServe,
  stopServe,
  type ServeProcess,
  type ServeWorkspace,
} from '../helpers/serve-process.js'

const DAY = 86_400_000
const HOSTILE = "=cmd|' /C calc'!A0\u001b[2J"

describe('e2e: audit prune and export, local and --remote', function () {
  this.timeout(120_000)
  let ws: ServeWorkspace
  let serve: ServeProcess
  let url: string
  let config: string
  let database: Database
  let db: Knex
  let out: string

  const gantry = (args: readonly string[], input?: string): Promise<CliResult> =>
    runGantry(args, { cwd: ws.root, env: { ...ws.env, XDG_CONFIG_HOME: config, GANTRY_URL: url, GANTRY_TOKEN: undefined, GANTRY_API_KEY: undefined }, input })
  const ok = (r: CliResult): CliResult => {
    expect(r.code, `${r.stdout}\n${r.stderr}`).to.equal(0)
    return r
  }
  /** Entries `days` back, by `actor`, one per age. */
  const seed = (actor: string, days: readonly number[]) =>
    db('gantry_audit_log').insert(
      days.map((d) => ({
        at: Date.now() - d * DAY,
        actor,
        action: 'users.update',
        target_type: 'user',
        target_id: String(d),
        before: null,
        after: null,
        ip: null,
      })),
    )
  const countBy = async (actor: string) => Number((await db('gantry_audit_log').where({ actor }).count({ n: '*' }))[0]?.n)

  before(async () => {
    ws = await createServeWorkspace()
    config = tempDir('gantry-xdg-')
    out = tempDir('gantry-audit-out-')
    const file = JSON.parse(readFileSync(join(ws.root, 'gantry.config.json'), 'utf8')) as { environments: Record<string, { database: string }> }
    database = await openDatabase(file.environments.development?.database as string, ws.root)
    db = database.knex
    serve = startServe(ws)
    url = await listeningUrl(serve)
    ok(await gantry(['login', '--email', ADMIN.email, '--password-stdin'], ADMIN.password))
  })

  after(async () => {
    await database?.close()
    if (serve) await stopServe(serve)
    killLeftovers()
    ws?.cleanup()
  })

  for (const mode of ['local', 'remote'] as const) {
    const door = mode === 'remote' ? ['--remote'] : []
    const actor = `local:e2e-${mode}@host`

    it(`${mode}: --dry-run counts what would go and deletes nothing; a prune deletes it and is audited once`, async () => {
      await seed(actor, [400, 380, 5])
      const dry = parseJson(ok(await gantry(['audit', 'prune', '--older-than', '365d', '--dry-run', '--json', ...door])))
      expect(dry).to.deep.include({ dryRun: true, olderThan: '365d', count: 2 })
      expect(await countBy(actor)).to.equal(3)
      const human = ok(await gantry(['audit', 'prune', '--older-than', '365d', '--dry-run', ...door]))
      expect(human.stdout).to.match(/^Would delete 2 audit entries older than 365d \(before /)
      const pruned = parseJson(ok(await gantry(['audit', 'prune', '--older-than', '365d', '--json', ...door])))
      expect(pruned).to.deep.include({ dryRun: false, count: 2 })
      expect(await countBy(actor)).to.equal(1)
      const list = parseJson<{ data: Array<{ actor: string; after: { count: number } }> }>(
        ok(await gantry(['audit', 'list', '--action', 'audit.pruned', '--limit', '1', '--json', ...door])),
      )
      expect(list.data[0]?.after.count).to.equal(2)
      expect(list.data[0]?.actor).to.match(mode === 'remote' ? /^user:\d+$/ : /^local:/)
      const again = ok(await gantry(['audit', 'prune', '--older-than', '365d', ...door]))
      expect(again.stdout).to.match(/^No audit entries are older than 365d/)
    })

    it(`${mode}: a real prune in a protected environment needs --force; a dry run does not`, async () => {
      await seed(actor, [900])
      const protectedArgs = ['-e', 'development', '--older-than', '800d', ...door]
      // development made protected for these runs through its own config, then put back.
      const path = join(ws.root, 'gantry.config.json')
      const original = readFileSync(path, 'utf8')
      const changed = JSON.parse(original) as { environments: { development: Record<string, unknown> } }
      changed.environments.development.protected = true
      writeFileSync(path, JSON.stringify(changed))
      try {
        ok(await gantry(['audit', 'prune', '--dry-run', ...protectedArgs]))
        const refused = await gantry(['audit', 'prune', ...protectedArgs])
        expect(refused.code, refused.stderr).to.equal(2)
        expect(refused.stderr).to.include('Error (FORCE_REQUIRED)')
        expect(await countBy(actor)).to.equal(2)
        ok(await gantry(['audit', 'prune', '--force', ...protectedArgs]))
        expect(await countBy(actor)).to.equal(1)
      } finally {
        writeFileSync(path, original)
      }
    })

    it(`${mode}: exports oldest first to a 0600 file, CSV cells safe, and refuses to overwrite without --force`, async () => {
      const exporter = `local:export-${mode}@host`
      await seed(exporter, [3, 1, 2])
      await db('gantry_audit_log').insert({
        at: Date.now() - 4 * DAY,
        actor: exporter,
        action: 'users.update',
        target_type: 'user',
        target_id: HOSTILE,
        before: null,
        after: null,
        ip: null,
      })
      const csv = join(out, `${mode}.csv`)
      const result = parseJson(ok(await gantry(['audit', 'export', '--actor', exporter, csv, '--json', ...door])))
      expect(result).to.deep.equal({ exported: 4, file: csv })
      expect(statSync(csv).mode & 0o777).to.equal(0o600)
      expect(
        readdirSync(out).filter((name) => name.startsWith('.')),
        'no temporary file left',
      ).to.deep.equal([])
      const lines = readFileSync(csv, 'utf8').split('\r\n')
      expect(lines[0]).to.equal('id,at,actor,action,targetType,targetId,before,after,ip')
      // Oldest first; the hostile target id neutralised (a ' in front) and its escape sequence made visible.
      expect(lines[1]).to.include(",'=cmd|' /C calc'!A0\\u001b[2J,")
      expect(lines.slice(2, 5).map((l) => l.split(',')[5])).to.deep.equal(['3', '2', '1'])
      expect(readFileSync(csv, 'utf8')).to.not.include('\u001b')
      const again = await gantry(['audit', 'export', '--actor', exporter, csv, ...door])
      expect(again.code).to.equal(1)
      expect(again.stderr).to.include('Error (FILE_EXISTS)')
      ok(await gantry(['audit', 'export', '--actor', exporter, csv, '--force', '--format', 'jsonl', ...door]))
      const records = readFileSync(csv, 'utf8')
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { targetId: string })
      expect(records.map((r) => r.targetId)).to.deep.equal([HOSTILE, '3', '2', '1'])
      const stdout = ok(await gantry(['audit', 'export', '--actor', exporter, '--since', '2d', ...door]))
      expect(
        stdout.stdout
          .trim()
          .split('\n')
          .map((l) => (JSON.parse(l) as { targetId: string }).targetId),
      ).to.deep.equal(['1'])
    })
  }

  it('refuses bad input in one line with exit 2', async () => {
    for (const args of [
      ['audit', 'prune', '--older-than', 'soon'],
      ['audit', 'export', '--json'],
      ['audit', 'export', '--since', 'yesterday'],
    ]) {
      const run = await gantry(args)
      expect(run.code, args.join(' ')).to.equal(2)
      expect(run.stderr, args.join(' ')).to.match(/^Error \(INVALID_INPUT\)/)
    }
  })
})
