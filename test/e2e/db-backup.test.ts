/**
 * `gantry db backup`, `db backups list` and `db restore` (issue 23) as users run them: the built CLI on two
 * SQLite environments of one workspace (staging, with a backup key; production, protected, without). A
 * backup names its file and is written 0600; the list reads headers, an unreadable file included; a dry run,
 * a restore into a protected environment without --force, a backup whose key is not set and a cut file all
 * exit 2 with the database as it was; with --force the rows come back. A missing pg_dump is exit 3 naming
 * its package.
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { copyFileSync, existsSync, mkdirSync, realpathSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { backupListSchema, backupResultSchema, restoreResultSchema } from '../../src/core/backups/backup.schema.js'
import { openDatabase } from '../../src/db/connect.js'
import { BIN, cliEnv, parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import { createTestDatabase, requireDialect, type TestDatabase } from '../helpers/services.js'

const USERS = 300
const BACKUP_KEY = Buffer.alloc(32, 9).toString('base64')

/**
 * Every table's row count and a checksum of its rows (ordered by all columns, the primary key first). Not the
 * file's bytes: in WAL mode a reader's last close may checkpoint, rewriting the file with the same content
 * (and reading the file from this process while the driver has it open would release SQLite's locks).
 */
async function fingerprint(root: string, file: string): Promise<{ counts: Record<string, number>; checksums: Record<string, string> }> {
  const db = await openDatabase(`sqlite:${join(root, file)}`, root)
  try {
    const tables = (
      (await db.knex.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' order by name")) as Array<{
        name: string
      }>
    ).map((t) => t.name)
    const counts: Record<string, number> = {}
    const checksums: Record<string, string> = {}
    for (const table of tables) {
      const columns = Object.keys(await db.knex(table).columnInfo())
      const rows = (await db
        .knex(table)
        .select('*')
        .orderBy(columns.map((column) => ({ column })))) as Array<Record<string, unknown>>
      counts[table] = rows.length
      checksums[table] = createHash('sha256').update(JSON.stringify(rows)).digest('hex')
    }
    return { counts, checksums }
  } finally {
    await db.close()
  }
}

describe('gantry db backup / db backups list / db restore (built CLI, SQLite)', function () {
  this.timeout(60_000)
  let root: string
  let backupFile: string
  let encryptedFile: string
  let atBackup: Awaited<ReturnType<typeof fingerprint>>
  const gantry = (args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> =>
    runGantry(args, { cwd: root, env: { DATABASE_URL: undefined, GANTRY_BACKUP_KEY: undefined, ...env } })
  const ok = async (args: readonly string[], env?: NodeJS.ProcessEnv): Promise<CliResult> => {
    const result = await gantry(args, env)
    expect(result.code, `${args.join(' ')}: ${result.stderr}`).to.equal(0)
    return result
  }
  const production = () => fingerprint(root, 'production.sqlite3')

  before(async () => {
    root = tempDir('gantry-db-backup-')
    writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
    writeFileSync(
      join(root, 'gantry.config.json'),
      JSON.stringify({
        environments: {
          staging: { database: 'sqlite:./staging.sqlite3' },
          production: { database: 'sqlite:./production.sqlite3', protected: true },
        },
      }),
    )
    writeFileSync(join(root, '.env.staging'), `GANTRY_BACKUP_KEY=${BACKUP_KEY}\n`)
    await ok(['migrate', 'latest', '-e', 'staging'])
    await ok(['migrate', 'latest', '-e', 'production'])
    // Users by the hundred, inserted directly (the restore does not care how they came).
    const db = await openDatabase(`sqlite:${join(root, 'production.sqlite3')}`, root)
    try {
      const now = Date.now()
      const users = Array.from({ length: USERS }, (_, i) => ({
        email: `user${i}@example.com`,
        name: `Üser ${i}`,
        role: 'viewer',
        password_hash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA',
        created_at: now,
        updated_at: now,
      }))
      await db.knex.batchInsert('gantry_users', users, 100)
    } finally {
      await db.close()
    }
  })
  after(() => {
    if (root) rmSync(root, { recursive: true, force: true })
  })

  it('db backup: one line names the file, written 0600; --json answers the result schema', async () => {
    atBackup = await production()
    const human = await ok(['db', 'backup', '-e', 'production'])
    const match = /^Wrote (\S+\.gantry-backup) \(([\d.]+ [KMG]?B), ([\d,]+) rows in (\d+) tables\)\.$/m.exec(human.stdout)
    expect(match, human.stdout).to.not.equal(null)
    backupFile = match![1]!
    expect(backupFile.startsWith(join(root, '.gantry', 'backups', 'production-'))).to.equal(true)
    expect(statSync(backupFile).mode & 0o777).to.equal(0o600)
    const rows = Object.values(atBackup.counts).reduce((a, b) => a + b, 0)
    expect(match![3]!.replace(/,/g, '')).to.equal(String(rows))
    expect(human.stdout + human.stderr).to.include('Not encrypted: set GANTRY_BACKUP_KEY')

    const json = parseJson(await ok(['db', 'backup', '-e', 'production', '--json']))
    const result = backupResultSchema.strict().parse(json)
    expect(result.encrypted).to.equal(false)
    expect(result.file).to.not.equal(backupFile)
    expect(statSync(result.file).mode & 0o777).to.equal(0o600)
    expect(result.bytes).to.equal(statSync(result.file).size)
    expect(result.manifest.rowCounts).to.include({ gantry_users: USERS })
    expect(result.manifest).to.include({ environment: 'production', dialect: 'sqlite', tables: 'all' })
  })

  it('db backups list: both backups from their headers, newest first, and an unreadable file with why', async () => {
    writeFileSync(join(root, '.gantry', 'backups', 'broken.gantry-backup'), 'this is not a backup')
    const listed = backupListSchema.parse(parseJson(await ok(['db', 'backups', 'list', '-e', 'production', '--json'])))
    expect(listed.directory).to.equal(join(root, '.gantry', 'backups'))
    expect(listed.data).to.have.length(3)
    const [newest, older, broken] = listed.data
    expect(older?.file).to.equal(backupFile)
    expect(newest?.manifest?.startedAt.localeCompare(older?.manifest?.startedAt ?? '')).to.equal(1)
    expect(older?.manifest?.rowCounts).to.deep.equal(atBackup.counts)
    expect(broken).to.deep.include({ file: join(root, '.gantry', 'backups', 'broken.gantry-backup'), manifest: null, encrypted: false })
    expect(broken?.error).to.include('not a Gantry backup')
    const human = await ok(['db', 'backups', 'list', '-e', 'production'])
    expect(human.stdout).to.include(backupFile).and.include('unreadable')
  })

  describe('restore', () => {
    let damaged: Awaited<ReturnType<typeof fingerprint>>
    before(async () => {
      const db = await openDatabase(`sqlite:${join(root, 'production.sqlite3')}`, root)
      try {
        await db.knex('gantry_users').where('email', 'like', 'user1%').delete()
      } finally {
        await db.close()
      }
      damaged = await production()
      expect(damaged.counts.gantry_users).to.be.below(USERS)
    })

    it('--dry-run verifies the file, says what would happen and changes nothing', async () => {
      const dry = await ok(['db', 'restore', backupFile, '-e', 'production', '--dry-run'])
      expect(dry.stdout).to.include(`${backupFile}: production (sqlite`)
      expect(dry.stdout).to.include("The file verifies: restoring it would replace production's tables.")
      expect(await production()).to.deep.equal(damaged)
    })

    it('into a protected environment without a terminal and without --force: exit 2 (FORCE_REQUIRED), nothing changed', async () => {
      const refused = await gantry(['db', 'restore', backupFile, '-e', 'production'])
      expect(refused.code, refused.stderr).to.equal(2)
      expect(refused.stderr).to.include('FORCE_REQUIRED')
      expect(refused.stdout, 'the summary comes first').to.include(`${backupFile}: production (sqlite`)
      expect(await production()).to.deep.equal(damaged)
    })

    it('an encrypted backup where GANTRY_BACKUP_KEY is not set: exit 2 naming BACKUP_KEY_MISSING, nothing changed', async () => {
      const taken = backupResultSchema.parse(parseJson(await ok(['db', 'backup', '-e', 'staging', '--json'])))
      expect(taken.encrypted).to.equal(true)
      encryptedFile = taken.file
      // Into production, which has no key…
      const missing = await gantry(['db', 'restore', encryptedFile, '-e', 'production', '--force'])
      expect(missing.code, missing.stderr).to.equal(2)
      expect(missing.stderr).to.include('BACKUP_KEY_MISSING')
      expect(await production()).to.deep.equal(damaged)
      // …and into staging with its key emptied in the process environment (the strongest source).
      const staging = await fingerprint(root, 'staging.sqlite3')
      const emptied = await gantry(['db', 'restore', encryptedFile, '-e', 'staging', '--yes'], { GANTRY_BACKUP_KEY: '' })
      expect(emptied.code, emptied.stderr).to.equal(2)
      expect(emptied.stderr).to.include('BACKUP_KEY_MISSING')
      expect(await fingerprint(root, 'staging.sqlite3')).to.deep.equal(staging)
    })

    it('a file cut short: exit 2 naming BACKUP_INVALID, nothing changed', async () => {
      const cut = join(root, 'cut.gantry-backup')
      copyFileSync(backupFile, cut)
      truncateSync(cut, Math.floor(statSync(cut).size / 2))
      const refused = await gantry(['db', 'restore', cut, '-e', 'production', '--force'])
      expect(refused.code, refused.stderr).to.equal(2)
      expect(refused.stderr).to.include('BACKUP_INVALID')
      expect(await production()).to.deep.equal(damaged)
    })

    it('with --force: restored, every row count as the manifest says, the rows as they were', async () => {
      const restored = restoreResultSchema.strict().parse(parseJson(await ok(['db', 'restore', backupFile, '-e', 'production', '--force', '--json'])))
      expect(restored).to.include({ file: backupFile, target: 'production', scrub: false, dryRun: false, scrubbed: null })
      expect(restored.rowCounts.filter((r) => r.actual !== r.expected)).to.deep.equal([])
      const now = await production()
      expect(now.counts.gantry_users).to.equal(USERS)
      // Every table as at the backup; the audit log as well, and the restore's entry after it.
      const withoutAudit = (checksums: Record<string, string>) => Object.fromEntries(Object.entries(checksums).filter(([t]) => t !== 'gantry_audit_log'))
      expect(withoutAudit(now.checksums)).to.deep.equal(withoutAudit(atBackup.checksums))
      expect(now.counts.gantry_audit_log).to.equal(atBackup.counts.gantry_audit_log! + 1)
      // The human form, once more: the restore's closing line.
      const human = await ok(['db', 'restore', backupFile, '-e', 'production', '--force'])
      expect(human.stdout).to.match(/Restored: \d+ tables, every row count as the manifest says\./)
    })
  })

  describe('a missing dump tool', () => {
    let database: TestDatabase | undefined
    let pgRoot: string | undefined
    after(async () => {
      await database?.drop()
      if (pgRoot) rmSync(pgRoot, { recursive: true, force: true })
    })

    /**
     * Gantry looks for pg_dump on PATH and then in /usr/local/bin, /usr/bin, /bin and PostgreSQL's versioned
     * folders (src/db/dump/programs.ts): a PATH without it does not hide an installed one. Hiding it takes a
     * private mount namespace (unshare -rm) where every copy is covered by /dev/null (not executable).
     */
    it('db backup on a postgres environment where pg_dump is not installed: exit 3 naming DUMP_TOOL_MISSING and the package', async function () {
      await requireDialect(this, 'postgres')
      const unshare = (process.env.PATH ?? '')
        .split(':')
        .map((d) => join(d, 'unshare'))
        .find((p) => existsSync(p))
      const probe = unshare ? await run(unshare, ['-rm', 'true'], {}) : { code: -1, stderr: 'not installed' }
      if (probe.code !== 0) {
        console.log(
          `      pending: cannot hide pg_dump here (unshare -rm: ${probe.stderr.trim() || `exit ${probe.code}`}); a PATH without it does not hide /usr/bin/pg_dump`,
        )
        this.skip()
      }
      database = await createTestDatabase('postgres')
      pgRoot = tempDir('gantry-db-backup-pg-')
      writeFileSync(join(pgRoot, 'package.json'), JSON.stringify({ type: 'module' }))
      writeFileSync(join(pgRoot, 'gantry.config.json'), JSON.stringify({ environments: { staging: { database: database.url } } }))
      const migrated = await runGantry(['migrate', 'latest', '-e', 'staging'], { cwd: pgRoot, env: { DATABASE_URL: undefined } })
      expect(migrated.code, migrated.stderr).to.equal(0)

      // Only node on PATH (a folder with a link to it), and every pg_dump Gantry could find covered.
      const bin = join(pgRoot, 'bin')
      mkdirSync(bin)
      const covered = [
        ...new Set(
          ['/usr/local/bin', '/usr/bin', '/bin']
            .map((d) => join(d, 'pg_dump'))
            .filter((p) => existsSync(p))
            .map((p) => realpathSync(p)),
        ),
      ]
      const mounts = [
        ...covered.map((p) => `mount --bind /dev/null '${p}'`),
        ...(existsSync('/usr/lib/postgresql') ? ['mount -t tmpfs none /usr/lib/postgresql'] : []),
        `ln -s '${process.execPath}' '${bin}/node'`,
      ]
      const script = `${mounts.join(' && ')} && PATH='${bin}' exec "$@"`
      const result = await run(unshare!, ['-rm', '/bin/sh', '-c', script, 'sh', process.execPath, BIN, 'db', 'backup', '-e', 'staging'], {
        cwd: pgRoot,
        env: cliEnv({ DATABASE_URL: undefined }),
      })
      expect(result.code, result.stderr).to.equal(3)
      expect(result.stderr).to.include('DUMP_TOOL_MISSING').and.include('pg_dump').and.include('postgresql-client')
    })
  })
})

/** Runs a program to completion. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv },
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (stdout += c))
    child.stderr.setEncoding('utf8').on('data', (c: string) => (stderr += c))
    child.once('error', (err) => resolve({ code: -1, stdout, stderr: err.message }))
    child.once('close', (code) => resolve({ code, stdout, stderr }))
  })
}
