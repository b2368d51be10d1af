/**
 * Backups in S3-compatible storage (`backups.s3`, issue 23), against a local S3-compatible server (s3rver):
 * every backup is uploaded after it is written, byte for byte; `db restore s3://…` (the built CLI) downloads
 * and restores one; retention deletes in the bucket what it deletes locally; a bucket that cannot be reached
 * is BACKUP_STORAGE_FAILED naming the local file kept. The storage does not depend on the dialect: SQLite.
 */
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3'
import { expect } from 'chai'
import { backupContext } from '../../../src/backup-context.js'
import { loadWorkspace, resolveEnvironment } from '../../../src/config/workspace.js'
import { manualClock } from '../../../src/core/clock.js'
import { GantryError } from '../../../src/core/errors.js'
import { takeBackup, type BackupContext } from '../../../src/db/backups.js'
import { createMigrator } from '../../../src/db/migrator/index.js'
import { openRuntime, type Runtime } from '../../../src/runtime.js'
import { applyRetention } from '../../../src/worker/backup-schedule.js'
import { parseJson, runGantry } from '../../helpers/cli.js'
import { STRONG } from '../../helpers/identity-fixture.js'
import { S3RVER_ENV, startS3, type TestS3 } from '../../helpers/s3-server.js'

const DAY = 86_400_000
const sha256 = (bytes: Buffer | Uint8Array): string => createHash('sha256').update(bytes).digest('hex')

describe('backups in S3-compatible storage (s3rver)', function () {
  this.timeout(60_000)
  let s3: TestS3
  let root: string
  let runtime: Runtime
  let context: BackupContext
  let client: S3Client
  const saved: Record<string, string | undefined> = {}

  const keys = async (): Promise<string[]> =>
    ((await client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: 'production/' }))).Contents ?? []).map((o) => o.Key as string).sort()

  before(async () => {
    for (const [name, value] of Object.entries(S3RVER_ENV)) {
      saved[name] = process.env[name]
      process.env[name] = value
    }
    s3 = await startS3()
    client = new S3Client({ region: 'us-east-1', endpoint: s3.endpoint, forcePathStyle: true })
    root = mkdtempSync(join(tmpdir(), 'gantry-backup-s3-'))
    writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
    writeFileSync(
      join(root, 'gantry.config.json'),
      JSON.stringify({
        environments: {
          production: {
            database: 'sqlite:./production.sqlite3',
            backups: { s3: { bucket: s3.bucket, prefix: 'production/', endpoint: s3.endpoint, forcePathStyle: true }, keep: { daily: 1, weekly: 0 } },
          },
          staging: { database: 'sqlite:./staging.sqlite3', backups: { s3: { bucket: s3.bucket, endpoint: 'http://127.0.0.1:9', forcePathStyle: true } } },
        },
      }),
    )
    const workspace = loadWorkspace({ cwd: root })
    runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'production', {}) })
    const db = await runtime.database()
    await createMigrator({ db, appDirectory: workspace.migrations.directory, appTable: workspace.migrations.tableName, actor: 'test' }).latest()
    context = await backupContext(runtime)
    await (await runtime.services()).users.create(context.ctx, { email: 'kept@example.com', role: 'admin', password: STRONG })
  })

  after(async () => {
    client?.destroy()
    await runtime?.close()
    await s3?.close()
    if (root) rmSync(root, { recursive: true, force: true })
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name]
      else process.env[name] = value
    }
  })

  it('uploads each backup after writing it, byte for byte, under the prefix; the result and the audit entry name it', async () => {
    const backup = await takeBackup(context)
    expect(backup.stored).to.equal(`s3://${s3.bucket}/production/${basename(backup.file)}`)
    const object = await client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `production/${basename(backup.file)}` }))
    expect(sha256(await object.Body!.transformToByteArray())).to.equal(sha256(readFileSync(backup.file)))
    const { knex } = await runtime.database()
    const entry = (await knex('gantry_audit_log').where({ action: 'db.backup' }).orderBy('id', 'desc').first()) as { after: string }
    expect(JSON.parse(entry.after)).to.include({ stored: backup.stored })
  })

  it('`gantry db restore s3://…` (built CLI) downloads the backup, verifies and restores it, and answers its s3:// location', async () => {
    const backup = await takeBackup(context)
    const { knex } = await runtime.database()
    await knex('gantry_users').where({ email: 'kept@example.com' }).update({ name: 'changed after the backup' })
    const result = await runGantry(['db', 'restore', backup.stored!, '-e', 'production', '--force', '--json'], {
      cwd: root,
      env: { DATABASE_URL: undefined, AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' },
    })
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.not.include('NodeVersionSupportWarning')
    expect(parseJson(result)).to.include({ file: backup.stored })
    expect(((await knex('gantry_users').where({ email: 'kept@example.com' }).first('name')) as { name: string }).name).to.not.equal('changed after the backup')
  })

  it('retention deletes in the bucket the scheduled backups it deletes locally', async () => {
    const clock = manualClock(Date.parse('2026-12-01T03:00:00Z'))
    const scheduled: string[] = []
    for (let day = 0; day < 3; day++) {
      clock.set(Date.parse('2026-12-01T03:00:00Z') + day * DAY)
      scheduled.push((await takeBackup({ ...context, clock }, { trigger: 'schedule' })).file)
    }
    const before = await keys()
    for (const file of scheduled) expect(before).to.include(`production/${basename(file)}`)
    const deleted = await applyRetention(runtime.environment, root, clock.now(), scheduled[2]!)
    expect(deleted.map((f) => basename(f)).sort()).to.deep.equal(
      scheduled
        .slice(0, 2)
        .map((f) => basename(f))
        .sort(),
    )
    const after = await keys()
    for (const file of scheduled.slice(0, 2)) expect(after).to.not.include(`production/${basename(file)}`)
    expect(after).to.include(`production/${basename(scheduled[2]!)}`)
    // The manual backups of the tests before are not the schedule's: they stay, here and there.
    expect(after.length).to.equal(before.length - 2)
  })

  it('a bucket that cannot be reached: BACKUP_STORAGE_FAILED naming the location, the local file kept', async () => {
    const workspace = loadWorkspace({ cwd: root })
    const staging = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'staging', {}) })
    try {
      const db = await staging.database()
      await createMigrator({ db, appDirectory: workspace.migrations.directory, appTable: workspace.migrations.tableName, actor: 'test' }).latest()
      const err = await takeBackup(await backupContext(staging)).then(
        () => expect.fail('expected BACKUP_STORAGE_FAILED'),
        (e: unknown) => e as GantryError,
      )
      expect(err).to.be.instanceOf(GantryError)
      expect(err.code).to.equal('BACKUP_STORAGE_FAILED')
      expect(err.message).to.match(/is written, but not uploaded: Upload to s3:\/\/gantry-backups\/staging-\S+ failed/)
      const local = /^(\S+) is written/.exec(err.message)![1]!
      expect(existsSync(local)).to.equal(true)
    } finally {
      await staging.close()
    }
  })
})
