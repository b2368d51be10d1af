/**
 * The job queue every feature shares (DESIGN.md: src/core/jobs), over the durable job table gantry_jobs:
 * background work written in the same transaction as what caused it, claimed by whichever worker gets there
 * first, each job held by one worker at a time under a lease.
 *
 * Claiming takes due rows with FOR UPDATE SKIP LOCKED on PostgreSQL and MySQL 8 / MariaDB ≥ 10.6, so workers
 * on several instances never wait on each other's rows and never take the same one. SQLite has one writer
 * at a time: its claim is one UPDATE … RETURNING, which takes the write lock before it reads. A running
 * row's run_at is when its lease runs out, so a worker that dies holding a job loses it then: the row is due
 * again. Every later write names the lease owner and the attempt it was claimed for, so a worker whose
 * lease was taken over changes nothing.
 */
import type { Knex } from 'knex'
import { isSqlite } from '../sql.js'

export const JOBS_TABLE = 'gantry_jobs'

/** Rows one clean-up batch (old jobs, old webhook messages) deletes at most: a batch that deleted this many is run again. */
export const CLEAN_UP_BATCH = 1000

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'failed'

/** A job as the worker holds it. */
export interface Job {
  readonly id: number
  readonly type: string
  readonly payload: unknown
  /** This claim's attempt, counting from 1. */
  readonly attempt: number
}

export interface NewJob {
  readonly type: string
  readonly payload: unknown
  /** When it becomes due (default: at once). */
  readonly runAt?: number | undefined
}

interface JobRow {
  id: number | string
  type: string
  payload: string
  attempts: number | string
}

/** Writes jobs inside the caller's transaction, at most 500 a statement (SQLite's compound-SELECT cap). */
export async function enqueueJobs(trx: Knex, jobs: readonly NewJob[], now: number): Promise<void> {
  const rows = jobs.map((job) => ({
    type: job.type,
    payload: JSON.stringify(job.payload),
    status: 'queued',
    attempts: 0,
    run_at: job.runAt ?? now,
    created_at: now,
    updated_at: now,
  }))
  for (let i = 0; i < rows.length; i += 500) await trx(JOBS_TABLE).insert(rows.slice(i, i + 500))
}

export interface ClaimOptions {
  readonly owner: string
  readonly now: number
  readonly leaseMs: number
  readonly limit: number
  /** Only these types (a worker runs the jobs it has handlers for). */
  readonly types: readonly string[]
}

/** Due at `now`: queued ones whose time has come, and running ones whose lease has run out (finished ones have no run_at). */
function due(now: number) {
  return (w: Knex.QueryBuilder): void => void w.where('run_at', '<=', now)
}

/** Takes up to `limit` due jobs for `owner`, oldest first. */
export async function claimJobs(knex: Knex, options: ClaimOptions): Promise<Job[]> {
  const { owner, now, leaseMs, limit, types } = options
  const claim = (k: Knex) => ({ status: 'running', lease_owner: owner, run_at: now + leaseMs, attempts: k.raw('?? + 1', ['attempts']), updated_at: now })
  const dueIds = (k: Knex) => k(JOBS_TABLE).select('id').where(due(now)).whereIn('type', types).orderBy('run_at').orderBy('id').limit(limit)
  if (isSqlite(knex)) {
    // One statement: it takes SQLite's write lock before it reads, so two processes never claim the same row.
    const rows: JobRow[] = await knex(JOBS_TABLE).whereIn('id', dueIds(knex)).update(claim(knex), ['id', 'type', 'payload', 'attempts'])
    return rows.map((r) => toJob(r, Number(r.attempts)))
  }
  return knex.transaction(async (trx) => {
    const rows: JobRow[] = await dueIds(trx).select('type', 'payload', 'attempts').forUpdate().skipLocked()
    if (rows.length === 0) return []
    await trx(JOBS_TABLE)
      .whereIn(
        'id',
        rows.map((r) => r.id),
      )
      .update(claim(trx))
    return rows.map((r) => toJob(r, Number(r.attempts) + 1))
  })
}

function toJob(row: JobRow, attempt: number): Job {
  return { id: Number(row.id), type: row.type, payload: JSON.parse(row.payload) as unknown, attempt }
}

/** The outcome of one claim of a job. */
export type JobOutcome =
  | { readonly status: 'succeeded' }
  | { readonly status: 'failed'; readonly error: string }
  | { readonly status: 'retry'; readonly runAt: number; readonly error: string }

/**
 * Records how a claim ended, if `owner` still holds it for that attempt; false when the lease was taken over
 * (another worker now owns the job, and its record wins).
 */
export async function finishJob(k: Knex, job: Job, owner: string, outcome: JobOutcome, now: number): Promise<boolean> {
  const changes =
    outcome.status === 'retry'
      ? { status: 'queued', run_at: outcome.runAt, last_error: outcome.error.slice(0, 1000) }
      : { status: outcome.status, run_at: null, finished_at: now, last_error: outcome.status === 'failed' ? outcome.error.slice(0, 1000) : null }
  const updated = await k(JOBS_TABLE)
    .where({ id: job.id, status: 'running', lease_owner: owner, attempts: job.attempt })
    .update({ ...changes, lease_owner: null, updated_at: now })
  return updated === 1
}

/**
 * Moves the lease of a job `owner` still holds to `until`: a handler whose work may outlast the lease (a
 * backup) renews it while it runs, so no other worker takes the job over from a live one. False when the
 * lease was lost already (another worker owns the job now).
 */
export async function renewLease(k: Knex, job: Job, owner: string, until: number, now: number): Promise<boolean> {
  const updated = await k(JOBS_TABLE)
    .where({ id: job.id, status: 'running', lease_owner: owner, attempts: job.attempt })
    .update({ run_at: until, updated_at: now })
  return updated === 1
}

/** Deletes jobs finished before `before`, at most `limit` at a time; returns how many went. */
export async function pruneJobs(k: Knex, before: number, limit: number): Promise<number> {
  const ids = (await k(JOBS_TABLE).select('id').whereNotNull('finished_at').andWhere('finished_at', '<', before).orderBy('finished_at').limit(limit)).map(
    (r: { id: number | string }) => r.id,
  )
  if (ids.length === 0) return 0
  return k(JOBS_TABLE).whereIn('id', ids).delete()
}

/** How much work waits: jobs due now (queued and due, or running past their lease), and how long the oldest of them has waited. */
export async function jobBacklog(k: Knex, now: number): Promise<{ due: number; oldestDueMs: number | null; scheduled: number }> {
  const [ready] = (await k(JOBS_TABLE)
    .where(due(now))
    .select(k.raw('count(*) as ??', ['n']), k.raw('min(??) as ??', ['run_at', 'oldest']))) as Array<{ n: number | string; oldest: number | string | null }>
  const [later] = (await k(JOBS_TABLE).where('status', 'queued').andWhere('run_at', '>', now).count({ n: '*' })) as Array<{ n: number | string }>
  return {
    due: Number(ready?.n ?? 0),
    oldestDueMs: ready?.oldest === null || ready?.oldest === undefined ? null : now - Number(ready.oldest),
    scheduled: Number(later?.n ?? 0),
  }
}
