import { expect } from 'chai'
import { GantryError } from '../../../src/core/errors.js'
import { durationSchema as configDuration } from '../../../src/config/schema.js'
import { durationSchema, formatDuration, parseDuration } from '../../../src/core/duration.js'

describe('core/duration', () => {
  it('parses a whole number and a unit', () => {
    expect([parseDuration('500ms'), parseDuration('30s'), parseDuration('15m'), parseDuration('24h'), parseDuration('90d')]).to.deep.equal([
      500, 30_000, 900_000, 86_400_000, 7_776_000_000,
    ])
    expect(() => parseDuration('soon')).to.throw(GantryError)
    expect(() => parseDuration('1.5h')).to.throw(GantryError)
  })

  it('writes ms back in the largest unit that divides them, the inverse of parseDuration', () => {
    expect([60_000, 90_000, 3_600_000, 86_400_000, 1_500, 0].map(formatDuration)).to.deep.equal(['1m', '90s', '1h', '1d', '1500ms', '0ms'])
    for (const text of ['1s', '15m', '2h', '7d', '250ms']) expect(formatDuration(parseDuration(text))).to.equal(text)
  })

  it('refuses a duration over 100 years, as a one-line error, never a time a Date cannot hold', () => {
    expect(parseDuration('36525d')).to.equal(36_525 * 86_400_000)
    for (const text of ['36526d', '104000000d', '9999999999999h']) {
      const err = (() => {
        try {
          parseDuration(text)
        } catch (e) {
          return e
        }
        return undefined
      })()
      expect(err, text).to.be.instanceOf(GantryError)
      expect((err as GantryError).message, text).to.include('100 years')
      expect(durationSchema.safeParse(text).success, text).to.equal(false)
      expect(configDuration.safeParse(text).success, `config ${text}`).to.equal(false)
    }
    expect(durationSchema.safeParse('90d').success).to.equal(true)
    expect(configDuration.safeParse('90d').success).to.equal(true)
  })
})
