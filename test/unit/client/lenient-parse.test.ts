import { expect } from 'chai'
import { z } from 'zod'
import { oneLine, parseLeniently } from '../../../src/client/lenient-parse.js'
import { GantryError } from '../../../src/core/errors.js'

const user = z.object({ email: z.string(), role: z.object({ name: z.string() }) })
const page = z.object({ data: z.array(user), nextCursor: z.string().nullable() })

describe('lenient parsing of answers', () => {
  it('drops unknown fields at every depth (an older CLI, a newer server)', () => {
    const body = { data: [{ email: 'a@x', role: { name: 'admin', since: 1 }, avatar: 'x' }], nextCursor: null, total: 9 }
    expect(parseLeniently(page, body, 'The answer')).to.deep.equal({ data: [{ email: 'a@x', role: { name: 'admin' } }], nextCursor: null })
  })

  it('drops unknown fields even where the schema is strict, without touching the input', () => {
    const strict = z.strictObject({ a: z.number(), inner: z.strictObject({ b: z.string() }), list: z.array(z.strictObject({ c: z.boolean() })) })
    const body = { a: 1, extra: true, inner: { b: 'x', more: 2 }, list: [{ c: true, d: 1 }, { c: false }] }
    expect(parseLeniently(strict, body, 'The answer')).to.deep.equal({ a: 1, inner: { b: 'x' }, list: [{ c: true }, { c: false }] })
    expect(body.extra).to.equal(true)
  })

  it('refuses a body that does not match: SERVER_ERROR, one line, naming the field', () => {
    const body = { data: [{ email: 42, role: { name: 'admin' } }], nextCursor: null, unknown: { x: 1 } }
    try {
      parseLeniently(page, body, 'The answer to GET http://h/api/v1/admin/users')
      expect.fail('parsed')
    } catch (err) {
      expect(err).to.be.instanceOf(GantryError)
      const e = err as GantryError
      expect(e.code).to.equal('SERVER_ERROR')
      expect(e.exit).to.equal(3)
      expect(e.message).to.match(/^The answer to GET http:\/\/h\/api\/v1\/admin\/users does not match what this CLI expects: data\.0\.email: /)
      expect(e.message).to.not.include('\n')
    }
  })

  it('an empty answer where a body was expected is a mismatch too', () => {
    expect(() => parseLeniently(page, undefined, 'The answer')).to.throw(GantryError, /\(the body\)/)
  })

  it('oneLine flattens whitespace and bounds the length', () => {
    expect(oneLine('a\n  b\tc')).to.equal('a b c')
    expect(oneLine('x'.repeat(400), 10)).to.have.length(10)
  })
})
