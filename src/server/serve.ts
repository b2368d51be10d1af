/**
 * `gantry serve` put together: the environment's runtime wired into createApp, bound, and stopped
 * gracefully on SIGTERM/SIGINT. With --migrate, pending migrations are applied first (under the migration
 * lock, so several instances starting at once apply them once); without it, pending migrations leave the
 * server up but not ready, and the log says why.
 */
import type { Logger } from 'pino'
import { parseDuration } from '../core/duration.js'
import { GantryError } from '../core/errors.js'
import { workspaceMigrator } from '../db/migrator/index.js'
import { displayDatabase, redact } from '../db/url.js'
import { recordedRun } from '../migration-audit.js'
import type { Runtime } from '../runtime.js'
import { createApp } from './app.js'
import { composeServer, requireAuthSecret } from './compose.js'
import { createLifecycle, listen, type RunningServer } from './listen.js'

/** How long closing the clients may take once every request is answered (they close in ms when healthy). */
const CLOSE_TIMEOUT_MS = 5000

export interface ServeOptions {
  readonly port?: number | undefined
  readonly host?: string | undefined
  readonly migrate: boolean
  readonly version: string
  /** Fields every log line of this server carries (a cluster worker's id). */
  readonly logContext?: Readonly<Record<string, unknown>> | undefined
}

export interface Serving extends RunningServer {
  /** Resolves when the server has stopped after a signal (or stop()). */
  readonly stopped: Promise<void>
}

/** Starts the server of a runtime's environment and installs the shutdown handlers. */
export async function serve(runtime: Runtime, options: ServeOptions): Promise<Serving> {
  const { environment } = runtime
  requireAuthSecret(environment)
  const rootLogger = await runtime.logger()
  const logger = options.logContext ? rootLogger.child(options.logContext) : rootLogger
  // Before the rest: the rules are read from tables the migrations may create.
  if (options.migrate) await applyMigrations(runtime, logger)
  const parts = await composeServer(runtime, { version: options.version, logger, worker: true })
  const lifecycle = createLifecycle()
  const shutdownTimeoutMs = parseDuration(environment.server.shutdownTimeout)
  const app = createApp({ ...parts, environment, version: options.version, draining: lifecycle.draining })
  const running = await listen(app, lifecycle, {
    port: options.port ?? environment.server.port,
    host: options.host ?? environment.server.host,
    drainDelayMs: parseDuration(environment.server.drainDelay),
    shutdownTimeoutMs,
  }).catch((err: NodeJS.ErrnoException) => {
    throw new GantryError(
      err.code === 'EADDRINUSE' ? 'NOT_READY' : 'INVALID_INPUT',
      `Cannot listen on ${options.host ?? environment.server.host}:${options.port ?? environment.server.port}: ${err.code ?? err.message}.`,
      {
        hint: err.code === 'EADDRINUSE' ? 'Another process uses the port: pass --port, or stop it.' : 'Check --host and --port.',
        cause: err,
      },
    )
  })

  let resolveStopped!: () => void
  const stopped = new Promise<void>((resolve) => (resolveStopped = resolve))
  const stop = async (): Promise<void> => {
    // The worker stops claiming at once and finishes its attempts while the HTTP side drains: a delivery cut
    // off by the exit would be sent again, by another worker, once its lease ran out.
    const workerStopped = parts.worker?.stop()
    await running.stop()
    // The worker's last attempts, the last counts, then the clients; a database that hangs (a query that never
    // returns holds its connection) must not keep the process from exiting: every request has been answered
    // by now, and jobs still held go back to the queue when their leases run out.
    const closed = await withinMs(CLOSE_TIMEOUT_MS, async () => {
      await workerStopped
      await parts.close()
      await runtime.close()
    })
    if (!closed) logger.warn({ timeoutMs: CLOSE_TIMEOUT_MS }, 'the database did not close in time; exiting without waiting for it')
    logger.info('stopped')
    resolveStopped()
    if (!closed) process.exit(0)
  }
  const onSignal = (signal: NodeJS.Signals): void => {
    logger.info({ signal }, 'draining')
    void stop()
  }
  process.once('SIGTERM', onSignal)
  process.once('SIGINT', onSignal)
  const crash = (err: unknown): void => {
    logger.fatal({ err }, 'unexpected failure; exiting')
    process.exit(1)
  }
  process.on('unhandledRejection', crash)
  process.on('uncaughtException', crash)

  const report = await parts.readiness.check()
  if (report.status === 'fail') {
    const failing = Object.entries(report.checks ?? {})
      .filter(([, [c]]) => c?.status === 'fail')
      .map(([name, [c]]) => `${name}: ${c?.output ?? 'fail'}`)
    logger.warn({ failing }, 'started but not ready: GET /api/health/ready answers 503 until this is fixed')
  }
  logger.info(
    {
      url: running.url,
      environment: environment.name,
      version: options.version,
      pid: process.pid,
      database: displayDatabase(environment.database, runtime.workspace.root),
      redis: environment.redis === null ? null : redact(environment.redis),
    },
    'listening',
  )
  return { ...running, stop, stopped }
}

/** Runs `work`; false when it has not finished within `ms` (it is left to finish, or not, on its own). */
async function withinMs(ms: number, work: () => Promise<void>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), ms)
  })
  try {
    return await Promise.race([
      work().then(
        () => true,
        () => true,
      ),
      timeout,
    ])
  } finally {
    clearTimeout(timer)
  }
}

/** Applies pending migrations under the migration lock (several instances starting at once apply them once). */
export async function applyMigrations(runtime: Runtime, logger: Logger): Promise<void> {
  const db = await runtime.database()
  const migrator = workspaceMigrator(db, runtime.workspace.migrations, { onWait: () => logger.info('waiting for the migration lock') })
  const result = await recordedRun(runtime, () => migrator.latest({}), {
    ended: (done) => ({ direction: 'up', migrations: done.applied, batch: done.batch.app ?? done.batch.gantry }),
    failed: (error) => ({ direction: 'up', migrations: [], error }),
    notRecorded: (reason) => logger.warn({ reason }, 'the migration run is not in the audit log'),
  })
  logger.info({ applied: result.applied.map((m) => `${m.set}/${m.name}`) }, 'migrations applied')
}
