/**
 * Migration runs in the audit log, and so as webhook events (`migrations.applied`, `migrations.failed`,
 * `migrations.rolled_back`): written after the run, in a transaction of their own, never inside a
 * migration's (MySQL and MariaDB commit DDL implicitly: a row written inside one would commit with whatever
 * ran before a failure). A run that changed nothing writes nothing. Recording never changes a run's outcome:
 * when it fails — the run failed before Gantry's own tables existed, say — the caller is told why.
 */
import type { ActorContext } from './core/context.js'
import { isGantryError } from './core/errors.js'
import type { Runtime } from './runtime.js'

interface Migration {
  readonly set: string
  readonly name: string
}

/** One run as it ended: what it applied or undid, and the error that stopped it, if one did. */
export type MigrationRun =
  | { readonly direction: 'up'; readonly migrations: readonly Migration[]; readonly batch?: number | null | undefined; readonly error?: unknown }
  | { readonly direction: 'down'; readonly migrations: readonly Migration[]; readonly error?: unknown }

/** Appends the run's audit row as `ctx` (the local operator by default); resolves to why it could not, or undefined. */
async function auditMigrationRun(runtime: Runtime, run: MigrationRun, ctx?: ActorContext): Promise<string | undefined> {
  if (run.migrations.length === 0 && run.error === undefined) return undefined
  try {
    const [services, actor] = await Promise.all([runtime.services(), ctx ?? localOperator()])
    const { knex } = await runtime.database()
    const names = run.migrations.map((m) => `${m.set}/${m.name}`)
    const failed = run.error === undefined ? undefined : describeFailure(run.error)
    const action = failed ? 'migrations.fail' : run.direction === 'up' ? 'migrations.apply' : 'migrations.rollback'
    await knex.transaction((trx) =>
      services.audit.append(trx, actor, {
        action,
        targetType: 'migrations',
        targetId: runtime.environment.name,
        after: {
          direction: run.direction,
          [run.direction === 'up' ? 'applied' : 'rolledBack']: names,
          ...('batch' in run && run.batch != null ? { batch: run.batch } : {}),
          ...(failed ? { failed } : {}),
        },
      }),
    )
    return undefined
  } catch (err) {
    return err instanceof Error ? err.message : String(err)
  }
}

/** What failed, as the catalog names it: the code, the migration, never the driver's whole message. */
function describeFailure(err: unknown): { code: string; set?: unknown; name?: unknown } {
  if (!isGantryError(err)) return { code: 'INTERNAL' }
  const details = (err.details ?? {}) as { set?: unknown; name?: unknown }
  return { code: err.code, ...(details.name === undefined ? {} : { set: details.set, name: details.name }) }
}

async function localOperator(): Promise<ActorContext> {
  const [{ localContext }, { localActor }] = await Promise.all([import('./core/context.js'), import('./local-actor.js')])
  return localContext(localActor())
}

/**
 * Runs `work` (a batch), then records it: `ended` says what its result applied or undid, a thrown error is
 * recorded as the run's failure; `notRecorded` hears why a run could not be recorded.
 */
export async function recordedRun<R>(
  runtime: Runtime,
  work: () => Promise<R>,
  record: { ended: (result: R) => MigrationRun; failed: (error: unknown) => MigrationRun; notRecorded: (reason: string) => void },
): Promise<R> {
  const write = async (run: MigrationRun): Promise<void> => {
    const reason = await auditMigrationRun(runtime, run)
    if (reason) record.notRecorded(reason)
  }
  let result: R
  try {
    result = await work()
  } catch (err) {
    await write(record.failed(err))
    throw err
  }
  await write(record.ended(result))
  return result
}
