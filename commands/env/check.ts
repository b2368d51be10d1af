import type { z } from 'zod'
import { GantryCommand } from '../../src/cli/base-command.js'
import { checkReadiness, notReadyError, readinessSchema, type Check } from '../../src/readiness.js'

export default class EnvCheck extends GantryCommand<typeof EnvCheck> {
  static override summary = 'Check that an environment is ready: config, token secret, database, Redis, migrations.'
  static override description =
    'Runs each check in order and reports ok, warn or fail with its latency: the config resolves; the token secret is set ' +
    '(at least 32 bytes: fails a protected environment such as production, warns elsewhere); the database answers; ' +
    'Redis answers (or the in-memory store is used); no migration is pending or partial (the rule of the server’s readiness ' +
    'endpoint), an edited one warns. Exits 3 when a check fails, 0 otherwise (warnings printed); ' +
    'with --json the failing run still lists the checks, in error.details.checks.'
  static override examples = ['<%= config.bin %> env check', '<%= config.bin %> env check -e production --json']
  static override resultSchema = readinessSchema

  async run(): Promise<z.infer<typeof readinessSchema>> {
    const workspace = this.workspace()
    const report = await checkReadiness({
      name: this.envName,
      configPath: workspace.configPath,
      resolve: () => this.environment(workspace),
      runtime: () => this.runtime(),
      // The spinner ends with the check's own mark: a failed check never shows a green ✔.
      step: (label, work) => this.ui.spin(label, work, (outcome) => (outcome.status === 'skipped' ? 'ok' : outcome.status)),
    })
    this.render(report.checks)
    if (!report.ready) throw notReadyError(report)
    return report
  }

  private render(checks: readonly Check[]): void {
    const { color } = this.ui
    const paint = { ok: color.green, warn: color.yellow, fail: color.red, skipped: color.dim }
    this.ui.table(
      checks.map((c) => ({ ...c, status: paint[c.status](c.status), latency: c.latencyMs === null ? '' : `${c.latencyMs} ms` })),
      [
        ['name', 'CHECK'],
        ['status', 'STATUS'],
        ['latency', 'LATENCY'],
        ['message', 'MESSAGE'],
      ],
    )
  }
}
