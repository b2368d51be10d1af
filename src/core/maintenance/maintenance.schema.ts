import { z } from 'zod'

/** Retry-After, in seconds, when `maintenance on` is given none. */
export const DEFAULT_RETRY_AFTER = 120

/** What `maintenance on` takes. */
export const maintenanceInputSchema = z.object({
  retryAfter: z.number().int().min(1).max(86_400).default(DEFAULT_RETRY_AFTER).describe('seconds clients are told to wait (Retry-After), 1 to 86400'),
  message: z.string().trim().max(500).optional().describe('shown in the 503 answers'),
})
export type MaintenanceInput = z.input<typeof maintenanceInputSchema>

/** Maintenance mode as every door shows it. */
export const maintenanceStateSchema = z.object({
  enabled: z.boolean(),
  retryAfter: z.number().int().describe('Retry-After seconds of the 503 answers while on (the default while off)'),
  message: z.string().nullable(),
  since: z.string().nullable().describe('ISO 8601: when it was last turned on or off; null if never'),
  by: z.string().nullable().describe('who last turned it on or off'),
})
export type MaintenanceState = z.infer<typeof maintenanceStateSchema>

/** The state of a database where maintenance was never turned on (or whose Gantry tables do not exist yet). */
export const MAINTENANCE_NEVER_SET: MaintenanceState = Object.freeze({ enabled: false, retryAfter: DEFAULT_RETRY_AFTER, message: null, since: null, by: null })
