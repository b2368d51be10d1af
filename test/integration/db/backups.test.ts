/**
 * Backups and restores through src/db/backups.ts (issue 23), on SQLite, MariaDB and PostgreSQL: a workspace
 * with two environments (staging, and a protected production) on two fresh databases of one dialect, seeded
 * with thousands of users, API keys, refresh tokens, an EdDSA signing key, a webhook endpoint with a queued
 * delivery and the audit rows all of that wrote. A restore into the same environment brings every table's
 * rows back exactly; one into the other environment scrubs the credentials (unless they are kept); a
 * damaged, cut or wrongly keyed file, a backup from a newer Gantry schema and one of another dialect are
 * refused with the database untouched.
 */
import { createHash, randomBytes } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync, copyFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import type { Knex } from 'knex'
import { backupContext } from '../../../src/backup-context.js'
import { loadWorkspace, resolveEnvironment } from '../../../src/config/workspace.js'
import { hashContentFile, readBackupHeader, writeBackupFile } from '../../../src/core/backups/backup-file.js'
import { parseBackupKey } from '../../../src/core/backups/backup-key.js'
import type { BackupManifest } from '../../../src/core/backups/backup.schema.js'
import { GantryError } from '../../../src/core/errors.js'
import type { Services } from '../../../src/core/services.js'
import { planRestore, restoreBackup, takeBackup, type BackupContext, type BackupResult } from '../../../src/db/backups.js'
import type { Database } from '../../../src/db/connect.js'
import { DUMP_FORMATS } from '../../../src/db/dump-tools.js'
import { createMigrator } from '../../../src/db/migrator/index.js'
import type { Dialect } from '../../../src/db/url.js'
import { openRuntime, type Runtime } from '../../../src/runtime.js'
import { STRONG } from '../../helpers/identity-fixture.js'
import { atScale } from '../../helpers/scorecard.js'
import { createTestDatabase, DIALECTS, requireDialect, type TestDatabase } from '../../helpers/services.js'

/**
 * Users inserted in bulk (a few more come through the services): 5,000 under `npm test`, the 100,000
 * with GANTRY_RELIABILITY=full (`GANTRY_RELIABILITY=full npx mocha test/integration/db/backups.test.ts`).
 */
const USERS = atScale(100_000, 5_000)
const BACKUP_KEY = randomBytes(32).toString('base64')
const OTHER_KEY = randomBytes(32).toString('base64')
/** The tables a restore into another environment scrubs (and the audit log, which gains the restore's entry). */
const SCRUBBED = ['gantry_refresh_tokens', 'gantry_api_keys', 'gantry_signing_keys', 'gantry_webhook_endpoints', 'gantry_webhook_deliveries', 'gantry_jobs']
const AUDIT = 'gantry_audit_log'

/** Every base table of the database, as a dump's rowCounts names them (SQLite's own sqlite_* tables aside). */
async function tableNames(db: Database): Promise<string[]> {
  const k = db.knex
  switch (db.dialect) {
    case 'sqlite': {
      const rows = (await k.raw("select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\'")) as Array<{ name: string }>
      return rows.map((r) => r.name).sort()
    }
    case 'mysql': {
      const [rows] = (await k.raw(
        "select table_name as name from information_schema.tables where table_schema = database() and table_type = 'BASE TABLE'",
      )) as [Array<{ name: string }>]
      return rows.map((r) => r.name).sort()
    }
    case 'postgres': {
      const { rows } = (await k.raw('select tablename as name from pg_tables where schemaname = current_schema()')) as { rows: Array<{ name: string }> }
      return rows.map((r) => r.name).sort()
    }
  }
}

async function count(k: Knex, table: string, where?: (q: Knex.QueryBuilder) => void): Promise<number> {
  const q = k(table).count({ n: '*' })
  if (where) where(q)
  const [row] = (await q) as Array<{ n: number | string }>
  return Number(row?.n ?? 0)
}

/**
 * A table's content: its rows ordered by its columns in order (the primary key comes first in every table
 * here, so this is primary-key order), hashed. `upTo` keeps the rows whose id is at most it (the audit log
 * before a restore appended to it).
 */
async function checksum(k: Knex, table: string, upTo?: number): Promise<string> {
  const columns = Object.keys(await k(table).columnInfo())
  const q = k(table).select('*')
  if (upTo !== undefined) q.where('id', '<=', upTo)
  const rows = (await q.orderBy(columns.map((column) => ({ column })))) as Array<Record<string, unknown>>
  const text = JSON.stringify(rows.map((r) => columns.map((c) => (Buffer.isBuffer(r[c]) ? `hex:${(r[c] as Buffer).toString('hex')}` : r[c]))))
  return createHash('sha256').update(text).digest('hex')
}

interface Fingerprint {
  readonly counts: Record<string, number>
  readonly checksums: Record<string, string>
  /** The audit log's highest id. */
  readonly lastAuditId: number
}

async function fingerprint(db: Database): Promise<Fingerprint> {
  const counts: Record<string, number> = {}
  const checksums: Record<string, string> = {}
  for (const table of await tableNames(db)) {
    counts[table] = await count(db.knex, table)
    checksums[table] = await checksum(db.knex, table)
  }
  const [{ id = 0 } = {}] = (await db.knex(AUDIT).max({ id: 'id' })) as Array<{ id?: number | string | null }>
  return { counts, checksums, lastAuditId: Number(id ?? 0) }
}

/** The entries of `tables` only, or of every table but those. */
const only = <T>(byTable: Record<string, T>, tables: readonly string[]): Record<string, T> =>
  Object.fromEntries(Object.entries(byTable).filter(([t]) => tables.includes(t)))
const without = <T>(byTable: Record<string, T>, tables: readonly string[]): Record<string, T> =>
  Object.fromEntries(Object.entries(byTable).filter(([t]) => !tables.includes(t)))

/** What an operation failed with (it must fail). */
async function failure(operation: Promise<unknown>): Promise<GantryError> {
  const err = await operation.then(
    () => expect.fail('expected a failure'),
    (e: unknown) => e,
  )
  expect(err).to.be.instanceOf(GantryError)
  return err as GantryError
}

/** The newest audit entry with `action`, its `after` parsed. */
async function lastAudit(k: Knex, action: string): Promise<{ id: number; after: Record<string, unknown> } | undefined> {
  const row = (await k(AUDIT).where({ action }).orderBy('id', 'desc').first()) as { id: number; after: unknown } | undefined
  if (!row) return undefined
  return { id: Number(row.id), after: (typeof row.after === 'string' ? JSON.parse(row.after) : row.after) as Record<string, unknown> }
}

const truthy = (v: unknown): boolean => Boolean(Number(v))

interface EnvironmentUnderTest {
  readonly name: 'staging' | 'production'
  readonly testDb: TestDatabase
  readonly runtime: Runtime
  readonly db: Database
  readonly services: Services
  readonly context: BackupContext
}

for (const dialect of DIALECTS) {
  describe(`backups on ${dialect} (takeBackup, planRestore, restoreBackup)`, function () {
    this.timeout(60_000)
    let root: string
    let staging: EnvironmentUnderTest
    let production: EnvironmentUnderTest
    /** Production as it was just before the backup, and the backup. */
    let atBackup: Fingerprint
    let backup: BackupResult
    const timings: string[] = []
    const timed = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
      const started = Date.now()
      try {
        return await work()
      } finally {
        timings.push(`${what} ${Date.now() - started} ms`)
      }
    }

    /** The context of `env` as it would resolve with `processEnv` (another GANTRY_BACKUP_KEY, none). */
    const contextWith = (env: EnvironmentUnderTest, processEnv: NodeJS.ProcessEnv): BackupContext => ({
      ...env.context,
      environment: resolveEnvironment(loadWorkspace({ cwd: root }), env.name, processEnv),
    })

    before(async function () {
      await requireDialect(this, dialect)
      root = mkdtempSync(join(tmpdir(), 'gantry-backups-'))
      const [stagingDb, productionDb] = [await createTestDatabase(dialect), await createTestDatabase(dialect)]
      writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
      writeFileSync(
        join(root, 'gantry.config.json'),
        JSON.stringify({
          environments: {
            staging: { database: stagingDb.url, auth: { algorithm: 'EdDSA' } },
            production: { database: productionDb.url, protected: true, auth: { algorithm: 'EdDSA' } },
          },
        }),
      )
      for (const name of ['staging', 'production']) {
        writeFileSync(
          join(root, `.env.${name}`),
          [
            `GANTRY_AUTH_SECRET=${randomBytes(36).toString('base64url')}`,
            `GANTRY_ENCRYPTION_KEY=${randomBytes(32).toString('base64')}`,
            `GANTRY_BACKUP_KEY=${BACKUP_KEY}`,
            '',
          ].join('\n'),
        )
      }
      const workspace = loadWorkspace({ cwd: root })
      const open = async (name: 'staging' | 'production', testDb: TestDatabase): Promise<EnvironmentUnderTest> => {
        const runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, name, {}) })
        const db = await runtime.database()
        await createMigrator({ db, appDirectory: workspace.migrations.directory, appTable: workspace.migrations.tableName, actor: 'test' }).latest()
        return { name, testDb, runtime, db, services: await runtime.services(), context: await backupContext(runtime) }
      }
      staging = await timed('migrate', () => open('staging', stagingDb))
      production = await open('production', productionDb)
      await timed('seed', () => seed(production, USERS))
      // Staging has data of its own, which a restore replaces.
      await seed(staging, 50)
    })

    after(async () => {
      if (timings.length > 0) console.log(`      ${dialect}: ${timings.join(', ')}`)
      for (const env of [staging, production]) {
        if (!env) continue
        await env.runtime.close()
        await env.testDb.drop()
      }
      if (root) rmSync(root, { recursive: true, force: true })
    })

    /**
     * `users` users in bulk (one argon2 hash, computed once, for all), API keys, two logins' refresh tokens,
     * an EdDSA signing key, a webhook endpoint and, by one more user created after it, a queued delivery.
     */
    async function seed(env: EnvironmentUnderTest, users: number): Promise<void> {
      const { services, context, db } = env
      const ctx = context.ctx
      const admin = `admin@${env.name}.example.com`
      await services.users.create(ctx, { email: admin, name: 'Ådmin ✓', role: 'admin', password: STRONG })
      const { password_hash: hash } = (await db.knex('gantry_users').where({ email: admin }).first('password_hash')) as { password_hash: string }
      const now = Date.now()
      const rows = Array.from({ length: users }, (_, i) => ({
        email: `user${i}@${env.name}.example.com`,
        name: i % 3 === 0 ? '' : `Üser ${i} 日本語 'q' "dq" \\`,
        role: i % 10 === 0 ? 'operator' : 'viewer',
        status: i % 17 === 0 ? 'disabled' : 'active',
        password_hash: hash,
        failed_logins: i % 4,
        session_epoch: 0,
        last_login_at: i % 2 === 0 ? null : now - i * 1000,
        created_at: now - i,
        updated_at: now,
      }))
      await db.knex.batchInsert('gantry_users', rows, 250)
      for (const name of ['ci deploy', 'metrics scraper', 'backfill']) await services.apikeys.create(ctx, { name, owner: admin, expires: '90d' })
      for (let i = 0; i < 2; i++) await services.sessions.login(admin, STRONG, ctx)
      await services.signingKeys.rotate(ctx)
      await services.webhooks.create(ctx, { url: `https://receiver.${env.name}.example.com/hooks`, eventTypes: ['users.*'], description: 'CRM' })
      // Sent by no worker here: the delivery stays pending, its job unfinished.
      await services.users.create(ctx, { email: `late@${env.name}.example.com`, role: 'viewer', password: STRONG })
      const k = db.knex
      expect(await count(k, 'gantry_users')).to.equal(users + 2)
      expect(await count(k, 'gantry_refresh_tokens')).to.be.at.least(2)
      expect(await count(k, 'gantry_signing_keys', (q) => q.whereNotNull('private_jwk'))).to.be.at.least(1)
      expect(await count(k, 'gantry_webhook_deliveries', (q) => q.where({ status: 'pending' }))).to.be.at.least(1)
      expect(await count(k, 'gantry_jobs', (q) => q.where({ type: 'webhook.deliver' }).whereNull('finished_at'))).to.be.at.least(1)
      expect(await count(k, AUDIT)).to.be.at.least(8)
    }

    it('takes an encrypted backup whose manifest counts every table; its header reads without the key', async () => {
      atBackup = await fingerprint(production.db)
      backup = await timed('backup', () => takeBackup(production.context))
      const { manifest } = backup
      expect(backup.encrypted).to.equal(true)
      expect(backup.file.startsWith(join(root, '.gantry', 'backups', 'production-'))).to.equal(true)
      expect(statSync(backup.file).mode & 0o777).to.equal(0o600)
      expect(backup.bytes).to.equal(statSync(backup.file).size)
      expect(manifest.rowCounts).to.deep.equal(atBackup.counts)
      expect(manifest.rowCounts.gantry_users).to.equal(USERS + 2)
      expect([manifest.environment, manifest.dialect, manifest.content.format]).to.deep.equal(['production', dialect, DUMP_FORMATS[dialect]])
      const applied = (await production.db.knex('gantry_migrations').orderBy('id').pluck('name')) as string[]
      expect(manifest.migrations.gantry.map((m) => m.name)).to.deep.equal(applied)
      expect(manifest.migrations.gantry.every((m) => typeof m.checksum === 'string')).to.equal(true)

      const header = await readBackupHeader(backup.file)
      expect(header).to.deep.equal({ manifest, encrypted: true, keyId: parseBackupKey(BACKUP_KEY).id })
      // The key itself is nowhere in the file.
      expect(readFileSync(backup.file).includes(Buffer.from(BACKUP_KEY, 'base64'))).to.equal(false)
      const audited = await lastAudit(production.db.knex, 'db.backup')
      expect(audited?.after).to.include({ file: backup.file, encrypted: true })
    })

    it('restores into the same environment after damage: every row as it was, nothing scrubbed, the restore audited', async () => {
      const k = production.db.knex
      // Damage: users deleted (their sessions and keys with them), rows changed, a token gone.
      await k('gantry_users').where('email', 'like', 'user1%').delete()
      await k('gantry_users').where('id', '<', 500).update({ name: 'changed', status: 'disabled' })
      await k('gantry_api_keys').update({ name: 'renamed' })
      await k('gantry_refresh_tokens')
        .where('id', (await k('gantry_refresh_tokens').min({ id: 'id' }).first())?.id as number)
        .delete()
      await k('gantry_webhook_endpoints').update({ description: 'changed' })
      expect(await count(k, 'gantry_users')).to.be.below(USERS)

      const plan = await planRestore(production.context, backup.file, { keepCredentials: false })
      expect(plan).to.include({ file: backup.file, target: 'production', scrub: false })
      const result = await timed('restore', () => restoreBackup(production.context, plan, { dryRun: false }))
      expect(result.scrubbed).to.equal(null)
      expect(result.rowCounts.filter((r) => r.actual !== r.expected)).to.deep.equal([])
      expect(result.rowCounts.map((r) => r.table).sort()).to.deep.equal(Object.keys(atBackup.counts).sort())

      const now = await fingerprint(production.db)
      expect(without(now.counts, [AUDIT])).to.deep.equal(without(atBackup.counts, [AUDIT]))
      expect(without(now.checksums, [AUDIT])).to.deep.equal(without(atBackup.checksums, [AUDIT]))
      // The audit log as it was, and the restore's own entry after it (the backup's entry was written after the dump).
      expect(now.counts[AUDIT]).to.equal(atBackup.counts[AUDIT]! + 1)
      expect(await checksum(k, AUDIT, atBackup.lastAuditId)).to.equal(atBackup.checksums[AUDIT])
      const audited = await lastAudit(k, 'db.restore')
      expect(audited?.id).to.equal(now.lastAuditId)
      expect(audited?.after).to.deep.include({ file: backup.file, from: 'production', scrubbed: null })
      // Nothing scrubbed.
      expect(await count(k, 'gantry_api_keys', (q) => q.whereNotNull('revoked_at'))).to.equal(0)
      expect(await count(k, 'gantry_signing_keys', (q) => q.whereNotNull('private_jwk'))).to.be.at.least(1)
      expect(await count(k, 'gantry_webhook_endpoints', (q) => q.where({ enabled: true }))).to.equal(atBackup.counts.gantry_webhook_endpoints)
      expect(await count(k, 'gantry_webhook_deliveries', (q) => q.where({ status: 'pending' }))).to.be.at.least(1)
    })

    it('restores into the other environment: credentials scrubbed, everything else as the backup has it', async () => {
      const k = staging.db.knex
      const plan = await planRestore(staging.context, backup.file, { keepCredentials: false })
      expect(plan).to.include({ target: 'staging', scrub: true })
      const result = await restoreBackup(staging.context, plan, { dryRun: false })
      expect(result.rowCounts.filter((r) => r.actual !== r.expected)).to.deep.equal([])
      expect(result.scrubbed).to.deep.equal({
        refreshTokens: atBackup.counts.gantry_refresh_tokens,
        apiKeys: atBackup.counts.gantry_api_keys,
        signingKeys: await count(production.db.knex, 'gantry_signing_keys', (q) => q.whereNotNull('private_jwk')),
        webhookEndpoints: atBackup.counts.gantry_webhook_endpoints,
        queuedDeliveries: await count(production.db.knex, 'gantry_webhook_deliveries', (q) => q.where({ status: 'pending' })),
      })

      expect(await count(k, 'gantry_refresh_tokens')).to.equal(0)
      expect(await count(k, 'gantry_api_keys')).to.equal(atBackup.counts.gantry_api_keys)
      expect(await count(k, 'gantry_api_keys', (q) => q.whereNull('revoked_at'))).to.equal(0)
      expect(await count(k, 'gantry_signing_keys')).to.equal(atBackup.counts.gantry_signing_keys)
      expect(await count(k, 'gantry_signing_keys', (q) => q.whereNotNull('private_jwk'))).to.equal(0)
      const endpoints = (await k('gantry_webhook_endpoints').select('enabled', 'secret', 'previous_secret', 'disabled_reason')) as Array<
        Record<string, unknown>
      >
      expect(endpoints).to.have.length(atBackup.counts.gantry_webhook_endpoints!)
      for (const e of endpoints) {
        expect(truthy(e.enabled)).to.equal(false)
        expect([e.secret, e.previous_secret]).to.deep.equal(['', null])
        expect(e.disabled_reason).to.include('restored from production')
      }
      expect(await count(k, 'gantry_webhook_deliveries', (q) => q.where({ status: 'pending' }))).to.equal(0)
      expect(await count(k, 'gantry_webhook_deliveries', (q) => q.where({ status: 'failed' }))).to.be.at.least(1)
      expect(await count(k, 'gantry_jobs', (q) => q.where({ type: 'webhook.deliver' }).whereNull('finished_at'))).to.equal(0)
      const now = await fingerprint(staging.db)
      expect(without(now.checksums, [...SCRUBBED, AUDIT])).to.deep.equal(without(atBackup.checksums, [...SCRUBBED, AUDIT]))
      expect(await checksum(k, AUDIT, atBackup.lastAuditId)).to.equal(atBackup.checksums[AUDIT])
      const audited = await lastAudit(k, 'db.restore')
      expect(audited?.after).to.deep.include({ from: 'production', scrubbed: result.scrubbed })
    })

    it('--keep-credentials: the other environment gets them as the backup has them', async () => {
      const plan = await planRestore(staging.context, backup.file, { keepCredentials: true })
      expect(plan).to.include({ target: 'staging', scrub: false })
      const result = await restoreBackup(staging.context, plan, { dryRun: false })
      expect(result.scrubbed).to.equal(null)
      const now = await fingerprint(staging.db)
      expect(without(now.checksums, [AUDIT])).to.deep.equal(without(atBackup.checksums, [AUDIT]))
      expect(only(now.checksums, SCRUBBED)).to.deep.equal(only(atBackup.checksums, SCRUBBED))
      const k = staging.db.knex
      expect(await count(k, 'gantry_refresh_tokens')).to.equal(atBackup.counts.gantry_refresh_tokens)
      expect(await count(k, 'gantry_jobs', (q) => q.where({ type: 'webhook.deliver' }).whereNull('finished_at'))).to.be.at.least(1)
    })

    // Default names carry the start to the second: a second backup begun within the same second (a script,
    // a backup before a migration right after a manual one) must still get a file of its own, not fail with
    // FILE_EXISTS after its whole dump. The orchestration is the same on every dialect: SQLite's is enough.
    if (dialect === 'sqlite') {
      it('two backups begun within one second each get a file of their own', async () => {
        const at = (ms: number): BackupContext => ({ ...production.context, clock: { now: () => Date.UTC(2026, 11, 5, 3, 15, 0, ms) } })
        const first = await takeBackup(at(100))
        const second = await takeBackup(at(900))
        expect(second.file).to.not.equal(first.file)
        expect((await readBackupHeader(second.file)).manifest.startedAt).to.equal('2026-12-05T03:15:00.900Z')
      })
    }

    describe('refused with the target untouched', () => {
      let untouched: Fingerprint
      let sqliteBytes: string | undefined
      const sqliteFileHash = (): string | undefined =>
        dialect === 'sqlite'
          ? createHash('sha256')
              .update(readFileSync(production.testDb.url.slice('sqlite:'.length)))
              .digest('hex')
          : undefined
      const copy = (name: string): string => {
        const path = join(root, name)
        copyFileSync(backup.file, path)
        return path
      }

      beforeEach(async function () {
        if (!backup) this.skip()
        untouched = await fingerprint(production.db)
        sqliteBytes = sqliteFileHash()
      })
      afterEach(async function () {
        if (this.currentTest?.state !== 'passed') return
        expect(await fingerprint(production.db), 'the target is as it was').to.deep.equal(untouched)
        expect(sqliteFileHash(), 'the SQLite file is byte-for-byte as it was').to.equal(sqliteBytes)
      })

      it('a file with one byte flipped in the middle: BACKUP_INVALID', async () => {
        const file = copy(`flipped-${dialect}.gantry-backup`)
        const bytes = readFileSync(file)
        const middle = Math.floor(bytes.length / 2)
        bytes[middle] = bytes[middle]! ^ 0x01
        writeFileSync(file, bytes)
        const plan = await planRestore(production.context, file, { keepCredentials: false })
        const err = await failure(restoreBackup(production.context, plan, { dryRun: false }))
        expect(err.code).to.equal('BACKUP_INVALID')
        // A dry run verifies as much, and refuses it the same way.
        expect((await failure(restoreBackup(production.context, plan, { dryRun: true }))).code).to.equal('BACKUP_INVALID')
      })

      it('a file cut short: BACKUP_INVALID', async () => {
        const file = copy(`cut-${dialect}.gantry-backup`)
        truncateSync(file, Math.floor(statSync(file).size * 0.6))
        const plan = await planRestore(production.context, file, { keepCredentials: false })
        const err = await failure(restoreBackup(production.context, plan, { dryRun: false }))
        expect(err.code).to.equal('BACKUP_INVALID')
        expect(err.message).to.match(/cut short/)
      })

      it('another GANTRY_BACKUP_KEY: BACKUP_KEY_WRONG; none: BACKUP_KEY_MISSING', async () => {
        const wrong = contextWith(production, { GANTRY_BACKUP_KEY: OTHER_KEY })
        const plan = await planRestore(wrong, backup.file, { keepCredentials: false })
        const err = await failure(restoreBackup(wrong, plan, { dryRun: false }))
        expect(err.code).to.equal('BACKUP_KEY_WRONG')
        expect(err.message).to.include(parseBackupKey(BACKUP_KEY).id)
        const none = contextWith(production, { GANTRY_BACKUP_KEY: '' })
        expect((await failure(restoreBackup(none, plan, { dryRun: false }))).code).to.equal('BACKUP_KEY_MISSING')
      })

      /** A backup file of `manifest` holding a small stand-in dump (planRestore refuses before reading it). */
      async function craft(name: string, change: (m: BackupManifest) => BackupManifest): Promise<string> {
        const content = join(root, `${name}.content`)
        writeFileSync(content, 'not a real dump')
        const manifest = change({ ...backup.manifest, content: { ...backup.manifest.content, ...(await hashContentFile(content)) } })
        const output = join(root, `${name}.gantry-backup`)
        await writeBackupFile({ output, manifest, content, key: parseBackupKey(BACKUP_KEY) })
        return output
      }

      it('a backup whose schema has a Gantry migration this version does not know: refused by planRestore', async () => {
        const future = '20991231000000_gantry_from_the_future'
        const file = await craft(`future-${dialect}`, (m) => ({
          ...m,
          gantryVersion: '99.0.0',
          migrations: { ...m.migrations, gantry: [...m.migrations.gantry, { name: future, checksum: 'f'.repeat(64) }] },
        }))
        const err = await failure(planRestore(production.context, file, { keepCredentials: false }))
        expect(err.code).to.equal('INVALID_INPUT')
        expect(err.message).to.include(future).and.include('99.0.0')
      })

      it('a backup of another dialect: refused by planRestore', async () => {
        const other: Dialect = dialect === 'sqlite' ? 'postgres' : 'sqlite'
        const file = await craft(`dialect-${dialect}`, (m) => ({ ...m, dialect: other, content: { ...m.content, format: DUMP_FORMATS[other] } }))
        const err = await failure(planRestore(production.context, file, { keepCredentials: false }))
        expect(err.code).to.equal('INVALID_INPUT')
        expect(err.message).to.include(`is a ${other} backup`)
      })

      // The plan (whether to scrub, the summary shown, the schema check) is made from a header read before
      // the file verifies; if another backup takes the file's place meanwhile (a prompt can wait for long),
      // the one restored must be the one planned, or nothing: here staging's own backup would otherwise
      // enter production unscrubbed, under a plan that said "production's, nothing to scrub".
      it('a file replaced by another backup between planRestore and restoreBackup: refused', async () => {
        const file = copy(`swapped-${dialect}.gantry-backup`)
        const plan = await planRestore(production.context, file, { keepCredentials: false })
        expect(plan.scrub).to.equal(false)
        const other = await takeBackup(staging.context, { output: join(root, `staging-${dialect}.gantry-backup`) })
        rmSync(file)
        copyFileSync(other.file, file)
        const err = await failure(restoreBackup(production.context, plan, { dryRun: false }))
        expect(err.code).to.equal('BACKUP_INVALID')
      })
    })
  })
}
