/**
 * Feature flags as every door takes and shows them: a flag per environment with its variants, its ordered
 * targeting rules and percentage rollouts, named segments the rules reuse, and what an evaluation answers.
 * The evaluator (evaluate.ts) reads these shapes; it never validates them: what reaches it went through
 * here first (the service on write, the snapshot on load).
 */
import { z } from 'zod'
import { atLeastOneField } from '../input-rules.js'

/** Names of flags, variants and segments: they travel in URLs, files and metric labels. */
const NAME = /^[a-z0-9][a-z0-9._-]{0,99}$/
const name = (what: string) =>
  z
    .string()
    .trim()
    // Lower case: MariaDB compares without case, SQLite and PostgreSQL with it; one spelling keeps them alike.
    .toLowerCase()
    .regex(NAME, `a ${what} is letters, digits, ".", "_" and "-" (at most 100), starting with a letter or digit`)

export const flagKeySchema = name('flag key')
export const variantNameSchema = name('variant name')
export const segmentNameSchema = name('segment name')

export const flagTypeSchema = z.enum(['boolean', 'string', 'number', 'json'])
export type FlagType = z.infer<typeof flagTypeSchema>

/** Any JSON value: a `json` flag's variants. */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue }
/**
 * Checked by a plain walk rather than a recursive zod schema: the OpenAPI document states any JSON value as
 * one schema, where a recursive one would need definitions of its own that the document's components lack.
 */
export const jsonValueSchema = z.unknown().refine(isJsonValue, 'expected a JSON value') as unknown as z.ZodType<JsonValue>

function isJsonValue(value: unknown, depth = 0): boolean {
  if (depth > 32) return false
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return true
  if (typeof value === 'number') return Number.isFinite(value)
  if (Array.isArray(value)) return value.every((v) => isJsonValue(v, depth + 1))
  if (typeof value !== 'object' || Object.getPrototypeOf(value) !== Object.prototype) return false
  return Object.values(value).every((v) => isJsonValue(v, depth + 1))
}

export const variantSchema = z.object({ name: variantNameSchema, value: jsonValueSchema })
export type Variant = z.infer<typeof variantSchema>

/**
 * How a condition compares the context's attribute with its values. Every operator but `notIn` is false
 * when the attribute is absent. A list attribute (`permissions`, or a custom one) matches when any of its
 * elements does (`notIn`: when none does).
 */
export const conditionOperatorSchema = z.enum([
  'equals',
  'in',
  'notIn',
  'startsWith',
  'endsWith',
  'lt',
  'lte',
  'gt',
  'gte',
  'semverEq',
  'semverLt',
  'semverLte',
  'semverGt',
  'semverGte',
  'inCidr',
])
export type ConditionOperator = z.infer<typeof conditionOperatorSchema>

/**
 * The context attributes Gantry knows: `userId` is the targeting key (OpenFeature's `targetingKey`), and
 * `emailDomain` is derived from `email`. Any other name is a custom attribute the app passes.
 */
export const BUILTIN_ATTRIBUTES = ['userId', 'email', 'emailDomain', 'role', 'permissions', 'apiKeyId', 'ip'] as const
const ATTRIBUTE = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}$/
export const attributeSchema = z
  .string()
  .trim()
  .regex(ATTRIBUTE, 'an attribute is letters, digits, "_", "." and "-" (at most 64), starting with a letter or "_"')

export const conditionSchema = z.object({
  attribute: attributeSchema,
  operator: conditionOperatorSchema,
  /**
   * At least one; numbers, versions and CIDR blocks written as text, checked when the rule is saved. Never
   * empty: `startsWith ""` would hold for every value there is, and an empty attribute counts as absent.
   */
  values: z.array(z.string().min(1, 'a condition value is never empty').max(500)).min(1).max(1000),
})
export type Condition = z.infer<typeof conditionSchema>

/** The number of buckets a rollout divides its users into: a share is a whole number of them (0.001 %). */
export const ROLLOUT_BUCKETS = 100_000

/**
 * A percentage rollout: users are hashed into buckets 0–99,999 by MurmurHash3 of `flagKey:bucketingValue`;
 * each variant owns a contiguous range in declared order, `weight` buckets long (the weights add up to
 * 100,000). Growing the first variant's weight extends its range at its end, so everyone who had it keeps it.
 */
export const rolloutSchema = z.object({
  /** The attribute users are bucketed by (default userId, the targeting key). */
  by: attributeSchema.default('userId'),
  variants: z
    .array(z.object({ variant: variantNameSchema, weight: z.number().int().min(0).max(ROLLOUT_BUCKETS) }))
    .min(1)
    .max(100),
  /** Served when the context lacks the bucketing attribute (reason TARGETING_KEY_MISSING). */
  fallback: variantNameSchema,
})
export type Rollout = z.infer<typeof rolloutSchema>

/** What a matching rule serves: one variant, or a rollout across several. */
export const serveSchema = z.union([z.object({ variant: variantNameSchema }).strict(), z.object({ rollout: rolloutSchema }).strict()])
export type Serve = z.infer<typeof serveSchema>

/** A rule matches when every condition and every named segment does (no condition: everyone). */
export const ruleSchema = z.object({
  description: z.string().max(500).default(''),
  conditions: z.array(conditionSchema).max(50).default([]),
  segments: z.array(segmentNameSchema).max(20).default([]),
  serve: serveSchema,
})
export type Rule = z.infer<typeof ruleSchema>

/** What a flag is, as stored, exported and applied. */
export const flagDefinitionSchema = z.object({
  key: flagKeySchema,
  description: z.string().max(1000).default(''),
  type: flagTypeSchema,
  variants: z.array(variantSchema).min(1).max(100),
  /** Served when the flag is on and no rule matches. */
  defaultVariant: variantNameSchema,
  /** Served while the flag is off. */
  offVariant: variantNameSchema,
  enabled: z.boolean(),
  /** Checked in order; the first that matches decides. */
  rules: z.array(ruleSchema).max(100).default([]),
  /** A temporary flag shows as stale once older than the environment's flags.staleAfter; a permanent one never. */
  lifetime: z.enum(['temporary', 'permanent']).default('temporary'),
})
export type FlagDefinition = z.infer<typeof flagDefinitionSchema>

export const segmentDefinitionSchema = z.object({
  name: segmentNameSchema,
  description: z.string().max(1000).default(''),
  conditions: z.array(conditionSchema).min(1).max(50),
})
export type SegmentDefinition = z.infer<typeof segmentDefinitionSchema>

/** What evaluation reads: every flag and segment of the environment, and the version they were read at. */
export interface FlagSnapshot {
  readonly version: number
  readonly flags: readonly FlagDefinition[]
  readonly segments: readonly SegmentDefinition[]
}

/**
 * What an app knows about whom a flag is evaluated for. `userId` (or OpenFeature's `targetingKey`) is the
 * targeting key; every other attribute is matched by name. Values are strings, numbers, booleans or lists of strings.
 */
export type EvaluationContext = Readonly<Record<string, string | number | boolean | readonly string[] | null | undefined>>
export const evaluationContextSchema = z.record(
  attributeSchema,
  z.union([z.string().max(1000), z.number().finite(), z.boolean(), z.array(z.string().max(1000)).max(1000), z.null()]),
)

/**
 * Why a flag evaluated to what it did. The names are OpenFeature's resolution reasons, plus
 * TARGETING_KEY_MISSING (a rollout's rule matched a context without its bucketing attribute: the rule's
 * fallback variant is served) and FLAG_NOT_FOUND (the code's default is the caller's to use).
 */
export const evaluationReasonSchema = z.enum(['DISABLED', 'TARGETING_MATCH', 'SPLIT', 'DEFAULT', 'TARGETING_KEY_MISSING', 'FLAG_NOT_FOUND'])
export type EvaluationReason = z.infer<typeof evaluationReasonSchema>

export interface Evaluation {
  readonly key: string
  /** Undefined only with FLAG_NOT_FOUND. */
  readonly value: JsonValue | undefined
  readonly variant: string | undefined
  readonly reason: EvaluationReason
  /** The index of the deciding rule (0-based), for TARGETING_MATCH, SPLIT and TARGETING_KEY_MISSING. */
  readonly ruleIndex?: number | undefined
  /** SPLIT: the bucket (0–99,999) the context fell into. */
  readonly bucket?: number | undefined
}

// ---- What the doors take and show ------------------------------------------------------------------

/** A flag as lists and reads show it: its definition, who made it when, and whether it is due for removal. */
export const flagViewSchema = flagDefinitionSchema.extend({
  createdBy: z.string(),
  createdAt: z.string().describe('ISO 8601'),
  updatedAt: z.string().describe('ISO 8601'),
  /** A temporary flag older than flags.staleAfter: clean it up (remove it from the code, then here). */
  stale: z.boolean(),
})
export type FlagView = z.infer<typeof flagViewSchema>
export const flagListSchema = z.object({ data: z.array(flagViewSchema) })
// A query string says `true` or `false`; the local door passes a boolean.
export const flagListInputSchema = z.object({ stale: z.union([z.boolean(), z.stringbool()]).optional().describe('Only the stale flags') })
export type FlagListInput = z.input<typeof flagListInputSchema>

/** The fields a flag is created with and changed by, each optional: create fills the missing ones, update keeps them. */
const editableFlagFields = {
  description: z.string().max(1000).optional(),
  variants: z.array(variantSchema).min(1).max(100).optional(),
  defaultVariant: variantNameSchema.optional(),
  offVariant: variantNameSchema.optional(),
  enabled: z.boolean().optional(),
  rules: z.array(ruleSchema).max(100).optional(),
  lifetime: z.enum(['temporary', 'permanent']).optional(),
}

/**
 * A new flag. A boolean flag gets the variants `on` (true) and `off` (false) unless it names its own, and
 * starts off; another type names its variants, and both its default and off variant default to the first.
 */
export const createFlagInputSchema = z.object({ key: flagKeySchema, type: flagTypeSchema, ...editableFlagFields })
export type CreateFlagInput = z.input<typeof createFlagInputSchema>

/** The fields to change; the others stay. */
export const updateFlagInputSchema = atLeastOneField(z.object(editableFlagFields), 'name at least one field to change')
export type UpdateFlagInput = z.input<typeof updateFlagInputSchema>

/** A rule added at `position` (0-based; default: after the last). */
export const addRuleInputSchema = z.object({ rule: ruleSchema, position: z.number().int().min(0).optional() })
export type AddRuleInput = z.input<typeof addRuleInputSchema>
export const ruleIndexSchema = z
  .union([
    z.number(),
    z
      .string()
      .regex(/^\d{1,2}$/, 'a rule index is a whole number')
      .transform(Number),
  ])
  .pipe(z.number().int().min(0).max(99))

/** A share in percent with at most three decimals: a whole number of the 100,000 buckets. */
const percentSchema = z
  .number()
  .min(0)
  .max(100)
  .refine((p) => Math.abs(p * 1000 - Math.round(p * 1000)) < 1e-6, 'a share has at most three decimals')

/**
 * A percentage rollout, in percent (adding up to 100). It changes the rollout rule `rule` names, else the
 * last rule with no condition that serves a rollout, else adds one at the end (everyone the earlier rules
 * leave). Variants the rollout had keep their order, so their ranges keep their starts.
 */
export const rolloutInputSchema = z.object({
  split: z
    .array(z.object({ variant: variantNameSchema, percent: percentSchema }))
    .min(1)
    .max(100)
    .refine((split) => Math.round(split.reduce((sum, s) => sum + s.percent * 1000, 0)) === ROLLOUT_BUCKETS, 'the shares add up to 100%'),
  by: attributeSchema.optional(),
  fallback: variantNameSchema.optional(),
  rule: ruleIndexSchema.optional(),
})
export type RolloutInput = z.input<typeof rolloutInputSchema>

export const segmentViewSchema = segmentDefinitionSchema.extend({
  createdAt: z.string().describe('ISO 8601'),
  updatedAt: z.string().describe('ISO 8601'),
  /** The flags whose rules name it: it cannot be deleted while any does. */
  usedBy: z.array(z.string()),
})
export type SegmentView = z.infer<typeof segmentViewSchema>
export const segmentListSchema = z.object({ data: z.array(segmentViewSchema) })
export const setSegmentInputSchema = z.object({ description: z.string().max(1000).optional(), conditions: z.array(conditionSchema).min(1).max(50) })
export type SetSegmentInput = z.input<typeof setSegmentInputSchema>

/** The file `flags export` writes and `flags apply` reads: every flag and segment of an environment. */
export const flagsFileSchema = z.object({
  flags: z.array(flagDefinitionSchema).max(1000).default([]),
  segments: z.array(segmentDefinitionSchema).max(1000).default([]),
})
export type FlagsFile = z.infer<typeof flagsFileSchema>

export const applyFlagsInputSchema = z.object({
  file: flagsFileSchema,
  /** Say what would change, change nothing. */
  dryRun: z.boolean().default(false),
  /** Delete the flags and segments the file does not have. */
  prune: z.boolean().default(false),
})
export type ApplyFlagsInput = z.input<typeof applyFlagsInputSchema>

export const flagChangeSchema = z.object({
  kind: z.enum(['flag', 'segment']),
  name: z.string(),
  change: z.enum(['create', 'update', 'delete', 'unchanged']),
})
export type FlagChange = z.infer<typeof flagChangeSchema>
export const applyFlagsResultSchema = z.object({ dryRun: z.boolean(), version: z.number().int(), changes: z.array(flagChangeSchema) })
export type ApplyFlagsResult = z.infer<typeof applyFlagsResultSchema>

export const evaluationSchema = z.object({
  key: z.string(),
  value: jsonValueSchema.optional(),
  variant: z.string().optional(),
  reason: evaluationReasonSchema,
  ruleIndex: z.number().int().optional(),
  bucket: z.number().int().optional(),
})

/** One flag (`key`) or every flag, for one context. */
export const evaluateInputSchema = z.object({ key: flagKeySchema.optional(), context: evaluationContextSchema.default({}) })
export type EvaluateInput = z.input<typeof evaluateInputSchema>
export const evaluateResultSchema = z.object({ version: z.number().int(), data: z.array(evaluationSchema) })
export type EvaluateResult = z.infer<typeof evaluateResultSchema>

const conditionExplanationSchema = conditionSchema.extend({
  /** The context's value of the attribute; null when absent. */
  actual: z.union([z.string(), z.number(), z.boolean(), z.array(z.string())]).nullable(),
  valid: z.boolean(),
  held: z.boolean(),
})

/** Why a flag evaluates as it does for a context: every rule, with each condition's and segment's outcome. */
export const explainResultSchema = z.object({
  evaluation: evaluationSchema,
  explanation: z.object({
    key: z.string(),
    evaluation: evaluationSchema,
    enabled: z.boolean(),
    rules: z.array(
      z.object({
        index: z.number().int(),
        description: z.string(),
        valid: z.boolean(),
        matched: z.boolean(),
        conditions: z.array(conditionExplanationSchema),
        segments: z.array(z.object({ name: z.string(), found: z.boolean(), held: z.boolean(), conditions: z.array(conditionExplanationSchema) })),
      }),
    ),
  }),
})
export type ExplainResult = z.infer<typeof explainResultSchema>
export const explainInputSchema = z.object({ context: evaluationContextSchema.default({}) })
