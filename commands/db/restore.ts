import { Args, Flags } from '@oclif/core'
import { GantryCommand } from '../../src/cli/base-command.js'
import { formatCount } from '../../src/cli/format.js'
import { sharedFlags } from '../../src/cli/flags.js'
import { confirmDestructive } from '../../src/cli/prompts.js'
import { backupContext } from '../../src/backup-context.js'
import { resolveServerSettings } from '../../src/config/workspace.js'
import { restoreResultSchema } from '../../src/core/backups/backup.schema.js'
import { GantryError } from '../../src/core/errors.js'
import { isS3Url } from '../../src/db/backup-storage.js'
import { planRestore, restoreBackup, withLocalBackup, type BackupContext, type RestoreResult } from '../../src/db/backups.js'
import type { Runtime } from '../../src/runtime.js'
import { redact } from '../../src/db/url.js'

export default class DbRestore extends GantryCommand<typeof DbRestore> {
  static override summary = "Restore a backup into the environment's database: the whole file verified first, then replaced, then the row counts compared."
  static override description = [
    'Nothing is touched until the file has verified whole: its checksum, and with encryption every chunk (GANTRY_BACKUP_KEY must be the key it was written with). A backup from a newer Gantry schema than this version knows is refused. The manifest’s summary is printed first; a protected environment needs --force (or its name typed at a prompt), any other asks at a terminal (--yes skips that).',
    'The tables the backup holds replace the database’s. Restoring into another environment than the backup’s own scrubs what must not travel — refresh tokens end, API keys are revoked, signing keys lose their private half, webhook endpoints are switched off without their secrets and queued deliveries are not sent — unless --keep-credentials. Stop the servers of the environment (or turn maintenance on) first: they would keep writing meanwhile. --dry-run verifies the file and says what would happen.',
    'Users erased since the backup was taken (`gantry users delete --erase`) are erased again: the erasure ledger is read before the tables are replaced and re-applied after, under the same pseudonyms.',
  ].join('\n\n')
  static override examples = [
    '<%= config.bin %> db restore .gantry/backups/production-20261205T031500Z.gantry-backup -e staging',
    '<%= config.bin %> db restore backup.gantry-backup -e production --dry-run',
    '<%= config.bin %> db restore backup.gantry-backup -e production --force --json',
    '<%= config.bin %> db restore s3://acme-backups/production/production-20261205T031500123Z.gantry-backup -e staging',
  ]
  static override args = {
    file: Args.string({ description: 'The backup file (see `gantry db backups list`), or s3://BUCKET/KEY (downloaded first).', required: true }),
  }
  static override flags = {
    'dry-run': Flags.boolean({ summary: 'Verify the file and say what would happen; change nothing.' }),
    'keep-credentials': Flags.boolean({
      summary: "Restoring another environment's backup: keep its tokens, keys and webhook endpoints (never for production data in staging).",
    }),
    force: sharedFlags.force,
    yes: sharedFlags.yes,
  }
  static override resultSchema = restoreResultSchema

  async run(): Promise<RestoreResult> {
    const runtime = await this.runtime()
    const context = await backupContext(runtime)
    const { file } = this.args
    // A downloaded backup is answered by its s3:// location, not the temporary copy restored from.
    return withLocalBackup(context, file, async (path) => {
      const result = await this.restore(runtime, context, path, file)
      return isS3Url(file) ? { ...result, file } : result
    })
  }

  private async restore(runtime: Runtime, context: BackupContext, path: string, shown: string): Promise<RestoreResult> {
    const plan = await planRestore(context, path, { keepCredentials: this.flags['keep-credentials'] })
    const { manifest } = plan
    const rows = Object.values(manifest.rowCounts).reduce((sum, n) => sum + n, 0)
    this.ui.out(
      `${isS3Url(shown) ? shown : plan.file}: ${manifest.environment} (${manifest.dialect} ${manifest.serverVersion}), taken ${manifest.startedAt} by Gantry ${manifest.gantryVersion}; ${formatCount(rows)} rows in ${formatCount(Object.keys(manifest.rowCounts).length)} tables.`,
    )
    if (plan.scrub)
      this.ui.out(`It is ${manifest.environment}'s: sessions, API keys, signing keys and webhook endpoints will not carry over into ${plan.target}.`)
    const dryRun = this.flags['dry-run']
    if (!dryRun)
      await confirmDestructive({
        environment: this.envName,
        isProtected: resolveServerSettings(runtime.workspace, this.envName).protected,
        force: this.flags.force,
        yes: this.flags.yes,
        json: this.jsonEnabled(),
        action: `Replacing the database's tables with ${manifest.environment}'s backup of ${manifest.startedAt}`,
        place: redact(runtime.environment.database),
      })
    const result = await this.ui.spin(dryRun ? 'Verifying the backup' : `Restoring into ${this.envName}`, () => restoreBackup(context, plan, { dryRun }))
    if (dryRun) {
      this.ui.out(`The file verifies: restoring it would replace ${this.envName}'s tables${plan.scrub ? ' and scrub the credentials above' : ''}.`)
      return result
    }
    if (result.erasuresReapplied > 0)
      this.ui.out(`Erased again: ${formatCount(result.erasuresReapplied)} user(s) the backup held had been erased since (the erasure ledger).`)
    const differing = result.rowCounts.filter((r) => r.actual !== r.expected)
    this.ui.table(
      differing.map((r) => ({ table: r.table, expected: formatCount(r.expected), actual: r.actual === null ? 'missing' : formatCount(r.actual) })),
      [
        ['table', 'TABLE'],
        ['expected', 'IN THE BACKUP'],
        ['actual', 'NOW'],
      ],
      { empty: `Restored: ${formatCount(result.rowCounts.length)} tables, every row count as the manifest says.` },
    )
    if (differing.length > 0)
      throw new GantryError('RESTORE_MISMATCH', `The restore ended with ${differing.length} table(s) whose row count differs from the backup's manifest.`, {
        details: { rowCounts: differing },
      })
    return result
  }
}
