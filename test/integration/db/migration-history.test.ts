/**
 * The migration history fixture applied whole by Gantry's migrator on every dialect, its end state checked
 * (schema and backfilled data), then rolled back whole and applied again: every `down` undoes its `up`.
 */
import { expect } from 'chai'
import type { Knex } from 'knex'
import { DIALECTS, requireDialect } from '../../helpers/services.js'
import { migratorFixture, schemaOf, type MigratorFixture } from '../../helpers/service-workspace.js'
import { copyMigrationHistory, MIGRATION_HISTORY_COUNT, MIGRATION_HISTORY_FILES } from '../../helpers/migration-history.js'

const bare = (file: string): string => file.replace(/\.js$/, '')

/** The app's tables (and the view, which MySQL lists among them), without knex's and Gantry's bookkeeping. */
async function appTables(f: MigratorFixture): Promise<string[]> {
  return Object.keys(await schemaOf(f.db)).filter((t) => !t.startsWith('gantry_') && !t.startsWith('knex_migrations'))
}

/** What the history's last state must hold: its schema and the values its backfills computed. */
async function expectFinalState(f: MigratorFixture): Promise<void> {
  const k: Knex = f.db.knex
  const schema = await schemaOf(f.db)
  expect(await appTables(f)).to.include.members([
    'accounts',
    'users',
    'projects',
    'tasks',
    'tags',
    'task_tags',
    'task_comments',
    'audit_events',
    'project_members',
    'user_settings',
    'invoices',
    'account_webhooks',
    'archived_tasks',
    'api_tokens',
  ])
  expect(schema).to.not.have.any.keys('comments', 'webhooks')
  expect(schema.users).to.include.members(['first_name', 'last_name', 'email_domain']).and.not.include.members(['full_name', 'timezone'])
  expect(schema.projects).to.include.members(['slug', 'state', 'deleted_at']).and.not.include('status')
  expect(schema.tasks).to.include.members(['is_completed', 'comment_count', 'due_on']).and.not.include('done')
  expect(schema.invoices).to.include('amount_cents').and.not.include('amount')
  const users = await k('users').columnInfo()
  expect([users.first_name?.nullable, users.last_name?.nullable, users.email_domain?.nullable]).to.deep.equal([false, false, false])
  expect((await k('projects').columnInfo()).slug?.nullable).to.equal(false)

  const names = (await k('users').orderBy('email').select('email', 'first_name', 'last_name', 'email_domain')) as Array<Record<string, string>>
  expect(names).to.deep.equal([
    { email: 'ada@acme.test', first_name: 'Ada', last_name: 'Lovelace', email_domain: 'acme.test' },
    { email: 'grace@acme.test', first_name: 'Grace', last_name: 'Brewster Hopper', email_domain: 'acme.test' },
    { email: 'linus@globex.example', first_name: 'Linus', last_name: '', email_domain: 'globex.example' },
  ])
  const settings = (await k('user_settings').join('users', 'users.id', 'user_settings.user_id').orderBy('email').pluck('user_settings.timezone')) as string[]
  expect(settings).to.deep.equal(['Europe/London', 'America/New_York', 'UTC'])
  expect(await k('projects').orderBy('id').pluck('slug')).to.deep.equal(['launch-plan', 'q3-roadmap-budget', 'launch-plan'])
  const counts = (await k('tasks').orderBy('id').select('title', 'comment_count')) as Array<{ title: string; comment_count: number | string }>
  expect(counts.map((t) => `${t.title}:${Number(t.comment_count)}`)).to.deep.equal(['Write the press release:3', 'Draft the budget:0', 'Pick a date:1'])
  expect(await k('archived_tasks').pluck('title')).to.deep.equal(['Book the venue'])
  const cents = (await k('invoices').orderBy('number').pluck('amount_cents')) as Array<number | string>
  expect(cents.map(Number)).to.deep.equal([1999, 125050, 10])
  expect(await k('tags').orderBy('id').pluck('color')).to.deep.equal(['#ff0000', '#888888', '#ff0000'])
  const roles = (await k('project_members').join('users', 'users.id', 'project_members.user_id').select('email', 'role')) as Array<{
    email: string
    role: string
  }>
  expect(roles.map((r) => `${r.email}:${r.role}`).sort()).to.deep.equal([
    'ada@acme.test:owner',
    'ada@acme.test:owner',
    'grace@acme.test:member',
    'grace@acme.test:member',
    'linus@globex.example:owner',
  ])
  const view = (await k('active_projects').orderBy('id').select('account_name', 'slug', 'open_tasks')) as Array<{
    account_name: string
    slug: string
    open_tasks: number | string
  }>
  expect(view.map((v) => `${v.account_name}/${v.slug}:${Number(v.open_tasks)}`)).to.deep.equal(['Acme/launch-plan:1', 'Globex/launch-plan:1'])
}

for (const dialect of DIALECTS) {
  describe(`migration history fixture on ${dialect}`, function () {
    this.timeout(180_000)
    let f: MigratorFixture | undefined
    before(async function () {
      await requireDialect(this, dialect)
      f = await migratorFixture(dialect)
      copyMigrationHistory(f.dir)
    })
    after(async () => {
      await f?.cleanup()
    })

    it(`applies all ${MIGRATION_HISTORY_COUNT} migrations in one batch and ends in the state the history describes`, async () => {
      expect(MIGRATION_HISTORY_COUNT).to.be.at.least(40)
      const fixture = f as MigratorFixture
      const result = await fixture.migrator().latest()
      expect(result.applied.filter((r) => r.set === 'app').map((r) => r.name)).to.deep.equal(MIGRATION_HISTORY_FILES.map(bare))
      await expectFinalState(fixture)
    })

    it('rolls back all of it (the app tables are gone, the data with them), and applies again to the same state', async () => {
      const fixture = f as MigratorFixture
      const rolledBack = await fixture.migrator().rollback({ all: true })
      expect(rolledBack.rolledBack.map((r) => r.name)).to.deep.equal(MIGRATION_HISTORY_FILES.map(bare).reverse())
      expect(await appTables(fixture)).to.deep.equal([])
      expect(await fixture.db.knex('knex_migrations').count({ n: '*' })).to.deep.equal([{ n: fixture.db.dialect === 'postgres' ? '0' : 0 }])
      const again = await fixture.migrator().latest()
      expect(again.applied.map((r) => r.name)).to.deep.equal(MIGRATION_HISTORY_FILES.map(bare))
      await expectFinalState(fixture)
    })
  })
}
