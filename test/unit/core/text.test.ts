import { expect } from 'chai'
import type { z } from 'zod'
import { createApiKeyInputSchema } from '../../../src/core/apikeys/apikeys.schema.js'
import { isGantryError } from '../../../src/core/errors.js'
import { parseInput } from '../../../src/core/pagination.js'
import { createRoleInputSchema, updateRoleInputSchema } from '../../../src/core/roles/roles.schema.js'
import { findControlCharacter } from '../../../src/core/text.js'
import { createUserInputSchema, updateUserInputSchema } from '../../../src/core/users/users.schema.js'
import { localActor } from '../../../src/local-actor.js'

const codes = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i)
/** C0 (TAB, CR, LF included), DEL, C1, the bidi embeddings and overrides, the bidi isolates. */
const REFUSED = [...codes(0x00, 0x1f), ...codes(0x7f, 0x9f), ...codes(0x202a, 0x202e), ...codes(0x2066, 0x2069)]
const hex = (code: number): string => code.toString(16).toUpperCase().padStart(4, '0')

/** The one-line message parseInput gives for `input`, or undefined when it passes. */
function refusal(schema: z.ZodType, input: unknown): string | undefined {
  try {
    parseInput(schema, input)
    return undefined
  } catch (err) {
    if (!isGantryError(err) || err.code !== 'INVALID_INPUT') throw err
    return err.message
  }
}

describe('core: plain text (names, descriptions, GANTRY_ACTOR)', () => {
  it('finds every control character and bidi override, with where it is', () => {
    for (const code of REFUSED) expect(findControlCharacter(`ab${String.fromCharCode(code)}c`), hex(code)).to.equal(`U+${hex(code)} at character 3`)
    for (const fine of ['Ada Lovelace', 'Zoë 李 🚀', 'a\u00a0b', 'rtl mark \u200f', '', 'x'.repeat(500)])
      expect(findControlCharacter(fine), fine).to.equal(undefined)
  })

  const fields: ReadonlyArray<[string, z.ZodType, (text: string) => unknown, string]> = [
    ['users create: name', createUserInputSchema, (name) => ({ email: 'ada@example.com', name, generatePassword: true }), 'name'],
    ['users update: name', updateUserInputSchema, (name) => ({ name }), 'name'],
    ['apikeys create: name', createApiKeyInputSchema, (name) => ({ name, owner: 'ada@example.com' }), 'name'],
    ['roles create: description', createRoleInputSchema, (description) => ({ name: 'support', description, permissions: ['users:read'] }), 'description'],
    ['roles update: description', updateRoleInputSchema, (description) => ({ description }), 'description'],
  ]
  for (const [title, schema, input, field] of fields) {
    it(`${title}: each refused character is INVALID_INPUT naming the field; printable text passes`, () => {
      for (const code of REFUSED) {
        expect(refusal(schema, input(`deploy${String.fromCharCode(code)}bot`)), hex(code)).to.equal(
          `${field}: contains a control character (U+${hex(code)} at character 7): use printable text only.`,
        )
      }
      expect(refusal(schema, input('Déploiement – 李 🚀'))).to.equal(undefined)
    })
  }

  it('GANTRY_ACTOR with a control character is refused, naming the variable; a plain one is appended', () => {
    expect(localActor({ GANTRY_ACTOR: 'ci-job 42' })).to.match(/^local:.+@.+ \(ci-job 42\)$/)
    expect(localActor({})).to.match(/^local:[^ ]+@[^ ]+$/)
    for (const code of REFUSED) {
      expect(() => localActor({ GANTRY_ACTOR: `job${String.fromCharCode(code)}` }), hex(code))
        .to.throw(`GANTRY_ACTOR contains a control character (U+${hex(code)} at character 4).`)
        .with.property('code', 'INVALID_INPUT')
    }
  })
})
