import { Flags } from '@oclif/core'
import { GantryCommand } from '../src/cli/base-command.js'
import { healthResultSchema, notReadyError, probeOrWait, renderHealth, versionMismatch, type HealthResult } from '../src/cli/health-output.js'
import { buildClient, remoteFlags, resolveServerUrl } from '../src/cli/remote.js'
import { resolveServerSettings } from '../src/config/workspace.js'

/** One probe's time limit: each server check is bounded to 1 s, so 5 s means the server is in trouble. */
const PROBE_TIMEOUT_MS = 5000

export default class Health extends GantryCommand<typeof Health> {
  static override summary = "Check a server's readiness (database, migrations, Redis); --wait makes it a deploy gate."
  static override description =
    "Calls GET /api/health/ready on --url, else the environment's server.publicUrl, without credentials, and prints each check with its status, latency and message. " +
    'Exits 0 when the server is ready (pass or warn) and 3 when it is not (a check fails) or does not answer. ' +
    '--wait SECONDS polls with backoff (250 ms doubling to 5 s, with jitter) until the server is ready, then exits 0; if it is still not ready at the deadline it exits 3 naming the last reason. ' +
    "Warns on stderr when the server's major version differs from the CLI's."
  static override examples = [
    '<%= config.bin %> health',
    '<%= config.bin %> health -e production --wait 120',
    '<%= config.bin %> health --url https://api.example.com --json',
  ]
  static override flags = {
    ...remoteFlags,
    wait: Flags.integer({ summary: 'Poll until the server is ready, for at most this many seconds; exit 3 if it is not by then.', min: 1 }),
  }
  static override resultSchema = healthResultSchema

  async run(): Promise<HealthResult> {
    const { wait } = this.flags
    const url = resolveServerUrl(this.flags, () => resolveServerSettings(this.workspace(), this.envName))
    // The wait does its own polling: the client makes one attempt per probe.
    const client = await buildClient(url, this.flags, { auth: 'none', retries: 0, timeoutMs: Math.min(PROBE_TIMEOUT_MS, (wait ?? 5) * 1000) })
    const outcome = await probeOrWait(this.ui, client, wait)
    const { result } = outcome
    if (result) {
      const mismatch = versionMismatch(result.version, this.config.version)
      if (mismatch) this.ui.warn(mismatch)
      renderHealth(this.ui, result)
    }
    if (!result?.ready) throw notReadyError(url, outcome, wait)
    return result
  }
}
