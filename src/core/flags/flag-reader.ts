/**
 * What reads flags in process: the live snapshot of `gantry serve` and `createGantry`, the library's
 * `gantry.flags`, the OpenFeature provider. Evaluation is synchronous: the rules are held in memory and
 * kept current in the background, so a check costs no I/O.
 */
import type { EvaluationContext, Evaluation, FlagType } from './flags.schema.js'

export interface FlagReader {
  /**
   * False until a snapshot has loaded: the flag store was unreachable at start. Callers then serve the
   * code's defaults (fail safe); once loaded, the last snapshot is kept whatever happens to the store.
   */
  loaded(): boolean
  evaluate(key: string, context: EvaluationContext): Evaluation
  /** The flag's declared type (undefined: no such flag, or nothing loaded). */
  type(key: string): FlagType | undefined
  /** Calls back after every change of the rules in force; returns the unsubscribe. */
  onChange(listener: () => void): () => void
}
