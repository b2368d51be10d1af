import { enumFlag } from '../../src/cli/flags.js'
import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { formatCount } from '../../src/cli/format.js'
import { USER_TOTAL_CAP, userPageSchema, userStatusSchema, type UserPage } from '../../src/core/users/users.schema.js'

export default class UsersList extends AdminCommand<typeof UsersList> {
  static override summary = 'List users, a page at a time (through $PAGER when longer than the terminal).'
  static override description =
    'In id order. Filters combine. --json prints { data, nextCursor, total }; total counts the users the filters match on the first page (null on later pages, and beyond 10,000); pass nextCursor back with --cursor for the next page.'
  static override examples = [
    '<%= config.bin %> users list',
    '<%= config.bin %> users list --role admin --status active',
    '<%= config.bin %> users list --search ada --limit 10 --json',
  ]
  static override flags = {
    role: Flags.string({ summary: 'Only users with this role.' }),
    status: enumFlag(userStatusSchema, 'Only active or disabled users.'),
    search: Flags.string({ summary: 'Email or name containing this text (any case).' }),
    limit: Flags.integer({ summary: 'Users per page (at most 500).', default: 50, min: 1, max: 500 }),
    cursor: Flags.string({ summary: 'Where the previous page ended (its nextCursor).' }),
  }
  static override resultSchema = userPageSchema

  async run(): Promise<UserPage> {
    const { role, status, search, limit, cursor } = this.flags
    const page = await this.call('users.list', { role, status, search, limit, cursor })
    const narrowed = role !== undefined || status !== undefined || search !== undefined
    const filtered = narrowed || cursor !== undefined
    await this.ui.paged((ui) => {
      ui.table(
        page.data,
        [
          ['id', 'ID'],
          ['email', 'EMAIL'],
          ['name', 'NAME'],
          ['role', 'ROLE'],
          ['status', 'STATUS'],
          ['lockedUntil', 'LOCKED UNTIL'],
          ['lastLoginAt', 'LAST LOGIN'],
        ],
        { empty: filtered ? 'No users match.' : 'No users yet: add one with `gantry users create`.' },
      )
      // Only a first page is counted (and only up to USER_TOTAL_CAP): a later one says nothing of the whole.
      const of = page.total !== null ? formatCount(page.total) : cursor === undefined ? `more than ${formatCount(USER_TOTAL_CAP)}` : undefined
      if (of !== undefined && page.data.length > 0 && (page.total === null || page.data.length < page.total)) {
        ui.out(`\nThis page: ${formatCount(page.data.length)} of ${of} ${narrowed ? 'matching ' : ''}users.`)
      }
    })
    this.nextPageHint(page.nextCursor)
    return page
  }
}
