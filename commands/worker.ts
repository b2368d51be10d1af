import { GantryCommand } from '../src/cli/base-command.js'
import { prettyLogSink } from '../src/cli/pretty-log.js'
import type { LogTarget } from '../src/runtime.js'

export default class Worker extends GantryCommand<typeof Worker> {
  static override summary = 'Run the background job worker (webhook deliveries) without the HTTP server.'
  static override description =
    'For deployments that keep delivery apart from serving: `gantry serve` runs the same worker beside its server, and any number of workers and servers share the job table (each job is delivered by one of them at a time; a job whose worker died is taken over once its lease runs out, jobs.leaseTimeout). Logs on stdout like serve. SIGTERM or SIGINT stops claiming, lets the jobs in hand finish, then exits 0.'
  static override examples = ['<%= config.bin %> worker -e production']
  // Its output is the log itself, JSON lines on stdout: there is no single result document to print.
  static override enableJsonFlag = false
  // SIGINT stops the worker after the jobs in hand, so it is not a cancellation here.
  static override cancelOnInterrupt = false

  protected override logTo: LogTarget = 'stdout'

  async run(): Promise<void> {
    if (process.stdout.isTTY) this.logTo = prettyLogSink(process.stdout, process.env)
    const runtime = await this.runtime()
    const { runWorker } = await import('../src/worker/run.js')
    await runWorker(runtime)
  }
}
