/**
 * The public vocabulary of the library (`import { createGantry } from 'gantry'`): what createGantry takes,
 * what it gives, and the caller the middleware puts on `req.gantry`.
 */
import type { ErrorRequestHandler, RequestHandler } from 'express'
import type { Logger } from 'pino'
import type { Knex } from 'knex'
import type { Registry } from 'prom-client'
import type { ActorContext } from '../../core/context.js'
import type { RateLimitDecision } from '../../ratelimit/index.js'
import type { GantryFlags } from './flags.js'

/**
 * Who calls, as every Gantry service sees it: `actor` as the audit log writes it (`user:<id>`,
 * `apikey:<key id>`, `anonymous`), the permissions held (a key's scopes), the user (a key's owner), the key
 * and the client address.
 */
export type GantryCaller = ActorContext

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express's own way to type what middleware adds to a request.
  namespace Express {
    interface Request {
      /** The caller, set by gantry.authenticate() or gantry.verifyApiKey() (`anonymous` when optional and no credential came). */
      gantry?: GantryCaller
    }
  }
}

export interface GantryOptions {
  /** The environment (default: GANTRY_ENV, else development). */
  readonly env?: string | undefined
  /** Where the workspace is looked for, walking up (default: process.cwd()). */
  readonly cwd?: string | undefined
  /** The gantry.config.json to use instead of looking for one (relative to cwd). */
  readonly config?: string | undefined
  /**
   * The app's own permissions (`orders:write`); when given, requirePermission refuses at once a name that is
   * neither one of these nor one of Gantry's.
   */
  readonly permissions?: readonly string[] | undefined
  /** Where Gantry logs (default: JSON lines on stdout at the environment's level). */
  readonly logger?: Logger | undefined
  /** The app's own readiness checks, by name: each resolves when ready, throws when not, and gets 1 s. */
  readonly checks?: Readonly<Record<string, () => Promise<void>>> | undefined
  /**
   * Run a job worker in this process, delivering webhooks (default: false; `gantry serve` and `gantry
   * worker` run one). Any number of workers share the work: each job is delivered by one at a time.
   */
  readonly worker?: boolean | undefined
}

/** The app's own events, delivered to the webhook endpoints subscribed to their type. */
export interface GantryEvents {
  /**
   * Queues an event (`orders.created`, any JSON payload up to 256 KB) for delivery. Pass the app's knex
   * transaction as `trx` (on this environment's database) and the event is sent if and only if it commits.
   */
  emit(type: string, payload: unknown, options?: { trx?: Knex | undefined }): Promise<void>
}

/** A request as the rate limiter sees it (checkRateLimit): the path is matched normalised. */
export interface RateLimitRequest {
  readonly method: string
  readonly path: string
  readonly ip: string
  /** The user id, for rules keyed on `user`. */
  readonly user?: string | number | undefined
  /** The API key id, for rules keyed on `apiKey`. */
  readonly apiKey?: string | undefined
}

/** Gantry inside an app: middleware and plain functions over the environment's services. */
export interface Gantry {
  /** The environment opened. */
  readonly environment: string
  /**
   * Identifies the caller (Bearer access token or API key, or X-API-Key) and sets `req.gantry`; 401
   * problem+json otherwise. With `optional`, a request without credentials passes as `anonymous` (a bad one
   * is still refused). After gantry.rateLimit(), it also applies the rules keyed on user and apiKey.
   */
  authenticate(options?: { optional?: boolean }): RequestHandler
  /** 403 problem+json naming the permission unless `req.gantry` holds it (401 for an anonymous caller). */
  requirePermission(permission: string): RequestHandler
  /** Like authenticate(), but only an API key is accepted (an access token is refused with 401). */
  verifyApiKey(): RequestHandler
  /**
   * The rate-limit rules and overrides managed with `gantry ratelimit`, on the app's routes: ip and global
   * rules at once, user and apiKey rules once the caller is known. RateLimit headers; 429 problem+json.
   */
  rateLimit(): RequestHandler
  /** Readiness as application/health+json: Gantry's checks and the app's own; 503 when one fails. */
  readiness(): RequestHandler
  /** Turns Gantry's errors (and any other) into problem+json; the last handler of the app. */
  errors(): ErrorRequestHandler
  /** The Prometheus registry with Gantry's metrics (rate-limit decisions among them), for the app's /metrics. */
  readonly metrics: Registry
  /** The caller behind an access token; rejects with TOKEN_INVALID (401). */
  verifyAccessToken(token: string, ip?: string): Promise<GantryCaller>
  /** The caller behind an API key; rejects with APIKEY_INVALID (401). */
  checkApiKey(key: string, ip?: string): Promise<GantryCaller>
  /** One rate-limit decision over every rule that covers the request (counted like the middleware's). */
  checkRateLimit(request: RateLimitRequest): Promise<RateLimitDecision>
  /** The app's own webhook events. */
  readonly events: GantryEvents
  /**
   * Feature flags, evaluated in this process from a snapshot kept current within a second of any change
   * (`gantry flags …`); an OpenFeature app uses them through `new GantryProvider(gantry.flags)`.
   */
  readonly flags: GantryFlags
  /** Stops the live rules, saves the last decision counts and closes the clients; once. */
  close(): Promise<void>
}
