/**
 * Rules across an input's fields (src/core/input-rules.ts), declared once: zod refuses what they refuse,
 * with the error each declares, and the JSON Schema the OpenAPI document states for them (read by a JSON
 * Schema 2020-12 validator) accepts exactly what zod accepts, over every combination of the fields a rule
 * is about.
 */
import { Ajv2020 } from 'ajv/dist/2020.js'
import { expect } from 'chai'
import { z } from 'zod'
import { OPERATIONS } from '../../../src/admin/operations/index.js'
import { isGantryError, type GantryError } from '../../../src/core/errors.js'
import { objectRules } from '../../../src/core/input-rules.js'
import { parseInput } from '../../../src/core/pagination.js'
import { overrideInputSchema } from '../../../src/core/ratelimits/ratelimits.schema.js'
import { createUserInputSchema, setPasswordInputSchema, updateUserInputSchema } from '../../../src/core/users/users.schema.js'

const PASSWORD = 'plenty long passphrase 1'

function refusal(schema: z.ZodType, input: unknown): GantryError | undefined {
  try {
    parseInput(schema, input)
    return undefined
  } catch (err) {
    if (!isGantryError(err)) throw err
    return err
  }
}

/** The schema as the OpenAPI document writes a body: zod's JSON Schema, unknown fields refused, the object's rules added. */
function documented(schema: z.ZodObject): Record<string, unknown> {
  const json = z.toJSONSchema(schema.strict(), { io: 'input' }) as Record<string, unknown>
  delete json.$schema
  return { ...json, ...objectRules.get(schema)?.jsonSchema() }
}

/** Every object made of `base` and any choice of each field's values (undefined: left out). */
function combinations(base: Record<string, unknown>, fields: Record<string, readonly unknown[]>): Record<string, unknown>[] {
  let all = [base]
  for (const [name, values] of Object.entries(fields)) {
    all = all.flatMap((partial) => [undefined, ...values].map((value) => (value === undefined ? partial : { ...partial, [name]: value })))
  }
  return all
}

describe('core: rules across input fields', () => {
  const ajv = new Ajv2020({ strict: false, validateFormats: false })

  const rules: [string, z.ZodObject, Record<string, unknown>, Record<string, readonly unknown[]>][] = [
    ['users create', createUserInputSchema, { email: 'ada@example.com' }, { password: [PASSWORD], generatePassword: [true, false] }],
    ['users set-password', setPasswordInputSchema, {}, { password: [PASSWORD], generatePassword: [true, false] }],
    ['users update', updateUserInputSchema, {}, { name: ['Ada'], role: ['viewer'] }],
    ['ratelimit override', overrideInputSchema, { subject: 'ip:203.0.113.7' }, { limit: [5], window: ['1m'], block: [true, false] }],
  ]
  for (const [name, schema, base, fields] of rules) {
    it(`${name}: the document's JSON Schema accepts exactly what the server's schema does`, () => {
      expect(objectRules.has(schema), 'its rules are stated').to.equal(true)
      const validate = ajv.compile(documented(schema))
      const verdicts = combinations(base, fields).map((input) => ({ input, server: schema.safeParse(input).success, document: validate(input) }))
      expect(verdicts.filter((v) => v.server !== v.document)).to.deep.equal([])
      expect(verdicts.some((v) => v.server) && verdicts.some((v) => !v.server), 'the combinations try both sides of the rule').to.equal(true)
    })
  }

  it("every operation's input object with a check across its fields states it (made with input-rules.ts, not .refine)", () => {
    const unstated = Object.entries(OPERATIONS).filter(([, op]) => {
      const input = op.input
      return input instanceof z.ZodObject && (input._zod.def.checks ?? []).length > 0 && !objectRules.has(input)
    })
    expect(unstated.map(([name]) => name)).to.deep.equal([])
  })

  it('a password or generatePassword: neither is MISSING_INPUT naming both fields, both INVALID_INPUT; either alone passes', () => {
    for (const [schema, base] of [
      [createUserInputSchema, { email: 'ada@example.com' }],
      [setPasswordInputSchema, {}],
    ] as const) {
      const missing = refusal(schema, base)
      expect(missing?.code).to.equal('MISSING_INPUT')
      expect(missing?.message).to.equal('A password is needed: give one, or ask for one to be generated.')
      expect(missing?.details).to.deep.include({ fields: ['password', 'generatePassword'], reason: 'password-missing' })
      expect(refusal(schema, { ...base, generatePassword: false })?.code).to.equal('MISSING_INPUT')
      const both = refusal(schema, { ...base, password: PASSWORD, generatePassword: true })
      expect(both?.code).to.equal('INVALID_INPUT')
      expect(both?.message).to.equal('Give a password or ask for a generated one, not both.')
      expect(refusal(schema, { ...base, password: PASSWORD })).to.equal(undefined)
      expect(refusal(schema, { ...base, generatePassword: true })).to.equal(undefined)
    }
    // A field's own problem comes first: the rule is judged on input whose fields are good.
    expect(refusal(createUserInputSchema, { email: 'not-an-email' })?.message).to.equal('email: not a valid email address.')
  })

  it('an override takes a limit with a window, or a block: each broken half named by its field', () => {
    const subject = 'ip:203.0.113.7'
    expect(refusal(overrideInputSchema, { subject, limit: 5, block: true })?.details?.issues).to.deep.include({
      path: 'limit',
      message: 'an override takes a limit (with a window) or block, not both',
    })
    expect(refusal(overrideInputSchema, { subject, limit: 5 })?.message).to.equal('window: an override with a limit needs a window.')
    expect(refusal(overrideInputSchema, { subject, limit: 5, window: '1m' })).to.equal(undefined)
    expect(refusal(overrideInputSchema, { subject, block: true })).to.equal(undefined)
  })

  it('an update needs something to change', () => {
    expect(refusal(updateUserInputSchema, {})?.message).to.equal('nothing to change: give a new email, name or role.')
    expect(refusal(updateUserInputSchema, { name: 'Ada' })).to.equal(undefined)
  })
})
