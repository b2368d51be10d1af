/**
 * The health document `GET /api/health` and `/api/health/ready` answer, in the application/health+json
 * shape (draft-inadarei-api-health-check): one schema for the server that writes it and the CLI that reads it.
 */
import { z } from 'zod'

const checkEntry = z.object({
  componentType: z.string().optional(),
  status: z.enum(['pass', 'warn', 'fail']),
  observedValue: z.number().optional(),
  observedUnit: z.string().optional(),
  output: z.string().optional(),
  time: z.string(),
})
export const healthSchema = z.object({
  status: z.enum(['pass', 'warn', 'fail']),
  version: z.string(),
  description: z.string().optional(),
  uptimeSeconds: z.number().optional(),
  checks: z.record(z.string(), z.array(checkEntry)).optional(),
})
export type Health = z.infer<typeof healthSchema>
/** One check's result: a component's status, with what was observed. */
export type HealthCheck = z.infer<typeof checkEntry>
