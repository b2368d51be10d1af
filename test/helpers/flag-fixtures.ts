/**
 * The flag pieces several flags test files write alike: a boolean flag's variants and what it is created
 * with, the rule the new-checkout flag of these tests starts with, and a rollout between `on` and `off` as
 * the service takes it (a split in percent) and as it stores it (weights in buckets).
 */
import type { z } from 'zod'
import type { FlagView, Serve, Variant, flagDefinitionSchema, ruleSchema } from '../../src/core/flags/flags.schema.js'

/** A flag as a file or the CLI writes it (the schema fills the defaults). */
export type FlagInput = z.input<typeof flagDefinitionSchema>

/** A boolean flag's variants: `on` (true) and `off` (false). */
export const ON_OFF: Variant[] = [
  { name: 'on', value: true },
  { name: 'off', value: false },
]

/** What a boolean flag is created with when nothing but its key and type is given: on/off, serving `on` once switched on, switched off, no rules. */
export const NEW_BOOLEAN_FLAG: Pick<FlagView, 'type' | 'variants' | 'defaultVariant' | 'offVariant' | 'enabled' | 'rules'> = {
  type: 'boolean',
  variants: ON_OFF,
  defaultVariant: 'on',
  offVariant: 'off',
  enabled: false,
  rules: [],
}

/** A boolean flag that is switched on and serves `off` unless a rule or `overrides` say otherwise. */
export function booleanFlag(key: string, overrides: Partial<FlagInput> = {}): FlagInput {
  return { key, type: 'boolean', variants: ON_OFF, defaultVariant: 'off', offVariant: 'off', enabled: true, ...overrides }
}

/** The rule new-checkout starts with in these tests: `on` for the roles admin and operator. */
export const ADMINS_AND_OPERATORS: z.input<typeof ruleSchema> = {
  conditions: [{ attribute: 'role', operator: 'in', values: ['admin', 'operator'] }],
  serve: { variant: 'on' },
}

/** A rollout's shares as the service takes them (`rollout --percent`): `on` then `off`, in percent. */
export const onOffSplit = (on: number, off: number): Array<{ variant: string; percent: number }> => [
  { variant: 'on', percent: on },
  { variant: 'off', percent: off },
]

/**
 * A rollout as stored: `on` for the first `on` buckets (of 100,000), `off` for the next `off`; bucketed by
 * userId and falling back to `off` for a context without it, unless told otherwise.
 */
export const onOffRollout = (on: number, off: number, { by = 'userId', fallback = 'off' }: { by?: string; fallback?: string } = {}): Serve => ({
  rollout: {
    by,
    variants: [
      { variant: 'on', weight: on },
      { variant: 'off', weight: off },
    ],
    fallback,
  },
})
