/** What a client sends to log in, refresh or log out: one schema for the HTTP body and the CLI's `gantry login`. */
import { z } from 'zod'

export const loginInputSchema = z.object({
  // Not normalised here: the login rule keys on the normalised email, and the service normalises again.
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(4096),
})
export type LoginInput = z.infer<typeof loginInputSchema>

export const refreshInputSchema = z.object({ refreshToken: z.string().min(1).max(512) })
export type RefreshInput = z.infer<typeof refreshInputSchema>

export const logoutResultSchema = z.object({ revoked: z.number().int().describe('refresh tokens of the session revoked; 0 for an unknown token') })
