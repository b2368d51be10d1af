/**
 * Rules across the fields of an input object — exactly one of several shapes (a password given, or one
 * generated), a field that needs another, at least one field — declared once, in zod: parsing checks them,
 * and the OpenAPI document states them (`oneOf`, `dependentRequired`, `minProperties`) from the same
 * declaration, so the server and its description cannot disagree. A refusal is a zod issue that parseInput
 * turns into the error declared here.
 */
import { z } from 'zod'
import type { ErrorCode } from './errors.js'

type JsonSchema = Record<string, unknown>

/** One shape the input may take: the fields that make it that shape, as a zod object (the object's own schema types the rest). */
export interface InputCase {
  /** What the case is, for people (its `oneOf` entry's title). */
  readonly title: string
  readonly schema: z.ZodObject
}

/** What a broken rule answers: the error (INVALID_INPUT unless said), its message, the field it is about and the error's details. */
export interface RuleRefusal {
  readonly code?: ErrorCode
  readonly message: string
  readonly path?: readonly string[]
  readonly details?: Readonly<Record<string, unknown>>
}

/** The key of a zod issue's `params` that holds the refusal parseInput throws. */
export const REFUSAL_PARAM = 'gantryRefusal'

/** The JSON Schema keywords each object schema made here adds to its own: the OpenAPI generator merges them in. */
export const objectRules = z.registry<{ readonly jsonSchema: () => JsonSchema }>()

/**
 * The object, refusing input that takes none or more than one of the `cases` (`refuse` words why, from the
 * parsed value); its JSON Schema gains `oneOf` with each case.
 */
export function exactlyOneOf<T extends z.ZodObject>(schema: T, cases: readonly InputCase[], refuse: (value: z.output<T>) => RuleRefusal): T {
  return ruled(
    schema,
    (value) => (cases.filter((c) => c.schema.safeParse(value).success).length === 1 ? undefined : refuse(value)),
    () => ({ oneOf: cases.map((c) => ({ title: c.title, ...caseSchema(c.schema) })) }),
  )
}

/** The object, refusing input that has `field` without each of `needs`; its JSON Schema gains `dependentRequired`. */
export function requiredWith<T extends z.ZodObject>(
  schema: T,
  field: keyof T['shape'] & string,
  needs: readonly (keyof T['shape'] & string)[],
  refusal: RuleRefusal,
): T {
  return ruled(
    schema,
    (value) => {
      const fields = value as Record<string, unknown>
      return fields[field] !== undefined && needs.some((need) => fields[need] === undefined) ? refusal : undefined
    },
    () => ({ dependentRequired: { [field]: [...needs] } }),
  )
}

/** The object, refusing input without any of its fields; its JSON Schema gains `minProperties: 1`. */
export function atLeastOneField<T extends z.ZodObject>(schema: T, message: string): T {
  const fields = Object.keys(schema.shape)
  return ruled(
    schema,
    (value) => (fields.some((field) => (value as Record<string, unknown>)[field] !== undefined) ? undefined : { message }),
    () => ({ minProperties: 1 }),
  )
}

/** The schema with a check of its parsed value, and the check's JSON Schema added to those of its earlier rules. */
function ruled<T extends z.ZodObject>(schema: T, broken: (value: z.output<T>) => RuleRefusal | undefined, jsonSchema: () => JsonSchema): T {
  const checked = schema.check((ctx) => {
    const refusal = broken(ctx.value)
    if (refusal) {
      ctx.issues.push({ code: 'custom', message: refusal.message, input: ctx.value, path: [...(refusal.path ?? [])], params: { [REFUSAL_PARAM]: refusal } })
    }
  })
  const earlier = objectRules.get(schema)?.jsonSchema
  objectRules.add(checked, { jsonSchema: () => ({ ...earlier?.(), ...jsonSchema() }) })
  return checked
}

/** A case as a `oneOf` entry: its fields' constraints, as a request sends them (no `$schema`, nothing said of other fields). */
function caseSchema(schema: z.ZodObject): JsonSchema {
  const json = z.toJSONSchema(schema, { io: 'input' }) as JsonSchema
  return Object.fromEntries(Object.entries(json).filter(([keyword]) => keyword !== '$schema' && keyword !== 'additionalProperties'))
}
