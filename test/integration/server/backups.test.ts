/**
 * The backups of an environment read over the admin API (`backups.list`, GET /api/v1/admin/backups): the
 * service checks backups:read before it reads anything, and the route answers what `db backups list` reads
 * (src/db/backups.ts listBackups over backups.directory) — here with one real SQLite backup (VACUUM INTO,
 * no external tool) and one file whose header does not read.
 */
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import request from 'supertest'
import { backupContext } from '../../../src/backup-context.js'
import { backupListSchema, type BackupList } from '../../../src/core/backups/backup.schema.js'
import { createBackupsService } from '../../../src/core/backups/backups.service.js'
import { localContext, type ActorContext } from '../../../src/core/context.js'
import { isGantryError } from '../../../src/core/errors.js'
import { backupDirectory, BACKUP_EXTENSION, listBackups, takeBackup } from '../../../src/db/backups.js'
import { adminFixture, expectProblem, local, type AdminFixture } from '../../helpers/admin-fixture.js'
import { createTestServer, PASSWORD, type TestServer } from '../../helpers/server.js'

const BACKUPS = '/api/v1/admin/backups'

describe('backups service: list', () => {
  const LISTED: BackupList = { directory: '/srv/backups', data: [] }
  const counting = () => {
    let reads = 0
    const service = createBackupsService({
      lister: {
        list: () => {
          reads++
          return Promise.resolve(LISTED)
        },
      },
    })
    return { service, reads: () => reads }
  }
  const actor = (permissions: string[]): ActorContext => ({ actor: 'user:1', permissions })

  it('answers what the lister reads to an actor holding backups:read (a viewer through *:read, the local operator through *)', async () => {
    for (const permissions of [['backups:read'], ['*:read'], ['backups:*']]) {
      const { service } = counting()
      expect(await service.list(actor(permissions)), permissions.join(',')).to.equal(LISTED)
    }
    expect(await counting().service.list(localContext('local:test@host'))).to.equal(LISTED)
  })

  it('refuses an actor without backups:read with FORBIDDEN naming it, before reading anything', async () => {
    for (const permissions of [[], ['users:read', 'audit:read'], ['backups:write']]) {
      const { service, reads } = counting()
      const err = await service.list(actor(permissions)).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(isGantryError(err) && err.code, permissions.join(',')).to.equal('FORBIDDEN')
      expect(isGantryError(err) && err.details, permissions.join(',')).to.deep.equal({ required: 'backups:read' })
      expect(reads(), `${permissions.join(',')}: nothing read`).to.equal(0)
    }
  })
})

describe('GET /api/v1/admin/backups on sqlite', function () {
  this.timeout(30_000)
  let server: TestServer
  let f: AdminFixture
  let directory: string

  before(async () => {
    server = await createTestServer('sqlite')
    f = adminFixture(server)
    directory = backupDirectory(server.runtime.environment, server.runtime.workspace.root)
    // A role that reads users and the audit log, but not backups.
    await server.services.roles.create(local, { name: 'user-reader', permissions: ['users:read', 'audit:read'] })
    await server.services.users.create(local, { email: 'reader@example.com', role: 'user-reader', password: PASSWORD })
  })
  after(async () => {
    await server?.cleanup()
  })

  const get = async (headers: Record<string, string>) => request(server.app).get(BACKUPS).set(headers)

  it('lists none while backups.directory does not exist yet', async () => {
    const res = await get(await f.headers('admin'))
    expect(res.status).to.equal(200)
    expect(res.body).to.deep.equal({ directory, data: [] })
  })

  it('a viewer lists what listBackups reads: a real backup with its manifest, and a file whose header does not read, with why', async () => {
    const taken = await takeBackup(await backupContext(server.runtime))
    writeFileSync(join(directory, `broken${BACKUP_EXTENSION}`), 'not a backup')

    const res = await get(await f.headers('viewer'))
    expect(res.status, JSON.stringify(res.body)).to.equal(200)
    expect(backupListSchema.safeParse(res.body).success, 'the answer is a backup list').to.equal(true)
    expect(res.body).to.deep.equal(JSON.parse(JSON.stringify({ directory, data: await listBackups(directory) })))

    const [backup, broken] = (res.body as BackupList).data
    expect(backup).to.deep.include({ file: taken.file, bytes: taken.bytes, encrypted: false })
    expect(backup?.manifest).to.deep.include({ environment: 'development', dialect: 'sqlite', trigger: 'manual', startedAt: taken.manifest.startedAt })
    expect(Object.values(backup?.manifest?.rowCounts ?? {}).reduce((sum, n) => sum + n, 0)).to.be.greaterThan(0)
    expect(broken).to.include({ file: join(directory, `broken${BACKUP_EXTENSION}`), manifest: null, encrypted: false })
    expect(broken?.error).to.be.a('string').and.not.equal('')
  })

  it("the runtime's services list the same (LocalAdmin, the local door of every admin command)", async () => {
    const admin = await server.runtime.admin()
    expect(await admin.call('backups.list')).to.deep.equal({ directory, data: await listBackups(directory) })
  })

  it('an operator and a key scoped to backups:read list them too', async () => {
    for (const who of ['operator', { scopes: ['backups:read'] }] as const) {
      const res = await get(await f.headers(who))
      expect(res.status, JSON.stringify(who)).to.equal(200)
      expect((res.body as BackupList).data, JSON.stringify(who)).to.have.length(2)
    }
  })

  it('refuses a role without backups:read, and a key scoped to other reads, with 403 FORBIDDEN', async () => {
    const token = (await server.services.sessions.login('reader@example.com', PASSWORD, local)).accessToken
    for (const headers of [{ Authorization: `Bearer ${token}` }, await f.headers({ scopes: ['users:read', 'audit:read'] })]) {
      const res = await get(headers)
      expect(res.status, JSON.stringify(res.body)).to.equal(403)
      expectProblem(res, 'FORBIDDEN')
      expect(JSON.stringify(res.body)).to.not.include(directory)
    }
  })

  it('refuses a caller without credentials with 401', async () => {
    const res = await get({})
    expect(res.status).to.equal(401)
    expectProblem(res, 'UNAUTHENTICATED')
  })
})
