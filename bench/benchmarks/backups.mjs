/**
 * `gantry db backup` and `db restore` throughput, in process (issue 23): a database of 10^5 users, 10^4 API
 * keys and 5·10^4 audit rows, backed up by Gantry's takeBackup — the dialect's tool (with its row counts),
 * the manifest, gzip and AES-256-GCM under a backup key — and restored by planRestore + restoreBackup (the
 * whole file verified into a private copy, the tool, the row counts compared, an audit entry), against the
 * dialect's own tool run by hand on the same database in the same run:
 * - PostgreSQL: `pg_dump --format=custom -f FILE DB` and `pg_restore --clean --if-exists --single-transaction -d DB FILE`;
 * - MariaDB: `mariadb-dump --single-transaction DB > FILE` and `mariadb DB < FILE`;
 * - SQLite: `VACUUM INTO` through the same driver (knex's connection, as Gantry's dump runs it), and
 *   `sqlite3 DB ".restore FILE"` (SQLite's backup API: the safe by-hand restore of a database that is open
 *   elsewhere — copying the file over a live WAL database would corrupt it, so that is not the floor).
 *
 * The samples are rows per second (every row of every table, counted once in setup: the same figure for both
 * sides); details add MB/s of the dump (the tool's own output, the same bytes on both sides), the file sizes,
 * and a breakdown of Gantry's side timed once in setup (dump, hash, gzip, encryption, verify pass, row counts).
 *
 * One benchmark per dialect × direction (group `backups`). The database is built once per dialect (bulk
 * inserts in batches of 1,000 rows with one precomputed argon2id hash for every user), migrated by Gantry's
 * migrator: SQLite in a temporary file (removed at the end), gantry_bench_backups on the MariaDB and PostgreSQL
 * servers (GANTRY_BENCH_MYSQL_URL / GANTRY_BENCH_PG_URL, else GANTRY_TEST_MYSQL_URL / GANTRY_TEST_PG_URL, else
 * root@127.0.0.1 / postgres@127.0.0.1), kept between runs and rebuilt when its counts are not the expected
 * ones. The audit rows Gantry's backup and restore append are removed after each sample (untimed), so every
 * sample dumps the same rows. `--quick` runs SQLite only (the MariaDB and PostgreSQL benchmarks are not
 * declared then, so their full-run results stay as they are).
 */
import { Buffer } from 'node:buffer'
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { gantryModules } from './users-list.mjs'

const USERS = 100_000
const API_KEYS = 10_000
const AUDIT_ROWS = 50_000
/** Rows per INSERT: SQLite allows 500 terms in a compound SELECT, which knex makes of a multi-row insert there. */
const BATCH = 500
const DB_NAME = 'gantry_bench_backups'
const ENVIRONMENT = 'bench'
/** The backup key (GANTRY_BACKUP_KEY): fixed, 32 bytes. */
const BACKUP_KEY = Buffer.alloc(32, 7).toString('base64')
/** The actions Gantry's own backup and restore audit: removed after each sample. */
const OWN_ACTIONS = ['db.backup', 'db.restore']

const SERVER_URLS = {
  mysql: process.env.GANTRY_BENCH_MYSQL_URL ?? process.env.GANTRY_TEST_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test',
  postgres: process.env.GANTRY_BENCH_PG_URL ?? process.env.GANTRY_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test',
}
const QUICK = process.argv.includes('--quick')
const log = (line) => process.stderr.write(`${line}\n`)

/** users-list's modules, and the backup ones. */
async function modules(root) {
  const load = (path) => import(pathToFileURL(join(root, 'dist', 'src', path)).href)
  const [base, ...extra] = await Promise.all([
    gantryModules(root),
    load('db/backups.js'),
    load('db/dump-tools.js'),
    load('core/backups/backup-file.js'),
    load('core/backups/backup.schema.js'),
  ])
  return Object.assign({}, base, ...extra)
}

/** Milliseconds of `work`. */
async function timed(work) {
  const start = process.hrtime.bigint()
  const value = await work()
  return { ms: Number(process.hrtime.bigint() - start) / 1e6, value }
}

/** Runs a program (never a shell) with stdin/stdout optionally from/to a file, as a shell redirect would. */
function run(program, args, { env = process.env, stdinFile, stdoutFile } = {}) {
  return new Promise((resolve, reject) => {
    const fds = []
    const stdin = stdinFile ? fds[fds.push(openSync(stdinFile, 'r')) - 1] : 'ignore'
    const stdout = stdoutFile ? fds[fds.push(openSync(stdoutFile, 'w', 0o600)) - 1] : 'ignore'
    const child = spawn(program, args, { env, stdio: [stdin, stdout, 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    const done = (err) => {
      for (const fd of fds) closeSync(fd)
      if (err) reject(err)
      else resolve()
    }
    child.on('error', done)
    child.on('close', (code, signal) =>
      done(code === 0 ? null : new Error(`${program} ${args.join(' ')} exited ${code ?? signal}: ${stderr.trim().split('\n').slice(-4).join('\n')}`)),
    )
  })
}

/** The server URL with the bench database's name. */
function databaseUrl(dialect) {
  const url = new URL(SERVER_URLS[dialect])
  url.pathname = `/${DB_NAME}`
  return url.toString()
}

/** The connection of a server URL as the by-hand commands take it: arguments and environment. */
function byHand(dialect, url) {
  const u = new URL(url)
  const password = decodeURIComponent(u.password)
  const user = decodeURIComponent(u.username)
  const database = decodeURIComponent(u.pathname.slice(1))
  if (dialect === 'postgres') {
    const env = { ...process.env, PGHOST: u.hostname, PGPORT: u.port || '5432', PGUSER: user }
    if (password) env.PGPASSWORD = password
    else delete env.PGPASSWORD
    return { env, database, args: [] }
  }
  const env = { ...process.env }
  if (password) env.MYSQL_PWD = password
  else delete env.MYSQL_PWD
  return { env, database, args: ['-h', u.hostname, '-P', u.port || '3306', '-u', user] }
}

const expectedCounts = { gantry_users: USERS, gantry_api_keys: API_KEYS, gantry_audit_log: AUDIT_ROWS }

/** Whether the kept database holds exactly the seeded rows (the audit rows of Gantry's own runs aside, removed first). */
async function seeded(knex) {
  await knex('gantry_audit_log').whereIn('action', OWN_ACTIONS).delete()
  for (const [table, n] of Object.entries(expectedCounts)) if (Number((await knex(table).count({ c: '*' }).first()).c) !== n) return false
  return true
}

/** 10^5 users (one precomputed hash), 10^4 API keys and 5·10^4 audit rows, in batches of 1,000 in one transaction. */
async function seed(knex, hash) {
  const now = Date.now()
  const roles = ['admin', 'operator', 'viewer']
  await knex.transaction(async (k) => {
    const insertInto = async (table, count, row) => {
      for (let from = 1; from <= count; from += BATCH) {
        const rows = []
        for (let i = from; i < Math.min(from + BATCH, count + 1); i++) rows.push(row(i))
        await k(table).insert(rows)
      }
    }
    await insertInto('gantry_users', USERS, (i) => ({
      email: `user${i}@example.com`,
      name: `User ${i}`,
      role: roles[i % 100 === 1 ? 0 : i % 3 === 0 ? 1 : 2],
      status: i % 50 === 0 ? 'disabled' : 'active',
      password_hash: hash,
      created_at: now - i * 1000,
      updated_at: now,
    }))
    const { id: firstUser } = await k('gantry_users').min({ id: 'id' }).first()
    const hex = (text) => createHash('sha256').update(text).digest('hex')
    await insertInto('gantry_api_keys', API_KEYS, (i) => ({
      key_id: hex(`key ${i}`).slice(0, 24),
      name: `deploy key ${i}`,
      owner_id: Number(firstUser) + ((i * 7) % USERS),
      env: ENVIRONMENT,
      secret_hash: hex(`secret ${i}`),
      scopes: JSON.stringify(['users:read', 'audit:read']),
      expires_at: i % 4 === 0 ? now + 86_400_000 * 90 : null,
      created_at: now - i * 60_000,
    }))
    const actions = ['user.create', 'user.update', 'apikey.create', 'session.login', 'ratelimit.update']
    await insertInto('gantry_audit_log', AUDIT_ROWS, (i) => ({
      at: now - (AUDIT_ROWS - i) * 1000,
      actor: `user:user${(i % USERS) + 1}@example.com`,
      action: actions[i % actions.length],
      target_type: 'user',
      target_id: String((i * 13) % USERS),
      before: i % 2 === 0 ? JSON.stringify({ role: 'viewer', status: 'active' }) : null,
      after: JSON.stringify({ role: i % 3 === 0 ? 'operator' : 'viewer', status: 'active', note: `change ${i}` }),
      ip: `10.${i % 256}.${(i >> 8) % 256}.${(i * 7) % 256}`,
    }))
  })
}

/** A fresh (or kept, when its counts are right) migrated database of the dialect, seeded; `close` ends it. */
async function prepareDatabase(m, dialect, root) {
  const work = mkdtempSync(join(tmpdir(), `gantry-bench-backups-${dialect}-`))
  const appDirectory = join(work, 'migrations')
  let url
  let kept
  if (dialect === 'sqlite') url = `sqlite:${join(work, 'bench.sqlite3')}`
  else {
    url = databaseUrl(dialect)
    let server
    try {
      server = await m.openDatabase(SERVER_URLS[dialect], root)
      if (dialect === 'mysql') await server.knex.raw(`CREATE DATABASE IF NOT EXISTS \`${DB_NAME}\``)
      else if ((await server.knex.raw('SELECT 1 FROM pg_database WHERE datname = ?', [DB_NAME])).rows.length === 0)
        await server.knex.raw(`CREATE DATABASE "${DB_NAME}"`)
    } catch (err) {
      rmSync(work, { recursive: true, force: true })
      throw Object.assign(new Error(`${dialect} unreachable at ${SERVER_URLS[dialect]}: ${String(err.message).split('\n')[0]}`), { notMeasurable: true })
    } finally {
      await server?.close()
    }
  }
  let db = await m.openDatabase(url, root)
  try {
    await m.createMigrator({ db, appDirectory, appTable: 'knex_migrations', actor: 'bench' }).latest()
    kept = dialect !== 'sqlite' && (await seeded(db.knex))
    if (!kept) {
      if (dialect !== 'sqlite') {
        // A fresh database: ids from 1, no leftovers of an interrupted run.
        await db.close()
        const server = await m.openDatabase(SERVER_URLS[dialect], root)
        try {
          if (dialect === 'mysql') {
            await server.knex.raw(`DROP DATABASE IF EXISTS \`${DB_NAME}\``)
            await server.knex.raw(`CREATE DATABASE \`${DB_NAME}\``)
          } else {
            await server.knex.raw(`DROP DATABASE IF EXISTS "${DB_NAME}" WITH (FORCE)`)
            await server.knex.raw(`CREATE DATABASE "${DB_NAME}"`)
          }
        } finally {
          await server.close()
        }
        db = await m.openDatabase(url, root)
        await m.createMigrator({ db, appDirectory, appTable: 'knex_migrations', actor: 'bench' }).latest()
      }
      const hash = await m.argon2Hasher().hash('bench password, never used to log in')
      const { ms } = await timed(() => seed(db.knex, hash))
      if (!(await seeded(db.knex))) throw new Error(`seeding the ${dialect} bench database left other counts than ${JSON.stringify(expectedCounts)}`)
      log(`  seeded ${USERS} users, ${API_KEYS} API keys, ${AUDIT_ROWS} audit rows on ${dialect} in ${(ms / 1000).toFixed(1)} s`)
    } else log(`  kept ${DB_NAME} on ${dialect} (its counts are the seeded ones)`)
    if (dialect === 'postgres') await db.knex.raw('VACUUM ANALYZE')
    else if (dialect === 'mysql') await db.knex.raw('ANALYZE TABLE gantry_users, gantry_api_keys, gantry_audit_log')
    else if (dialect === 'sqlite') await db.knex.raw('pragma wal_checkpoint(TRUNCATE)')
  } catch (err) {
    await db.close()
    rmSync(work, { recursive: true, force: true })
    throw err
  }
  const services = m.createServices({ knex: db.knex, clock: m.systemClock, rateLimitRoutes: m.BUILTIN_RULE_ROUTES })
  const context = {
    db,
    environment: { name: ENVIRONMENT, backups: { directory: join(work, 'backups'), key: BACKUP_KEY } },
    root,
    gantryVersion: 'bench',
    clock: m.systemClock,
    appTable: 'knex_migrations',
    ctx: m.localContext('local:bench@bench'),
    audit: services.audit,
  }
  const counts = await m.tableRowCounts(db)
  const rows = Object.values(counts).reduce((a, b) => a + b, 0)
  return {
    db,
    url,
    work,
    context,
    counts,
    rows,
    dropOwnAudit: () => db.knex('gantry_audit_log').whereIn('action', OWN_ACTIONS).delete(),
    databaseBytes: () => databaseBytes(db, dialect, url),
    close: async () => {
      await db.close()
      rmSync(work, { recursive: true, force: true })
    },
  }
}

/** The size of the database as the server (or the file) holds it, tables and indexes. */
async function databaseBytes(db, dialect, url) {
  if (dialect === 'sqlite') return statSync(url.slice('sqlite:'.length)).size
  if (dialect === 'postgres') return Number((await db.knex.raw('select pg_database_size(current_database()) as n')).rows[0].n)
  const [[row]] = await db.knex.raw('select sum(data_length + index_length) as n from information_schema.tables where table_schema = database()')
  return Number(row.n)
}

/** The by-hand commands of a dialect, on the prepared database. */
function reference(dialect, prepared) {
  if (dialect === 'sqlite') {
    const path = prepared.url.slice('sqlite:'.length)
    return {
      backupLabel: `VACUUM INTO (${prepared.db.driver})`,
      restoreLabel: 'sqlite3 DB ".restore FILE"',
      backup: (file) => prepared.db.knex.raw('vacuum into ?', [file]),
      restore: (file) => run('sqlite3', [path, `.restore '${file.replaceAll("'", "''")}'`]),
    }
  }
  const { env, database, args } = byHand(dialect, prepared.url)
  if (dialect === 'postgres')
    return {
      backupLabel: 'pg_dump --format=custom -f FILE',
      restoreLabel: 'pg_restore --clean --if-exists --single-transaction -d',
      backup: (file) => run('pg_dump', ['--format=custom', '-f', file, database], { env }),
      restore: (file) => run('pg_restore', ['--clean', '--if-exists', '--single-transaction', '-d', database, file], { env }),
    }
  return {
    backupLabel: 'mariadb-dump --single-transaction DB > FILE',
    restoreLabel: 'mariadb DB < FILE',
    backup: (file) => run('mariadb-dump', [...args, '--single-transaction', database], { env, stdoutFile: file }),
    restore: (file) => run('mariadb', [...args, database], { env, stdinFile: file }),
  }
}

const round1 = (x) => Math.round(x * 10) / 10
const mb = (bytes) => round1(bytes / 1e6)

/** The least of each figure over `repeat` runs of `once` (the least disturbed run of each step on a shared machine). */
async function leastOf(repeat, once) {
  const all = []
  for (let i = 0; i < repeat; i++) all.push(await once())
  return Object.fromEntries(Object.keys(all[0]).map((k) => [k, Math.min(...all.map((r) => r[k]))]))
}

/**
 * Gantry's backup taken apart, each step timed on the prepared database (the least of `repeat` runs; not part
 * of the samples): the dump by the tool with its row counts, the SHA-256 pass for the manifest, the file
 * written with the key (gzip level 6, encryption, the second SHA-256 pass, fsync), without the key, with the
 * key at gzip level 1, and gzip level 6 alone (read, compress, discard).
 */
async function backupBreakdown(m, prepared, repeat) {
  const dir = join(prepared.work, 'breakdown')
  let sizes
  const once = async () => {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const dump = join(dir, 'dump')
    const dumped = await timed(() => m.dumpTool(prepared.db).dump(dump))
    const content = await timed(() => m.hashContentFile(dump))
    const manifest = m.backupManifestSchema.parse({
      format: 1,
      environment: ENVIRONMENT,
      dialect: prepared.db.dialect,
      serverVersion: dumped.value.serverVersion,
      gantryVersion: 'bench',
      startedAt: new Date().toISOString(),
      finishedAt: new Date().toISOString(),
      tables: 'all',
      rowCounts: dumped.value.rowCounts,
      migrations: { gantry: [], app: [] },
      content: { format: dumped.value.format, tool: dumped.value.tool, ...content.value },
    })
    const key = m.backupKey(prepared.context.environment)
    const write = (name, options) => timed(() => m.writeBackupFile({ output: join(dir, name), manifest, content: dump, ...options }))
    const encrypted = await write('encrypted', { key })
    const plain = await write('plain', {})
    const level1 = await write('level1', { key, gzipLevel: 1 })
    const gzip6 = await timed(() => gzipOnly(dump, 6))
    const counts = await timed(() => m.tableRowCounts(prepared.db))
    sizes = { dumpBytes: content.value.bytes, fileBytes: encrypted.value.bytes, level1FileBytes: level1.value.bytes }
    return {
      stepDumpMs: Math.round(dumped.ms),
      stepHashMs: Math.round(content.ms),
      stepWriteEncryptedMs: Math.round(encrypted.ms),
      stepWritePlainMs: Math.round(plain.ms),
      stepWriteLevel1Ms: Math.round(level1.ms),
      stepGzip6OnlyMs: Math.round(gzip6.ms),
      stepRowCountsMs: Math.round(counts.ms),
    }
  }
  try {
    const steps = await leastOf(repeat, once)
    return { ...sizes, steps }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** gzip of a file into nothing, at a level: what compression alone costs. */
async function gzipOnly(file, level) {
  const { createReadStream } = await import('node:fs')
  const { createGzip } = await import('node:zlib')
  const { pipeline } = await import('node:stream/promises')
  await pipeline(createReadStream(file), createGzip({ level }), async (source) => {
    for await (const chunk of source) void chunk
  })
}

/**
 * Gantry's restore taken apart (the least of `repeat` runs; not part of the samples): the header read and
 * checks (planRestore), the verify pass alone (decrypt, gunzip, SHA-256, nothing written), the same pass
 * writing the private copy (with its fsync) as restoreBackup does, the dialect's restore of that copy, and the
 * row counts compared after it.
 */
async function restoreBreakdown(m, prepared, file, manifest, repeat) {
  const dir = join(prepared.work, 'breakdown')
  const key = m.backupKey(prepared.context.environment)
  const once = async () => {
    rmSync(dir, { recursive: true, force: true })
    mkdirSync(dir, { recursive: true })
    const header = await timed(() => m.planRestore(prepared.context, file, { keepCredentials: false }))
    const verifyOnly = await timed(() => m.verifyBackupFile(file, key))
    const dump = join(dir, 'dump')
    const extract = await timed(() => m.extractBackupContent(file, key, dump))
    const tool = await timed(() => m.dumpTool(prepared.db).restore(dump, manifest.content.format))
    const counts = await timed(() => m.tableRowCounts(prepared.db))
    return {
      stepPlanMs: Math.round(header.ms),
      stepVerifyOnlyMs: Math.round(verifyOnly.ms),
      stepExtractMs: Math.round(extract.ms),
      stepToolRestoreMs: Math.round(tool.ms),
      stepRowCountsMs: Math.round(counts.ms),
    }
  }
  try {
    return await leastOf(repeat, once)
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** A side's median as seconds, rows/s and MB/s of the dump, its keys prefixed (subjectSeconds …). */
function figures(prefix, side, rows, dumpBytes) {
  const seconds = rows / side.median
  return {
    [`${prefix}Seconds`]: Math.round(seconds * 1000) / 1000,
    [`${prefix}RowsPerSecond`]: Math.round(side.median),
    [`${prefix}MBPerSecond`]: round1(dumpBytes / 1e6 / seconds),
  }
}

const DIALECT_NAMES = { sqlite: 'SQLite', mysql: 'MariaDB', postgres: 'PostgreSQL' }

/**
 * Why each misses, from two full runs of 2026-12-05 (ranges cover both; 2 cores shared with the database servers and another
 * session's tests; the step figures are the details' stepXxxMs, the least of three runs in setup).
 */
const COMMON =
  ' Gantry’s own steps, as measured: the SHA-256 pass that names the dump in the manifest (the header comes first, so the dump is read twice: once for the manifest, once more while it is gzipped and hashed again to check it), gzip (level 1 since 2026-12-05; level 6 before), AES-256-GCM per 64 KiB chunk (mostly hidden: it runs beside gzip on the other core), the fsync of the file, and the applied migrations read and the audit entry (~15 ms).'
const WHEN_MISSED = {
  'backup-sqlite':
    'VACUUM INTO alone is a page copy at disk speed (0.20–0.24 s, 160–200 MB/s of a 39.5 MB database); Gantry takes 0.91–0.94 s (0.21–0.27×). Its dump step (the same VACUUM INTO plus counting rows in the attached copy, 3 ms) is ~0.2 s; the manifest’s SHA-256 pass 64 ms; writing the file 640 ms, of which gzip level 6 alone is 512 ms (39.5 → 6.5 MB) — without the key it is 545 ms, so encryption and the second hash add ~100 ms beside gzip.' +
    COMMON +
    ' What would reach 0.9: nothing that compresses on these two cores — gzip level 1 alone (the file written in 307 ms, 7.2 MB) is already 1.3× VACUUM INTO, so level 1, the default since 2026-12-05, brings this to ~0.25–0.4× (0.253 measured); 0.9 leaves ~30 ms for all of Gantry’s wrapping, which takes an uncompressed (encrypted-only) format for SQLite and one hash pass.',
  'restore-sqlite':
    '`sqlite3 DB ".restore FILE"` is SQLite’s backup API: a page copy into the live file (0.21–0.22 s). Gantry takes 1.22–1.29 s (0.17–0.18×): the verify pass into the private copy 295 ms (verify alone — AES-GCM, gunzip, SHA-256 — is 177 ms; the other ~120 ms write and fsync a 39.5 MB copy that is deleted after the restore), then its in-place restore 616 ms: every table copied row by row (INSERT … SELECT from the attached copy), every index rebuilt and foreign_key_check run, in one transaction; the row counts after it 1 ms. What would reach 0.9: nothing that decompresses (gunzip and decrypt alone are ~0.8× the whole reference); a page copy by the backup API instead of row copies would bring it to ~0.5×, but it replaces the whole database, where Gantry keeps the tables the backup lacks and the live connections’ handles. Dropping the fsync of the private copy saves ~0.1 s.',
  'backup-mysql':
    'mariadb-dump writing its own file takes 0.26–0.45 s; Gantry 0.98–1.44 s (0.26–0.31×). Its dump step is 0.67–0.77 s: the same tool, but its 32.5 MB of SQL are piped through Node (stdout → Transform → file stream) and counted by SqlDumpRowCounter’s byte-by-byte scan (65–160 ms alone), ~0.3 s over the same dump by hand; then the manifest’s SHA-256 pass 68 ms and the file 290 ms (gzip level 6 alone 280 ms, 32.5 → 2.9 MB).' +
    COMMON +
    ' What would reach 0.9: not on two cores with gzip after the dump (gzip level 1 of the SQL alone is ~0.2 s, half the by-hand dump); the tool writing its own file (--result-file) with the rows counted by an indexOf-based scan, gzip level 1 and one hash pass would be ~0.55×; more takes compression overlapped with the dump (the tool’s output streamed straight into gzip and AES, the manifest’s hash written after the body).',
  'restore-mysql':
    '`mariadb DB < FILE` takes 1.9–2.5 s (median) and Gantry 2.6–3.35 s (0.73–0.74×). Gantry’s own steps are ~0.25–0.3 s: the verify pass into the private copy 206 ms (verify alone 155 ms; writing and fsyncing the 32.5 MB copy ~50 ms), the row counts after 37 ms, the header 3 ms, the audit entry. The rest is the client run itself (2.1–3.0 s, least of three in setup): the same program fed the same way by hand (`mariadb --binary-mode --batch DB < FILE`, and through a pipe) swung between 1.7 and 2.9 s back to back against Gantry’s 2.0–2.5 s on this shared server, so that part is load, not Gantry. What would reach 0.9: Gantry’s own ~0.25–0.3 s alone would give ~0.87–0.9×; no fsync of the private copy (and feeding the client from the file itself rather than through a Node pipe) would add margin.',
  'backup-postgres':
    'pg_dump by hand takes 0.41–0.54 s; Gantry 0.74–0.92 s (0.56–0.59×). Its dump step adds ~0.2–0.35 s to pg_dump: the exact row counts in the exported snapshot before pg_dump starts (count(*) of every table, 45–140 ms), `pg_dump --version` run on every backup to check it is new enough (~25 ms), the server version query and the snapshot transaction; then gzip level 6 of pg_dump’s custom format, which is compressed already (74 ms for 2.9 → 1.9 MB), encryption, hash and fsync (~60 ms together), the manifest’s SHA-256 pass 20 ms.' +
    COMMON +
    ' What would reach 0.9 (≤ 60 ms over pg_dump): gzip level 1 (in since 2026-12-05: ~60 ms) or none for the pg-custom format, the counts run in the exported snapshot while pg_dump runs rather than before it (70–140 ms hidden when a core is free) — ~0.7–0.75×; the last ~0.1 s is the exact counts and the tool check, kept on purpose.',
  'restore-postgres':
    'pg_restore by hand takes 1.14–1.62 s; Gantry 1.37–1.85 s (0.83–0.88×), of which its own pg_restore run is 1.23–1.59 s. Gantry’s ~0.2 s: the row counts after the restore (51–84 ms: count(*) over freshly written tables, which also sets their hint bits), the verify pass into the private copy (49–88 ms for 1.9 MB), `pg_restore --version` and the server version query (~30 ms), the header 4 ms, the audit entry. What would reach 0.9: 50–100 ms less — no fsync of the private copy and no `--version` run per restore (~30–50 ms); the rest is the exact row counts, kept on purpose. The gap is near the run-to-run spread here.',
}

/** A row the next restore must remove (written untimed before each restore sample; its absence after proves the data was replaced). */
const MARKER = { at: 0, actor: 'bench', action: 'bench.marker', target_type: 'bench', target_id: 'marker', before: null, after: null, ip: null }

function benchmark(dialect, direction) {
  const name = `${direction}-${dialect}`
  return {
    name,
    group: 'backups',
    description:
      direction === 'backup'
        ? `\`gantry db backup\` in process (takeBackup: the dialect's dump with its row counts, the manifest, gzip, AES-256-GCM under a key) of a ${DIALECT_NAMES[dialect]} database of 10^5 users, 10^4 API keys and 5·10^4 audit rows, in rows/s, vs the dialect's own tool run by hand on the same database (target: >= 0.9x).`
        : `\`gantry db restore\` in process (planRestore + restoreBackup: the encrypted file verified into a private copy, the dialect's restore, the row counts compared, audited) of the same ${DIALECT_NAMES[dialect]} database, in rows/s, vs the dialect's own restore run by hand (target: >= 0.9x).`,
    unit: 'rows/s',
    target: { ratio: 0.9, comparison: '>=' },
    whenMissed: WHEN_MISSED[name],
    // One sample is a whole backup or restore of 1.6·10^5 rows (0.2–3.5 s): fewer than run.mjs's 10 pairs.
    pairs: { full: dialect === 'sqlite' ? 8 : 5, quick: 4 },
    minPairs: 4,
    warmup: { full: 1, quick: 1 },
    async setup({ root, quick }) {
      const m = await modules(root)
      const prepared = await prepareDatabase(m, dialect, root)
      const repeat = quick ? 2 : 3
      try {
        const by = reference(dialect, prepared)
        const files = join(prepared.work, 'files')
        mkdirSync(files, { recursive: true })
        const { rows } = prepared
        const rate = (ms) => rows / (ms / 1000)
        const databaseBytes = await prepared.databaseBytes()
        const sizes = (dumpBytes, gantryBytes, referenceBytes) => ({
          rows,
          databaseMB: mb(databaseBytes),
          dumpMB: mb(dumpBytes),
          gantryFileMB: mb(gantryBytes),
          referenceFileMB: mb(referenceBytes),
        })
        if (direction === 'backup') {
          const breakdown = await backupBreakdown(m, prepared, repeat)
          await prepared.dropOwnAudit()
          const gantryFile = join(files, 'gantry.gantry-backup')
          const referenceFile = join(files, 'reference')
          let gantryBytes = 0
          let referenceBytes = 0
          return {
            subject: {
              label: `takeBackup, ${rows} rows (gzip + AES-256-GCM)`,
              async run() {
                rmSync(gantryFile, { force: true })
                const { ms, value } = await timed(() => m.takeBackup(prepared.context, { output: gantryFile }))
                await prepared.dropOwnAudit()
                const dumped = Object.values(value.manifest.rowCounts).reduce((a, b) => a + b, 0)
                if (dumped !== rows) throw new Error(`Gantry's backup holds ${dumped} rows, not ${rows}`)
                gantryBytes = value.bytes
                return rate(ms)
              },
            },
            reference: {
              label: `${by.backupLabel}, ${rows} rows`,
              async run() {
                rmSync(referenceFile, { force: true })
                const { ms } = await timed(() => by.backup(referenceFile))
                referenceBytes = statSync(referenceFile).size
                return rate(ms)
              },
            },
            details: (subject, ref) => ({
              ...sizes(breakdown.dumpBytes, gantryBytes, referenceBytes),
              level1FileMB: mb(breakdown.level1FileBytes),
              ...figures('subject', subject, rows, breakdown.dumpBytes),
              ...figures('reference', ref, rows, breakdown.dumpBytes),
              ...breakdown.steps,
            }),
            cleanup: () => prepared.close(),
          }
        }
        // Restore: one Gantry backup and one by-hand dump of the same database, taken once.
        const gantryFile = join(files, 'gantry.gantry-backup')
        const backup = await m.takeBackup(prepared.context, { output: gantryFile })
        await prepared.dropOwnAudit()
        const referenceFile = join(files, 'reference')
        await by.backup(referenceFile)
        const dumpBytes = backup.manifest.content.bytes
        const steps = await restoreBreakdown(m, prepared, gantryFile, backup.manifest, repeat)
        await prepared.dropOwnAudit()
        const marked = () => prepared.db.knex('gantry_audit_log').insert(MARKER)
        const replaced = async (who) => {
          if (Number((await prepared.db.knex('gantry_audit_log').where('action', MARKER.action).count({ c: '*' }).first()).c) !== 0)
            throw new Error(`${who}'s restore left a row written after the backup: it did not replace the data`)
          const now = await m.tableRowCounts(prepared.db)
          for (const [table, n] of Object.entries(prepared.counts))
            if (now[table] !== n) throw new Error(`after ${who}'s restore ${table} holds ${now[table]} rows, not ${n}`)
        }
        return {
          subject: {
            label: `planRestore + restoreBackup, ${rows} rows (encrypted file)`,
            async run() {
              await marked()
              const { ms } = await timed(async () => {
                const plan = await m.planRestore(prepared.context, gantryFile, { keepCredentials: false })
                return m.restoreBackup(prepared.context, plan, { dryRun: false })
              })
              await prepared.dropOwnAudit()
              await replaced('Gantry')
              return rate(ms)
            },
          },
          reference: {
            label: `${by.restoreLabel}, ${rows} rows`,
            async run() {
              await marked()
              const { ms } = await timed(() => by.restore(referenceFile))
              await replaced('the reference')
              return rate(ms)
            },
          },
          details: (subject, ref) => ({
            ...sizes(dumpBytes, backup.bytes, statSync(referenceFile).size),
            ...figures('subject', subject, rows, dumpBytes),
            ...figures('reference', ref, rows, dumpBytes),
            ...steps,
          }),
          cleanup: () => prepared.close(),
        }
      } catch (err) {
        await prepared.close()
        throw err
      }
    },
  }
}

const DIALECTS = QUICK ? ['sqlite'] : ['sqlite', 'mysql', 'postgres']
export default DIALECTS.flatMap((dialect) => [benchmark(dialect, 'backup'), benchmark(dialect, 'restore')])
