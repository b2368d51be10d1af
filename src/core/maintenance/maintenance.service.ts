import type { Knex } from 'knex'
import type { AuditService } from '../audit/audit.service.js'
import type { AuditAction } from '../audit/audit.schema.js'
import type { Clock } from '../clock.js'
import type { ActorContext } from '../context.js'
import { GantryError } from '../errors.js'
import { parseInput } from '../pagination.js'
import { requirePermission } from '../roles/permissions.js'
import { getSetting, lockSetting, setSetting } from '../settings/settings.repo.js'
import { isMissingTable } from '../sql.js'
import { MAINTENANCE_NEVER_SET, maintenanceInputSchema, maintenanceStateSchema, type MaintenanceInput, type MaintenanceState } from './maintenance.schema.js'

/** The gantry_settings key that holds the state. */
const KEY = 'maintenance'
/** How long current() reuses a read: a change made anywhere reaches every instance within this. */
export const MAINTENANCE_CACHE_MS = 1000

/** Maintenance mode: while on, the server answers 503 to everything but health, auth and admin. */
export interface MaintenanceService {
  /** The state as stored now; needs maintenance:read. */
  status(ctx: ActorContext): Promise<MaintenanceState>
  /** Turns it on (or changes Retry-After and message while on); needs maintenance:write; audited. */
  on(ctx: ActorContext, input?: MaintenanceInput): Promise<MaintenanceState>
  /** Turns it off (nothing to do, and nothing audited, when it is off); needs maintenance:write. */
  off(ctx: ActorContext): Promise<MaintenanceState>
  /**
   * The state for the server's per-request check: no permission, at most one read per MAINTENANCE_CACHE_MS
   * of the clock however many requests ask. A database without Gantry's tables reads as off; when a read
   * fails, the last state read stays in force (maintenance keeps answering 503 through a database restart).
   */
  current(): Promise<MaintenanceState>
}

/** Builds the maintenance service. */
export function createMaintenanceService(deps: { knex: Knex; clock: Clock; audit: AuditService }): MaintenanceService {
  const { knex, clock, audit } = deps
  let cached: { state: MaintenanceState; at: number } | undefined
  let reading: Promise<MaintenanceState> | undefined
  // Bumped by every change made here, so a read that started before it cannot put back the older state.
  let generation = 0

  const remember = (state: MaintenanceState): MaintenanceState => {
    generation += 1
    cached = { state, at: clock.now() }
    return state
  }
  /** Runs `change` on the stored state in one transaction with its audit row; `undefined` from it means nothing to do. */
  const mutate = async (
    ctx: ActorContext,
    action: AuditAction,
    change: (before: MaintenanceState, now: string) => MaintenanceState | undefined,
  ): Promise<MaintenanceState> => {
    const { state, changed } = await knex.transaction(async (trx) => {
      await lockSetting(trx, KEY)
      const before = await readState(trx)
      const after = change(before, new Date(clock.now()).toISOString())
      if (after === undefined) return { state: before, changed: false }
      await setSetting(trx, KEY, after, new Date(clock.now()))
      await audit.append(trx, ctx, { action, targetType: 'setting', targetId: KEY, before, after })
      return { state: after, changed: true }
    })
    return changed ? remember(state) : state
  }

  return {
    async status(ctx) {
      requirePermission(ctx, 'maintenance:read')
      return readOrNeverSet(knex)
    },

    async on(ctx, input = {}) {
      requirePermission(ctx, 'maintenance:write')
      const parsed = parseInput(maintenanceInputSchema, input)
      try {
        return await mutate(ctx, 'maintenance.on', (before, now) => ({
          enabled: true,
          retryAfter: parsed.retryAfter,
          message: parsed.message || null,
          since: before.enabled ? before.since : now,
          by: ctx.actor,
        }))
      } catch (err) {
        if (!isMissingTable(err)) throw err
        throw new GantryError(
          'MIGRATION_PENDING',
          'Maintenance mode cannot be turned on: this database has no Gantry tables yet (nothing can be serving from it).',
          { cause: err },
        )
      }
    },

    async off(ctx) {
      requirePermission(ctx, 'maintenance:write')
      try {
        return await mutate(ctx, 'maintenance.off', (before, now) => (before.enabled ? { ...MAINTENANCE_NEVER_SET, since: now, by: ctx.actor } : undefined))
      } catch (err) {
        // No Gantry tables: maintenance was never on.
        if (isMissingTable(err)) return MAINTENANCE_NEVER_SET
        throw err
      }
    },

    current() {
      const now = clock.now()
      if (cached && now - cached.at < MAINTENANCE_CACHE_MS) return Promise.resolve(cached.state)
      const started = generation
      reading ??= readOrNeverSet(knex)
        .then(
          (state) => {
            if (generation === started) cached = { state, at: now }
            return cached?.state ?? state
          },
          (err: unknown) => {
            if (!cached) throw err
            cached = { state: cached.state, at: now }
            return cached.state
          },
        )
        .finally(() => {
          reading = undefined
        })
      return reading
    },
  }
}

/** The stored state (validated), or the never-set state when there is no row. */
async function readState(k: Knex): Promise<MaintenanceState> {
  const stored = await getSetting(k, KEY)
  return stored === undefined ? MAINTENANCE_NEVER_SET : maintenanceStateSchema.parse(stored)
}

/** readState, with a database that has no Gantry tables yet reading as never set. */
async function readOrNeverSet(k: Knex): Promise<MaintenanceState> {
  try {
    return await readState(k)
  } catch (err) {
    if (isMissingTable(err)) return MAINTENANCE_NEVER_SET
    throw err
  }
}
