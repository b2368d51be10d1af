/**
 * Gantry as a library (`import { createGantry } from 'gantry'`): an app's own Express server protected by
 * the environment's users, roles, API keys, tokens and rate limits. Loads no CLI code (oclif, prompts,
 * colours, spinners).
 */
export { createGantry } from './server/embed/gantry.js'
export { GANTRY_PERMISSIONS } from './core/roles/permissions.js'
export type { Gantry, GantryCaller, GantryEvents, GantryOptions, RateLimitRequest } from './server/embed/types.js'
export { GantryProvider } from './server/embed/openfeature.js'
export type { GantryFlags } from './server/embed/flags.js'
export type { EvaluationContext as FlagContext, Evaluation as FlagEvaluation, JsonValue } from './core/flags/flags.schema.js'
export type { Resolution as FlagResolution } from './core/flags/resolve.js'
export { verifyWebhook, WebhookVerificationError, type WebhookHeaders } from './core/webhooks/signature.js'
export type { RateLimitDecision, AppliedRule } from './ratelimit/index.js'
export type { Health } from './core/health/health.schema.js'
export { GantryError, isGantryError, type ErrorCode } from './core/errors.js'
export type { KnexAfterConnect, KnexSetup, KnexSetupContext, KnexSetupModule } from './db/knex-setup.js'
