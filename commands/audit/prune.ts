import { Flags } from '@oclif/core'
import { AdminCommand } from '../../src/cli/admin-command.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { formatCount } from '../../src/cli/format.js'
import { auditPruneResultSchema, type AuditPruneResult } from '../../src/core/audit/audit.schema.js'

export default class AuditPrune extends AdminCommand<typeof AuditPrune> {
  static override summary = 'Delete audit entries older than a duration (default: the environment’s audit.retention).'
  static override description = [
    "Deletes in batches of 1000, never in one long statement, then records one audit.pruned entry (who, the cut-off, how many). Without --older-than the environment's audit.retention applies (default 90d; with `forever` there is nothing to prune). The worker prunes past audit.retention on its own every ten minutes; this command is for now, or for a shorter cut-off.",
    'What would go is counted first (with the times of the oldest and newest entry); --dry-run stops there. At a terminal it asks before deleting (--yes skips that); in a protected environment it needs --force (or the environment name typed at a prompt). Archive first with `gantry audit export`. --json prints { dryRun, olderThan, before, count, oldest, newest }.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> audit prune --dry-run',
    '<%= config.bin %> audit prune --older-than 30d --yes',
    '<%= config.bin %> audit prune -e production --force --json',
  ]
  static override flags = {
    'older-than': Flags.string({ summary: "Delete entries older than this duration (90d, 12h); default: the environment's audit.retention." }),
    'dry-run': Flags.boolean({ summary: 'Count what would be deleted; delete nothing.' }),
    yes: sharedFlags.yes,
    force: sharedFlags.force,
  }
  static override resultSchema = auditPruneResultSchema

  async run(): Promise<AuditPruneResult> {
    const olderThan = this.flags['older-than']
    // The count needs no confirmation: the door's own call, not the confirming one.
    const preview = await (await this.admin()).call('audit.prune', { olderThan, dryRun: true })
    if (preview.before === null) {
      this.ui.out('The audit retention is forever: nothing to prune. Pass --older-than to prune anyway.')
      return preview
    }
    const entries = `${formatCount(preview.count)} audit entr${preview.count === 1 ? 'y' : 'ies'}`
    if (preview.count === 0) {
      this.ui.out(`No audit entries are older than ${preview.olderThan} (before ${preview.before}).`)
      return preview
    }
    const span = `older than ${preview.olderThan} (before ${preview.before}; ${preview.oldest} to ${preview.newest})`
    if (this.flags['dry-run']) {
      this.ui.out(`Would delete ${entries} ${span}.`)
      return preview
    }
    this.ui.out(`${entries} ${span}.`)
    const result = await this.call('audit.prune', { olderThan: preview.olderThan ?? undefined, dryRun: false })
    this.ui.out(`Deleted ${formatCount(result.count)} audit entr${result.count === 1 ? 'y' : 'ies'} older than ${result.olderThan}.`)
    return result
  }
}
