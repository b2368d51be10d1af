/**
 * `gantry.flags`: feature flags in the app's own process, from the live snapshot (no I/O per check). The
 * same reader an OpenFeature provider takes (`new GantryProvider(gantry.flags)`), the one typed resolution
 * both use, and the evaluation context of a request from what authenticate() put on `req.gantry`.
 */
import type { Request } from 'express'
import type { FlagReader } from '../../core/flags/flag-reader.js'
import type { EvaluationContext, JsonValue } from '../../core/flags/flags.schema.js'
import { resolveFlag, type ExpectedType, type Resolution } from '../../core/flags/resolve.js'

export interface GantryFlags extends FlagReader {
  /**
   * The flag's value for `context`, or `defaultValue` when it cannot be served: no such flag, a value of
   * another type than the default's, or the flags not loaded yet (the store unreachable since start).
   */
  value<T extends JsonValue>(key: string, defaultValue: T, context?: EvaluationContext): T
  /** The value with the variant, OpenFeature's reason and, on a fallback to the default, its error code. */
  details<T extends JsonValue>(key: string, defaultValue: T, context?: EvaluationContext): Resolution<T>
  /**
   * The evaluation context of a request after gantry.authenticate(): userId (the targeting key),
   * permissions, apiKeyId and ip; `extra` adds the app's own attributes (email, role, plan …) over them.
   */
  context(req: Request, extra?: EvaluationContext): EvaluationContext
}

const expectedOf = (value: JsonValue): ExpectedType =>
  typeof value === 'boolean' ? 'boolean' : typeof value === 'string' ? 'string' : typeof value === 'number' ? 'number' : 'object'

export function libraryFlags(reader: FlagReader): GantryFlags {
  const details = <T extends JsonValue>(key: string, defaultValue: T, context: EvaluationContext = {}): Resolution<T> =>
    resolveFlag(reader, key, expectedOf(defaultValue), defaultValue, context)
  return {
    loaded: () => reader.loaded(),
    evaluate: (key, context) => reader.evaluate(key, context),
    type: (key) => reader.type(key),
    onChange: (listener) => reader.onChange(listener),
    value: (key, defaultValue, context) => details(key, defaultValue, context).value,
    details,
    context(req, extra = {}) {
      const caller = req.gantry
      return {
        ...(caller?.userId === undefined ? {} : { userId: String(caller.userId) }),
        ...(caller ? { permissions: caller.permissions } : {}),
        ...(caller?.apiKeyId === undefined ? {} : { apiKeyId: caller.apiKeyId }),
        ...(req.ip === undefined ? {} : { ip: req.ip }),
        ...extra,
      }
    },
  }
}
