/**
 * A lock across processes on one file: `<file>.lock`, created with O_EXCL, holding who took it (pid, host,
 * when). The holder touches it every few seconds; a lock whose pid is gone (same host) or that nobody has
 * touched for `staleMs` is taken over. A takeover happens under a second, short-lived O_EXCL guard and
 * re-checks the lock it judged stale, so two waiters never both remove it (and never remove a fresh one).
 * Waiting is bounded; then a clear error says who holds it.
 */
import { AsyncLocalStorage } from 'node:async_hooks'
import { randomUUID } from 'node:crypto'
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises'
import { hostname } from 'node:os'
import { GantryError } from '../core/errors.js'

export interface FileLockOptions {
  /** Untouched this long, a lock is stale (default 30 s). */
  readonly staleMs?: number | undefined
  /** How long to wait for the lock before failing (default 10 s). */
  readonly waitMs?: number | undefined
  /** How often the holder touches the lock (default 5 s). */
  readonly heartbeatMs?: number | undefined
}

export interface FileLock {
  readonly path: string
  /** Runs `work` holding the lock; nested calls from inside `work` run at once (the lock is already held). */
  run<T>(work: () => Promise<T>): Promise<T>
}

interface Holder {
  readonly pid: number
  readonly host: string
  readonly at: number
  readonly id: string
}

/** A guard older than this belongs to a takeover that died half-way (a takeover takes milliseconds). */
const GUARD_STALE_MS = 5_000
const POLL_MS = 25

/** A lock on `file` (the lock file is `${file}.lock`). */
export function fileLock(file: string, options: FileLockOptions = {}): FileLock {
  const path = `${file}.lock`
  const guard = `${file}.lock.takeover`
  const staleMs = options.staleMs ?? 30_000
  const waitMs = options.waitMs ?? 10_000
  const heartbeatMs = options.heartbeatMs ?? 5_000
  const held = new AsyncLocalStorage<true>()
  /** Callers in this process queue here first, so they do not poll the file against each other. */
  let queue: Promise<unknown> = Promise.resolve()

  const acquire = async (): Promise<Holder> => {
    const me: Holder = { pid: process.pid, host: hostname(), at: Date.now(), id: randomUUID() }
    const until = Date.now() + waitMs
    for (let round = 0; ; round++) {
      if (await create(path, JSON.stringify(me))) return me
      const seen = await inspect(path)
      if (seen && isStale(seen, staleMs)) {
        await takeOver(path, guard, seen.raw)
        continue
      }
      if (Date.now() >= until) {
        const who = seen?.holder ? `process ${seen.holder.pid} on ${seen.holder.host}` : 'another process'
        throw new GantryError('CREDENTIALS_LOCKED', `The credentials are locked by ${who} since ${seconds(seen?.ageMs ?? 0)} ago; waited ${seconds(waitMs)}.`, {
          hint: `Wait for that gantry command to finish, or remove ${path} if no gantry command is running.`,
          details: { lock: path },
        })
      }
      await pause(POLL_MS + Math.min(round, 8) * 5)
    }
  }

  const release = async (me: Holder): Promise<void> => {
    // Only our own lock: after a takeover (we were judged stale) the file may be someone else's now.
    const seen = await inspect(path)
    if (seen?.holder?.id === me.id) await unlink(path).catch(() => undefined)
  }

  async function locked<T>(work: () => Promise<T>): Promise<T> {
    const me = await acquire()
    const beat = setInterval(() => {
      const now = new Date()
      void utimes(path, now, now).catch(() => undefined)
    }, heartbeatMs)
    beat.unref()
    try {
      return await held.run(true, work)
    } finally {
      clearInterval(beat)
      await release(me)
    }
  }

  return {
    path,
    async run(work) {
      if (held.getStore()) return work()
      const turn = queue.then(() => locked(work))
      queue = turn.catch(() => undefined)
      return turn
    },
  }
}

/** Creates `path` exclusively with `content`; false when it exists. */
async function create(path: string, content: string): Promise<boolean> {
  let handle
  try {
    handle = await open(path, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  }
  try {
    await handle.writeFile(content)
  } finally {
    await handle.close()
  }
  return true
}

interface Seen {
  readonly raw: string
  readonly holder: Holder | undefined
  /** Since the lock was last touched (its mtime). */
  readonly ageMs: number
}

async function inspect(path: string): Promise<Seen | undefined> {
  try {
    const [raw, info] = await Promise.all([readFile(path, 'utf8'), stat(path)])
    return { raw, holder: parseHolder(raw), ageMs: Date.now() - info.mtimeMs }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

function parseHolder(raw: string): Holder | undefined {
  try {
    const value = JSON.parse(raw) as Partial<Holder>
    if (typeof value.pid === 'number' && typeof value.host === 'string' && typeof value.at === 'number' && typeof value.id === 'string') return value as Holder
  } catch {
    // Half-written or foreign: judged by its age alone.
  }
  return undefined
}

/** Dead (same host, pid gone) or untouched for `staleMs` (an unreadable lock by its age alone). */
function isStale(seen: Seen, staleMs: number): boolean {
  if (seen.ageMs > staleMs) return true
  if (!seen.holder) return false
  return seen.holder.host === hostname() && !alive(seen.holder.pid)
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Removes the lock if it still is the one judged stale, under the takeover guard. */
async function takeOver(path: string, guard: string, staleRaw: string): Promise<void> {
  if (!(await create(guard, String(process.pid)))) {
    const info = await stat(guard).catch(() => undefined)
    if (info && Date.now() - info.mtimeMs > GUARD_STALE_MS) await unlink(guard).catch(() => undefined)
    await pause(POLL_MS)
    return
  }
  try {
    const now = await readFile(path, 'utf8').catch(() => undefined)
    if (now === staleRaw) await unlink(path).catch(() => undefined)
  } finally {
    await unlink(guard).catch(() => undefined)
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

function seconds(ms: number): string {
  return `${Math.max(0, Math.round(ms / 1000))} s`
}
