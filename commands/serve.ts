import { Flags } from '@oclif/core'
import { GantryCommand } from '../src/cli/base-command.js'
import { prettyLogSink } from '../src/cli/pretty-log.js'
import type { LogTarget } from '../src/runtime.js'

export default class Serve extends GantryCommand<typeof Serve> {
  static override summary = 'Run the bundled server: health, auth and admin APIs, rate limits, metrics.'
  static override description =
    "Listens on the environment's server.port and server.host (flags override them) and logs on stdout: at a terminal one readable line per event, starting with a banner (version, environment, URL, database, Redis); elsewhere, or with --log-format json, pino's JSON lines. With pending migrations it starts but reports not ready (GET /api/health/ready answers 503), unless --migrate applies them first. SIGTERM or SIGINT drains: readiness turns 503, in-flight requests finish, then it exits 0. --workers N runs N processes on one port and replaces one that dies."
  static override examples = [
    '<%= config.bin %> serve',
    '<%= config.bin %> serve -e production --migrate',
    '<%= config.bin %> serve --port 8080 --host 0.0.0.0',
    '<%= config.bin %> serve -e production --workers 1',
    '<%= config.bin %> serve --log-format json | jq .',
  ]
  // Its output is the log itself, JSON lines on stdout: there is no single result document to print.
  static override enableJsonFlag = false
  // SIGINT drains the server (src/server/serve.ts), so it is not a cancellation here.
  static override cancelOnInterrupt = false
  static override flags = {
    port: Flags.integer({ summary: "Port to listen on (default: the environment's server.port; 0 picks a free one).", min: 0, max: 65535 }),
    host: Flags.string({ summary: "Address to bind (default: the environment's server.host)." }),
    migrate: Flags.boolean({ summary: 'Apply pending migrations before listening (under the migration lock).' }),
    'log-format': Flags.option({
      options: ['pretty', 'json'] as const,
      summary: 'How to log: pretty (the default at a terminal) or json (the default elsewhere: one JSON document per line).',
    })(),
    workers: Flags.integer({
      summary: 'Run N server processes on one port (node:cluster); one that dies is replaced.',
      description: "Above 1 needs the environment's `redis`, where every worker keeps the same rate-limit budgets; without it, it is refused.",
      min: 1,
    }),
  }

  // Its output is the log.
  protected override logTo: LogTarget = 'stdout'

  async run(): Promise<void> {
    if ((this.flags['log-format'] ?? (process.stdout.isTTY ? 'pretty' : 'json')) === 'pretty') this.logTo = prettyLogSink(process.stdout, process.env)
    const runtime = await this.runtime()
    const options = { port: this.flags.port, host: this.flags.host, migrate: this.flags.migrate, version: this.config.version }
    if (this.flags.workers === undefined) {
      const { serve } = await import('../src/server/serve.js')
      await (
        await serve(runtime, options)
      ).stopped
      return
    }
    const { serveWorkers } = await import('../src/server/cluster.js')
    const code = await serveWorkers(runtime, { ...options, workers: this.flags.workers })
    if (code !== 0) this.exit(code)
  }
}
