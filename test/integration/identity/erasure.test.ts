/**
 * The right to erasure and subject access (issue 23), on SQLite, MariaDB and PostgreSQL, through the
 * services: a user who changed their email and name, owned a key, logged in, had a rate-limit override and
 * acted on others — with a webhook endpoint subscribed to every event, so each change was also a stored
 * message — is erased; then every cell of every table and every page of the audit log is searched for any
 * email or name they had, like the secret-leak scenario searches for secrets: zero hits. Another user's
 * data stays, and a subject export holds the person's data and nothing of another user's.
 */
import { expect } from 'chai'
import type { ActorContext } from '../../../src/core/context.js'
import { parseDataKeys } from '../../../src/core/encryption/data-keys.js'
import { createWebhookSender } from '../../../src/client/webhook-sender.js'
import type { Dialect } from '../../../src/db/url.js'
import { identityFixture, STRONG, type IdentityFixture } from '../../helpers/identity-fixture.js'
import { everyCell, sightings } from '../../helpers/cell-search.js'
import { rejection } from '../../helpers/rejection.js'
import { DIALECTS, requireDialect } from '../../helpers/services.js'

const OLD_EMAIL = 'ada.lovelace@example.com'
const EMAIL = 'countess.ada@example.com'
const OLD_NAME = 'Ada Byron Quintessa'
const NAME = 'Ada King Quintessa'
const OTHER = 'bob.other@example.com'

/** The whole audit log as the API lists it, page by page (what `audit export` archives). */
async function auditPages(f: IdentityFixture): Promise<string[]> {
  const pages: string[] = []
  let cursor: string | undefined
  do {
    const page = await f.services.audit.list(f.ctx, { limit: 100, ...(cursor ? { cursor } : {}) })
    pages.push(JSON.stringify(page.data))
    cursor = page.nextCursor ?? undefined
  } while (cursor)
  return pages
}

/** Services with webhooks on (an endpoint stores a message per audited change), over a fresh database. */
async function fixture(dialect: Dialect): Promise<IdentityFixture> {
  const sender = createWebhookSender({ allowPrivateTargets: true })
  const ring = parseDataKeys(Buffer.alloc(32, 7).toString('base64'))
  const f = await identityFixture(dialect, {
    auth: { secret: 'a test secret of at least thirty-two bytes', issuer: 'gantry', audience: 'gantry', accessTokenTtl: '15m', refreshTokenTtl: '30d' },
    webhooks: {
      keys: () => ring,
      send: sender.send,
      settings: { attemptTimeoutMs: 2000, disableAfterMs: 86_400_000, allowPrivateTargets: true, retentionMs: 30 * 86_400_000 },
      userAgent: 'Gantry-Webhooks/test',
    },
  })
  return {
    ...f,
    async cleanup() {
      sender.close()
      await f.cleanup()
    },
  }
}

/**
 * A person with a history: renamed, re-addressed, a key, an OAuth client that acted as them, an account at an
 * identity provider, a session, overrides, and changes they made to others.
 */
async function aPersonWithAHistory(f: IdentityFixture): Promise<{ id: number; keyId: string; clientId: string; as: ActorContext }> {
  // Another admin, so the person is not the last.
  await f.services.users.create(f.ctx, { email: 'keeper@example.com', role: 'admin', password: STRONG })
  const { user } = await f.services.users.create(f.ctx, { email: OLD_EMAIL, name: OLD_NAME, role: 'admin', password: STRONG })
  await f.services.users.update(f.ctx, OLD_EMAIL, { email: EMAIL, name: NAME })
  const key = await f.services.apikeys.create(f.ctx, { name: 'deploy key', owner: EMAIL })
  await f.services.sessions.login(EMAIL, STRONG, { actor: 'anonymous', permissions: [], ip: '203.0.113.7' })
  await f.services.rateLimits.override(f.ctx, { subject: `user:${EMAIL}`, limit: 5, window: '1m' })
  const as: ActorContext = { actor: `user:${user.id}`, permissions: ['*'], userId: user.id, ip: '203.0.113.7' }
  await f.services.users.create(as, { email: OTHER, name: 'Bob Other', role: 'viewer', password: STRONG })
  await f.services.users.update(as, OTHER, { name: 'Bob Renamed' })
  const { client } = await f.services.oauthClients.create(f.ctx, { name: 'billing worker', owner: EMAIL, scopes: ['users:read'] })
  await f.services.rateLimits.override(f.ctx, { subject: `client:${client.id}`, limit: 50, window: '1m' })
  // What the client did, as them: the audit log names the client, and where the request came from.
  const asClient: ActorContext = { actor: `client:${client.id}`, permissions: ['*'], userId: user.id, clientId: client.id, ip: '203.0.113.8' }
  await f.services.users.update(asClient, OTHER, { name: 'Bob Renamed' })
  await f.services.users.update(asClient, OTHER, { role: 'viewer' })
  await f.db
    .knex('gantry_user_identities')
    .insert({ user_id: user.id, provider: 'corp', subject: 'sub-4711', email: EMAIL, created_at: Date.now(), last_login_at: null })
  // As a sign-in links it (sso.service): the provider's subject in the audit log, and in the event sent.
  await f.services.audit.append(
    f.db.knex,
    { actor: 'system:sso:corp', permissions: ['*'] },
    { action: 'users.link', targetType: 'user', targetId: String(user.id), after: { provider: 'corp', subject: 'sub-4711' } },
  )
  return { id: user.id, keyId: key.apiKey.id, clientId: client.id, as }
}

for (const dialect of DIALECTS) {
  describe(`users delete --erase and subject export on ${dialect}`, function () {
    this.timeout(60_000)
    let f: IdentityFixture
    beforeEach(async function () {
      await requireDialect(this, dialect)
      f = await fixture(dialect)
      await f.services.webhooks.create(f.ctx, { url: 'http://127.0.0.1:9/hooks', eventTypes: ['*'] })
    })
    afterEach(async () => {
      await f?.cleanup()
    })

    it('leaves no trace of any email or name the user had, in any cell of any table or any page of the audit log', async () => {
      const person = await aPersonWithAHistory(f)
      const needles = [EMAIL, OLD_EMAIL, NAME, OLD_NAME, 'sub-4711']
      // The search finds them before: it would find a trace left after.
      expect(sightings(await everyCell(f.db.knex, dialect), needles).length).to.be.greaterThan(10)
      expect(sightings(await everyCell(f.db.knex, dialect), ['gantry_webhook_messages.body']).length).to.be.greaterThan(0)

      const result = await f.services.users.delete(f.ctx, EMAIL, { erase: true })
      const erased = result.erased
      if (!erased) throw new Error('no erasure in the answer')
      expect(erased.pseudonym).to.match(/^erased-[0-9A-Za-z]{16}$/)
      expect(erased.auditEntries).to.be.greaterThan(3)
      expect(erased.webhookMessages).to.be.greaterThan(3)
      expect(erased.rateLimitOverrides, "the user's and their client's").to.equal(2)
      expect(erased.flagsNaming).to.deep.equal([])

      const cells = await everyCell(f.db.knex, dialect)
      expect(sightings(cells, needles)).to.deep.equal([])
      expect(sightings(await auditPages(f), needles)).to.deep.equal([])
      // The person's address is personal data too: the entries they (or their client) acted in keep none.
      for (const actor of [`user:${person.id}`, `client:${person.clientId}`]) {
        expect(await f.db.knex('gantry_audit_log').where({ actor }).whereNotNull('ip'), actor).to.deep.equal([])
      }
      expect(await f.db.knex('gantry_audit_log').where({ actor: `client:${person.clientId}` }), 'what the client did stays').to.have.length.greaterThan(0)
      expect(cells.some((c) => c.includes(erased.pseudonym))).to.equal(true)
      // Gone with their row: their key, their sessions.
      expect(await f.db.knex('gantry_api_keys').where({ key_id: person.keyId })).to.deep.equal([])
      expect(await f.db.knex('gantry_oauth_clients').where({ client_id: person.clientId })).to.deep.equal([])
      expect(await f.db.knex('gantry_user_identities').where({ subject: 'sub-4711' })).to.deep.equal([])
      expect(await f.db.knex('gantry_refresh_tokens').where({ user_id: person.id })).to.deep.equal([])
      expect((await rejection(f.services.users.get(f.ctx, EMAIL))).code).to.equal('USER_NOT_FOUND')

      const ledger = (await f.db.knex('gantry_erasures').select('*')) as Array<Record<string, unknown>>
      expect(ledger).to.have.length(1)
      expect(ledger[0]).to.include({ pseudonym: erased.pseudonym, erased_by: 'local:test@host' })
      expect(Number(ledger[0]?.user_id)).to.equal(person.id)
      const entry = (await f.db.knex('gantry_audit_log').where({ action: 'users.erased' }).first()) as Record<string, unknown>
      expect(entry).to.include({ target_type: 'user', target_id: String(person.id) })
      expect(JSON.parse(String(entry.after))).to.deep.equal({ pseudonym: erased.pseudonym })
      expect(await f.db.knex('gantry_audit_log').where({ action: 'users.delete' })).to.deep.equal([])

      // Another person's data stays as it was.
      expect(sightings(cells, [OTHER, 'Bob Renamed']).length).to.be.greaterThan(0)
      expect((await f.services.users.get(f.ctx, OTHER)).name).to.equal('Bob Renamed')
    })

    it('erases as delete does: never the last active admin, never a user whose role holds more than the actor', async () => {
      await f.services.users.create(f.ctx, { email: 'only-admin@example.com', role: 'admin', password: STRONG })
      expect((await rejection(f.services.users.delete(f.ctx, 'only-admin@example.com', { erase: true }))).code).to.equal('LAST_ADMIN')
      await f.services.users.create(f.ctx, { email: 'second-admin@example.com', role: 'admin', password: STRONG })
      const operator: ActorContext = { actor: 'user:999', permissions: ['users:write', 'users:read'] }
      expect((await rejection(f.services.users.delete(operator, 'second-admin@example.com', { erase: true }))).code).to.equal('FORBIDDEN')
      expect(await f.db.knex('gantry_erasures')).to.deep.equal([])
      expect((await rejection(f.services.users.delete(f.ctx, 'second-admin@example.com', { erase: 'maybe' as never }))).code).to.equal('INVALID_INPUT')
    })

    it('needs users:erase besides users:write: a role managing users cannot erase an accomplice’s trail', async () => {
      const { user } = await f.services.users.create(f.ctx, { email: 'accomplice@example.com', role: 'viewer', password: STRONG })
      const manager: ActorContext = { actor: 'user:998', permissions: ['*:read', 'users:write'] }
      const refused = await rejection(f.services.users.delete(manager, 'accomplice@example.com', { erase: true }))
      expect(refused.code).to.equal('FORBIDDEN')
      expect(refused.message).to.include('users:erase')
      expect(await f.db.knex('gantry_erasures')).to.deep.equal([])
      expect((await f.services.users.get(f.ctx, 'accomplice@example.com')).id).to.equal(user.id)
      // users:* covers it; a plain delete still needs users:write alone.
      const erased = await f.services.users.delete({ ...manager, permissions: ['*:read', 'users:*'] }, 'accomplice@example.com', { erase: true })
      expect(erased.erased?.pseudonym).to.match(/^erased-/)
      await f.services.users.create(f.ctx, { email: 'plain@example.com', role: 'viewer', password: STRONG })
      expect((await f.services.users.delete(manager, 'plain@example.com')).deleted.email).to.equal('plain@example.com')
    })

    it('cuts a rewritten text to its column’s length: a full column holding a short email is erased', async () => {
      const email = 'q@e.io'
      await f.services.users.create(f.ctx, { email: 'keeper@example.com', role: 'admin', password: STRONG })
      await f.services.users.create(f.ctx, { email, name: 'Quinn Short', role: 'viewer', password: STRONG })
      const full = (max: number, prefix = `for ${email}: `): string => prefix + 'z'.repeat(max - prefix.length)
      const knex = f.db.knex
      const now = Date.now()
      const [endpoint] = (await knex('gantry_webhook_endpoints').select('id')) as Array<{ id: string }>
      await knex('gantry_webhook_endpoints')
        .where({ id: endpoint?.id })
        .update({ description: full(500), disabled_reason: full(255) })
      const [delivery] = (await knex('gantry_webhook_deliveries').select('id').orderBy('id')) as Array<{ id: number | string }>
      await knex('gantry_webhook_deliveries')
        .where({ id: delivery?.id })
        .update({ last_error: full(1000) })
      await knex('gantry_webhook_attempts').insert({
        delivery_id: delivery?.id,
        at: now,
        status_code: 500,
        latency_ms: 3,
        error: full(1000),
        response_excerpt: full(1100),
        trigger: 'scheduled',
      })
      await knex('gantry_jobs').insert({
        type: 'test.job',
        payload: '{}',
        status: 'failed',
        attempts: 1,
        last_error: full(1000),
        created_at: now,
        updated_at: now,
      })
      // A mixed-case copy: PostgreSQL's LIKE is case-sensitive, so it must be found by lower().
      await knex('gantry_rate_limit_overrides').insert({
        rule: '*',
        subject_type: 'ip',
        subject: '198.51.100.1',
        label: full(255, `Q@E.Io `),
        reason: full(500),
        blocked: true,
        created_at: now,
        updated_at: now,
      })

      const result = await f.services.users.delete(f.ctx, email, { erase: true })
      expect(result.erased?.otherCells).to.equal(8)
      const lengths = {
        'gantry_webhook_endpoints.description': 500,
        'gantry_webhook_endpoints.disabled_reason': 255,
        'gantry_webhook_deliveries.last_error': 1000,
        'gantry_webhook_attempts.error': 1000,
        'gantry_webhook_attempts.response_excerpt': 1100,
        'gantry_jobs.last_error': 1000,
        'gantry_rate_limit_overrides.label': 255,
        'gantry_rate_limit_overrides.reason': 500,
      }
      for (const [cell, max] of Object.entries(lengths)) {
        const [table, column] = cell.split('.') as [string, string]
        const values = ((await knex(table).select(column)) as Array<Record<string, string | null>>).map((r) => r[column] ?? '')
        const value = values.find((v) => v.includes('erased-'))
        expect(value, cell).to.be.a('string')
        expect(value?.length, cell).to.equal(max)
      }
      expect(sightings(await everyCell(knex, dialect), [email, 'Quinn Short'])).to.deep.equal([])
    })

    it('finds a copy of the email in another case (PostgreSQL’s LIKE is case-sensitive) and one beside LIKE’s wildcards', async () => {
      await f.services.users.create(f.ctx, { email: 'keeper@example.com', role: 'admin', password: STRONG })
      await f.services.users.create(f.ctx, { email: 'mixed_case@example.com', role: 'viewer', password: STRONG })
      await f.services.users.create(f.ctx, { email: 'mixedxcase@example.com', role: 'viewer', password: STRONG })
      await f.db.knex('gantry_settings').insert([
        { key: 'test.note', value: 'write to MIXED_Case@Example.COM, 100% sure' },
        // `_` is LIKE's any-character: escaped, the other address is no match (and stays).
        { key: 'test.other', value: 'write to mixedxcase@example.com' },
      ])
      const result = await f.services.users.delete(f.ctx, 'mixed_case@example.com', { erase: true })
      const note = (await f.db.knex('gantry_settings').where({ key: 'test.note' }).first()) as { value: string }
      expect(note.value).to.equal(`write to ${result.erased?.pseudonym ?? '?'}, 100% sure`)
      expect(await f.db.knex('gantry_settings').where({ key: 'test.other' }).first()).to.include({ value: 'write to mixedxcase@example.com' })
    })

    it('leaves another user’s traces alone: an old email reused by someone else, a name they share', async () => {
      const REUSED = 'reused@example.com'
      const SHARED = 'Sam Common Name'
      await f.services.users.create(f.ctx, { email: 'keeper@example.com', role: 'admin', password: STRONG })
      await f.services.users.create(f.ctx, { email: REUSED, name: SHARED, role: 'viewer', password: STRONG })
      await f.services.users.update(f.ctx, REUSED, { email: 'x.moved@example.com' })
      // Y signs up with the address X left, and bears the same name.
      const { user: y } = await f.services.users.create(f.ctx, { email: REUSED, name: SHARED, role: 'viewer', password: STRONG })
      await f.services.rateLimits.override(f.ctx, { subject: `user:${REUSED}`, limit: 5, window: '1m' })
      const aboutY = async (): Promise<string> =>
        JSON.stringify(
          await f.db
            .knex('gantry_audit_log')
            .select('action', 'before', 'after')
            .where({ target_type: 'user', target_id: String(y.id) }),
        )
      const before = await aboutY()
      expect(before).to.include(REUSED).and.include(SHARED)
      const yMessages = async (): Promise<string[]> =>
        ((await f.db.knex('gantry_webhook_messages').select('body')) as Array<{ body: string }>)
          .map((m) => m.body)
          .filter((b) => b.includes(`"target":{"type":"user","id":"${y.id}"}`))
      const messagesBefore = await yMessages()
      expect(messagesBefore.length).to.be.greaterThan(0)

      await f.services.users.delete(f.ctx, 'x.moved@example.com', { erase: true })
      expect(await aboutY()).to.equal(before)
      expect(await yMessages()).to.deep.equal(messagesBefore)
      expect(await f.services.users.get(f.ctx, REUSED)).to.include({ id: y.id, name: SHARED })
      const labels = ((await f.db.knex('gantry_rate_limit_overrides').select('label')) as Array<{ label: string }>).map((r) => r.label)
      expect(labels).to.include(REUSED)
      // X's own records lose the name and the address that is still X's alone.
      const cells = await everyCell(f.db.knex, dialect)
      expect(sightings(cells, ['x.moved@example.com'])).to.deep.equal([])
    })

    it('a subject export holds the person’s data and nothing of another user’s', async () => {
      const person = await aPersonWithAHistory(f)
      expect((await rejection(f.services.users.subjectData({ actor: 'user:9', permissions: ['users:read'] }, EMAIL))).code).to.equal('FORBIDDEN')
      const data = await f.services.users.subjectData(f.ctx, EMAIL)
      expect(data.user).to.include({ id: person.id, email: EMAIL, name: NAME, role: 'admin' })
      expect(data.role).to.deep.equal({ name: 'admin', permissions: ['*'] })
      expect(data.apiKeys.map((k) => k.id)).to.deep.equal([person.keyId])
      expect(data.oauthClients.map((c) => [c.id, c.name, c.scopes])).to.deep.equal([[person.clientId, 'billing worker', ['users:read']]])
      expect(data.identities.map((i) => [i.provider, i.subject, i.email])).to.deep.equal([['corp', 'sub-4711', EMAIL]])
      // What their client did, and the entries about it (its creation and override).
      expect(data.audit.filter((e) => e.actor === `client:${person.clientId}`)).to.have.length(2)
      expect(data.audit.some((e) => e.action === 'oauth.clients.create')).to.equal(true)
      expect(data.sessions).to.have.length(1)
      const actions = data.audit.map((e) => e.action)
      expect(actions).to.include.members(['users.create', 'users.update', 'apikeys.create', 'sessions.login'])
      // Two changes the person made, and their login.
      expect(data.audit.filter((e) => e.actor === `user:${person.id}`)).to.have.length(3)
      const text = JSON.stringify(data)
      expect(text).to.include(OLD_EMAIL).and.include(OLD_NAME)
      for (const other of [OTHER, 'Bob Other', 'Bob Renamed']) expect(text).to.not.include(other)
      expect(text).to.not.match(/hash|secret|token_/i)
      expect((await rejection(f.services.users.subjectData(f.ctx, 'nobody@example.com'))).code).to.equal('USER_NOT_FOUND')
    })
  })
}
