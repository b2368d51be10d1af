/**
 * A FlagReader over the real evaluator (compileFlags) with nothing behind it: a test loads snapshots into it
 * by hand, as the library's live reader does when the store answers, and sees its listeners called.
 */
import type { z } from 'zod'
import { compileFlags, type CompiledFlags } from '../../src/core/flags/evaluate.js'
import type { FlagReader } from '../../src/core/flags/flag-reader.js'
import {
  flagDefinitionSchema,
  segmentDefinitionSchema,
  type Evaluation,
  type EvaluationContext,
  type FlagSnapshot,
  type FlagType,
} from '../../src/core/flags/flags.schema.js'

/** A snapshot of flags and segments written as the CLI or a file would (the schema fills the defaults). */
export function flagSnapshot(
  flags: z.input<typeof flagDefinitionSchema>[],
  segments: z.input<typeof segmentDefinitionSchema>[] = [],
  version = 1,
): FlagSnapshot {
  return { version, flags: flags.map((f) => flagDefinitionSchema.parse(f)), segments: segments.map((s) => segmentDefinitionSchema.parse(s)) }
}

/** A reader holding what was last loaded; not loaded until the first `load` (a store unreachable at start). */
export class TestFlagReader implements FlagReader {
  #flags: CompiledFlags | undefined
  readonly #listeners = new Set<() => void>()

  constructor(snapshot?: FlagSnapshot) {
    if (snapshot) this.#flags = compileFlags(snapshot)
  }

  loaded(): boolean {
    return this.#flags !== undefined
  }

  evaluate(key: string, context: EvaluationContext): Evaluation {
    if (!this.#flags) throw new Error('evaluate() before the first snapshot: callers check loaded() first')
    return this.#flags.evaluate(key, context)
  }

  type(key: string): FlagType | undefined {
    return this.#flags?.type(key)
  }

  onChange(listener: () => void): () => void {
    // A wrapper per subscription, so the same function subscribed twice is two subscriptions.
    const subscription = () => listener()
    this.#listeners.add(subscription)
    return () => this.#listeners.delete(subscription)
  }

  /** Puts `snapshot` in force and tells every listener. */
  load(snapshot: FlagSnapshot): void {
    this.#flags = compileFlags(snapshot)
    for (const listener of this.#listeners) listener()
  }

  /** How many listeners are subscribed (an unsubscribe that worked leaves none). */
  get listeners(): number {
    return this.#listeners.size
  }
}
