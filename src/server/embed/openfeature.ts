/**
 * Gantry as an OpenFeature provider: an app coded to `@openfeature/server-sdk` switches to Gantry with
 * `await OpenFeature.setProviderAndWait(new GantryProvider(gantry.flags))`. Every resolution is
 * resolveFlag's (src/core/flags/resolve.ts), the one the library's `gantry.flags.value` gives.
 *
 * The SDK is an optional peer of the package, so this module imports only its types: an app without it
 * loads this file unharmed. That is why the events below are a small emitter of our own rather than the
 * SDK's OpenFeatureEventEmitter, and why reasons and error codes are its spellings as plain strings (the
 * SDK reads a resolution's `errorCode` string and answers the caller's default with reason ERROR).
 */
import type {
  AnyProviderEvent,
  EvaluationContext,
  EventContext,
  EventHandler,
  JsonValue,
  Logger,
  Provider,
  ProviderEventEmitter,
  ProviderEvents,
  ResolutionDetails,
} from '@openfeature/server-sdk'
import type { FlagReader } from '../../core/flags/flag-reader.js'
import { contextFromOpenFeature, resolveFlag, type ExpectedType } from '../../core/flags/resolve.js'

// The enum's value, spelled out: the enum itself exists only at run time inside the SDK.
const CONFIGURATION_CHANGED = 'PROVIDER_CONFIGURATION_CHANGED' as ProviderEvents.ConfigurationChanged

/**
 * The provider's events as the SDK subscribes to them (addHandler/removeHandler per event type). A handler
 * that throws or rejects is logged; it never stops the other handlers, nor the reader that reported the change.
 */
class GantryProviderEvents implements ProviderEventEmitter<ProviderEvents> {
  readonly #handlers = new Map<AnyProviderEvent, EventHandler[]>()
  #logger: Logger | undefined

  emit(eventType: ProviderEvents, context?: EventContext): void {
    for (const handler of this.getHandlers(eventType)) {
      try {
        // The SDK's handlers take the details it then completes with the provider's name; ours are those.
        Promise.resolve(handler(context as Parameters<EventHandler>[0])).catch((err: unknown) => this.#failed(eventType, err))
      } catch (err) {
        this.#failed(eventType, err)
      }
    }
  }

  addHandler(eventType: AnyProviderEvent, handler: EventHandler): void {
    this.#handlers.set(eventType, [...this.getHandlers(eventType), handler])
  }

  removeHandler(eventType: AnyProviderEvent, handler: EventHandler): void {
    const handlers = this.getHandlers(eventType)
    const at = handlers.lastIndexOf(handler)
    if (at >= 0) this.#handlers.set(eventType, handlers.toSpliced(at, 1))
  }

  removeAllHandlers(eventType?: AnyProviderEvent): void {
    if (eventType) this.#handlers.delete(eventType)
    else this.#handlers.clear()
  }

  getHandlers(eventType: AnyProviderEvent): EventHandler[] {
    return this.#handlers.get(eventType) ?? []
  }

  setLogger(logger: Logger): this {
    this.#logger = logger
    return this
  }

  #failed(eventType: AnyProviderEvent, err: unknown): void {
    this.#logger?.error(`gantry provider: a ${eventType} handler failed:`, err)
  }
}

/**
 * An OpenFeature server provider over a Gantry FlagReader (the library's `gantry.flags`).
 *
 * Readiness, fail safe: `initialize()` resolves at once, whether or not the reader has loaded. The SDK holds
 * `setProviderAndWait` until initialize settles, and a rejection would make it throw and put the provider
 * in ERROR; so waiting for the first snapshot would hold the app's start for as long as the flag store is
 * unreachable, and failing would break it. Instead, until the reader has loaded, each resolution answers
 * PROVIDER_NOT_READY and the SDK serves the code's default, the same as `gantry.flags.value` does, while
 * Gantry's readiness check reports the warning.
 *
 * Events: initialize subscribes to the reader's changes and each one is emitted as
 * PROVIDER_CONFIGURATION_CHANGED (the first load included: the rules in force changed from none to some);
 * onClose, which the SDK calls when the provider is replaced or OpenFeature is closed, unsubscribes.
 */
export class GantryProvider implements Provider {
  readonly metadata = { name: 'gantry' } as const
  readonly runsOn = 'server' as const
  readonly events = new GantryProviderEvents()
  readonly #reader: FlagReader
  #unsubscribe: (() => void) | undefined

  constructor(reader: FlagReader) {
    this.#reader = reader
  }

  /** Starts passing the reader's changes on as events; never waits for the flags to load (see the class). */
  initialize(): Promise<void> {
    this.#unsubscribe ??= this.#reader.onChange(() => this.events.emit(CONFIGURATION_CHANGED, { message: 'the flag rules in force changed' }))
    return Promise.resolve()
  }

  /** Stops passing changes on. */
  onClose(): Promise<void> {
    this.#unsubscribe?.()
    this.#unsubscribe = undefined
    return Promise.resolve()
  }

  /** A boolean flag. */
  resolveBooleanEvaluation(flagKey: string, defaultValue: boolean, context: EvaluationContext): Promise<ResolutionDetails<boolean>> {
    return this.#resolve(flagKey, 'boolean', defaultValue, context)
  }

  /** A string flag. */
  resolveStringEvaluation(flagKey: string, defaultValue: string, context: EvaluationContext): Promise<ResolutionDetails<string>> {
    return this.#resolve(flagKey, 'string', defaultValue, context)
  }

  /** A number flag. */
  resolveNumberEvaluation(flagKey: string, defaultValue: number, context: EvaluationContext): Promise<ResolutionDetails<number>> {
    return this.#resolve(flagKey, 'number', defaultValue, context)
  }

  /** A `json` flag: its value as it is stored (an object, a list or null). */
  resolveObjectEvaluation<T extends JsonValue>(flagKey: string, defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    return this.#resolve(flagKey, 'object', defaultValue, context)
  }

  #resolve<T extends JsonValue>(flagKey: string, expected: ExpectedType, defaultValue: T, context: EvaluationContext): Promise<ResolutionDetails<T>> {
    const resolution = resolveFlag(this.#reader, flagKey, expected, defaultValue, contextFromOpenFeature(context))
    // Our reasons and codes are the SDK's own strings; its ErrorCode is a string enum TypeScript keeps apart.
    return Promise.resolve(resolution as ResolutionDetails<T>)
  }
}
