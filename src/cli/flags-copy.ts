/**
 * `gantry flags copy`: one flag (with the segments its rules name) from one environment's database into
 * another's, both opened from this workspace. Never between two names of one database: staging and
 * production often both read ${DATABASE_URL}, so one shell can resolve them to the same one.
 */
import { resolveEnvironment, type Workspace } from '../config/workspace.js'
import type { Environment } from '../config/schema.js'
import { GantryError } from '../core/errors.js'
import type { FlagDefinition, FlagsFile } from '../core/flags/flags.schema.js'
import { redact, sameDatabase } from '../db/url.js'
import { openRuntime, type Runtime } from '../runtime.js'
import type { AdminApi } from '../admin/admin-api.js'

export interface FlagCopy {
  /** Where the copy writes, as a confirmation may show it (password masked). */
  readonly place: string
  readonly targetAdmin: AdminApi
  /** The flag as the target has it now, if it has it. */
  readonly current: FlagDefinition | undefined
  /** What `flags.apply` on the target takes: the flag and the segments its rules name. */
  readonly file: FlagsFile
  close(): Promise<void>
}

/** Opens both environments and reads the flag; refuses one database under two names, or a flag the source lacks. */
export async function prepareFlagCopy(workspace: Workspace, key: string, from: string, to: string): Promise<FlagCopy> {
  const [source, target] = [resolveEnvironment(workspace, from), resolveEnvironment(workspace, to)]
  if (from === to || sameDatabase(source.database, target.database, workspace.root))
    throw new GantryError('INVALID_INPUT', `--from ${from} and --to ${to} resolve to the same database (${redact(target.database)}): nothing to copy.`, {
      hint: 'Give each environment its own DATABASE_URL (in .env.<environment>), or run the copy where each resolves to its own.',
    })
  const runtimes: Runtime[] = []
  const close = () => Promise.all(runtimes.map((r) => r.close())).then(() => undefined)
  try {
    const open = async (environment: Environment): Promise<AdminApi> => {
      const runtime = await openRuntime({ workspace, environment, logTo: 'stderr' })
      runtimes.push(runtime)
      return runtime.admin()
    }
    const [sourceAdmin, targetAdmin] = await Promise.all([open(source), open(target)])
    const [exported, present] = await Promise.all([sourceAdmin.call('flags.export'), targetAdmin.call('flags.export')])
    const flag = exported.flags.find((f) => f.key === key.trim().toLowerCase())
    if (!flag) throw new GantryError('FLAG_NOT_FOUND', `Environment ${from} has no flag ${key}.`, { hint: `Run \`gantry flags list -e ${from}\`.` })
    const named = new Set(flag.rules.flatMap((r) => r.segments))
    return {
      place: redact(target.database),
      targetAdmin,
      current: present.flags.find((f) => f.key === flag.key),
      file: { flags: [flag], segments: exported.segments.filter((s) => named.has(s.name)) },
      close,
    }
  } catch (err) {
    await close()
    throw err
  }
}
