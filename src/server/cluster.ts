/**
 * `gantry serve --workers N`: N server processes on one port (node:cluster). The primary applies
 * --migrate once, forks the workers — each runs the command again and becomes the single-process server of
 * serve.ts — replaces one that dies (with a backoff, and gives up on a crash loop), and on SIGTERM/SIGINT
 * passes SIGTERM on and waits for every worker to drain. The primary holds no database connection while it
 * supervises.
 */
import cluster, { type Worker } from 'node:cluster'
import type { Logger } from 'pino'
import type { Environment } from '../config/schema.js'
import { backoffMs, type Backoff } from '../core/backoff.js'
import { systemClock, type Clock } from '../core/clock.js'
import { parseDuration } from '../core/duration.js'
import { GantryError } from '../core/errors.js'
import type { Runtime } from '../runtime.js'
import { applyMigrations, serve, type ServeOptions } from './serve.js'

/** Restarts allowed within RESTART_WINDOW_MS; one more means a crash loop, and the primary stops. */
const MAX_RESTARTS = 10
const RESTART_WINDOW_MS = 60_000
/** The first replacement waits 100 ms; each further restart within the window doubles it, up to 5 s (no jitter: one primary). */
const RESTART_BACKOFF: Backoff = { baseMs: 100, maxMs: 5_000 }
/** Beyond its drain delay and shutdown timeout, how long a worker may take to exit before it is killed. */
const EXIT_GRACE_MS = 5_000
/**
 * The port the first worker bound, passed to a worker forked when no worker holds the port any more: with
 * --port 0 it would otherwise bind a new one. A worker forked while others live asks for what they asked for.
 */
const BOUND_PORT_VARIABLE = 'GANTRY_CLUSTER_PORT'

export interface ClusterOptions extends ServeOptions {
  readonly workers: number
}

/**
 * Runs this process's part of the cluster and resolves with its exit code: in a worker, the server until it
 * has drained; in the primary, the supervision until every worker has exited (0 when all stopped cleanly,
 * the first worker's code when the server could not start, 1 otherwise).
 */
export async function serveWorkers(runtime: Runtime, options: ClusterOptions): Promise<number> {
  return cluster.isPrimary ? runPrimary(runtime, options) : runWorker(runtime, options)
}

async function runWorker(runtime: Runtime, options: ClusterOptions): Promise<number> {
  const worker = cluster.worker
  try {
    // The primary has applied the migrations already.
    const bound = process.env[BOUND_PORT_VARIABLE]
    const port = bound === undefined ? options.port : Number(bound)
    const serving = await serve(runtime, { ...options, port, migrate: false, logContext: { worker: worker?.id } })
    await serving.stopped
    return 0
  } finally {
    // The channel to the primary keeps a worker's event loop alive: leaving the cluster lets it end.
    worker?.disconnect()
  }
}

async function runPrimary(runtime: Runtime, options: ClusterOptions): Promise<number> {
  const { environment } = runtime
  refuseSplitBudgets(environment, options.workers)
  const logger = (await runtime.logger()).child({ role: 'primary', pid: process.pid })
  if (options.migrate) await applyMigrations(runtime, logger)
  await runtime.close()
  return supervise({
    workers: options.workers,
    logger,
    clock: systemClock,
    stopTimeoutMs: parseDuration(environment.server.drainDelay) + parseDuration(environment.server.shutdownTimeout) + EXIT_GRACE_MS,
  })
}

/**
 * With more than one worker, whatever lives in a process's memory is split between them: without Redis that
 * is every rate-limit budget (the memory store, and the built-in login rules always apply), so no
 * configuration keeps the promised limits, and N > 1 is refused. With `redis` configured the budgets live in
 * Redis, shared by every worker (and every other instance), so any N is allowed. One supervised worker
 * (restarted when it dies) is allowed either way.
 */
function refuseSplitBudgets(environment: Environment, workers: number): void {
  if (workers <= 1 || environment.redis !== null) return
  throw new GantryError(
    'INVALID_INPUT',
    `--workers ${workers} would split every rate-limit budget (the built-in login limits included) between ${workers} processes, each keeping its own in memory: configure \`redis\` for environment "${environment.name}" to share the budgets through Redis.`,
    { hint: 'Configure `redis` for the environment, or run without --workers, or with --workers 1 (one supervised worker, restarted when it dies).' },
  )
}

interface Supervision {
  readonly workers: number
  readonly logger: Logger
  readonly clock: Clock
  /** After SIGTERM is passed on, how long until workers still running are killed (and the exit is 1). */
  readonly stopTimeoutMs: number
}

/** Forks the workers and keeps them running until a signal; resolves with the primary's exit code. */
function supervise(options: Supervision): Promise<number> {
  const { logger } = options
  const live = new Set<Worker>()
  const restarts = restartPolicy(options.clock)
  const pendingRestarts = new Set<NodeJS.Timeout>()
  let boundPort: number | undefined
  const requestedPort = new WeakMap<Worker, string | undefined>()
  let stopping = false
  let exitCode = 0
  let killTimer: NodeJS.Timeout | undefined

  return new Promise<number>((resolve) => {
    const finishIfDone = (): void => {
      if (!stopping || live.size > 0) return
      clearTimeout(killTimer)
      process.off('SIGTERM', onSignal)
      process.off('SIGINT', onSignal)
      logger.info({ exitCode }, 'stopped')
      resolve(exitCode)
    }

    const stop = (): void => {
      if (stopping) return
      stopping = true
      for (const timer of pendingRestarts) clearTimeout(timer)
      pendingRestarts.clear()
      for (const worker of live) worker.process.kill('SIGTERM')
      killTimer = setTimeout(() => {
        for (const worker of live) {
          logger.error({ worker: worker.id, workerPid: worker.process.pid }, 'worker did not stop in time; killing it')
          worker.process.kill('SIGKILL')
        }
        exitCode = 1
      }, options.stopTimeoutMs)
      finishIfDone()
    }

    function onSignal(signal: NodeJS.Signals): void {
      logger.info({ signal, workers: live.size }, 'draining: passing SIGTERM on to the workers')
      stop()
    }

    const onExit = (worker: Worker, code: number | null, signal: string | null): void => {
      live.delete(worker)
      const fields = { worker: worker.id, workerPid: worker.process.pid, code, signal }
      if (stopping) {
        if (code === 0) logger.info(fields, 'worker stopped')
        else {
          logger.error(fields, 'worker did not stop cleanly')
          exitCode = 1
        }
        return finishIfDone()
      }
      if (boundPort === undefined) {
        // The first worker could not start (it said why on stderr): the others would fail the same way.
        logger.error(fields, 'the first worker could not start; stopping')
        exitCode = code || 1
        return stop()
      }
      const delayMs = restarts.next()
      if (delayMs === undefined) {
        logger.fatal({ ...fields, restarts: MAX_RESTARTS, withinMs: RESTART_WINDOW_MS }, 'workers keep dying; stopping')
        exitCode = 1
        return stop()
      }
      logger.warn({ ...fields, restartInMs: delayMs }, 'worker died; replacing it')
      const timer = setTimeout(() => {
        pendingRestarts.delete(timer)
        fork()
      }, delayMs)
      pendingRestarts.add(timer)
    }

    const fork = (): Worker => {
      // node:cluster shares one listening handle per requested address and port: a worker must ask for what
      // the live ones asked for (`--port 0` included, which then means the same port), or it gets EADDRINUSE.
      const [sibling] = live
      const port = sibling ? requestedPort.get(sibling) : boundPort === undefined ? undefined : String(boundPort)
      const worker = cluster.fork({ [BOUND_PORT_VARIABLE]: port })
      requestedPort.set(worker, port)
      live.add(worker)
      logger.info({ worker: worker.id, workerPid: worker.process.pid }, 'worker started')
      worker.once('exit', (code: number | null, signal: string | null) => onExit(worker, code, signal))
      return worker
    }

    process.once('SIGTERM', onSignal)
    process.once('SIGINT', onSignal)
    // One worker first: a server that cannot start (port taken, bad config) fails once, not N times.
    fork().once('listening', (address: { port: number }) => {
      boundPort = address.port
      if (!stopping) for (let i = 1; i < options.workers; i += 1) fork()
    })
  })
}

/** When to replace a dead worker: after a backoff that doubles with each recent restart; undefined past the cap. */
export function restartPolicy(clock: Clock): { next(): number | undefined } {
  const recent: number[] = []
  return {
    next() {
      const now = clock.now()
      while (recent.length > 0 && now - (recent[0] ?? now) >= RESTART_WINDOW_MS) recent.shift()
      if (recent.length >= MAX_RESTARTS) return undefined
      const delayMs = backoffMs(recent.length, RESTART_BACKOFF)
      recent.push(now)
      return delayMs
    },
  }
}
