import { randomBytes } from 'node:crypto'
import { inspect } from 'node:util'
import { expect } from 'chai'
import { open, parseDataKeys, seal, sealedKeyId, type DataKeyRing } from '../../../../src/core/encryption/data-keys.js'
import { rejection } from '../../../helpers/rejection.js'

const BINDING = 'webhook-endpoint:ep_123:secret'
/** What `openssl rand -base64 32` prints. */
const newKey = (): string => randomBytes(32).toString('base64')

function ring(value: string): DataKeyRing {
  const parsed = parseDataKeys(value)
  if (!parsed) throw new Error('expected a ring')
  return parsed
}

/** The error parseDataKeys throws for a value; fails when it parses. */
function refusal(value: string): Error & { code?: string; hint?: string } {
  try {
    parseDataKeys(value)
  } catch (err) {
    return err as Error & { code?: string; hint?: string }
  }
  throw new Error('expected parseDataKeys to throw')
}

/** The sealed value with one character of its ciphertext (the fourth segment) changed. */
function tampered(sealed: string): string {
  const parts = sealed.split('.')
  const ciphertext = parts[3]!
  parts[3] = (ciphertext[0] === 'A' ? 'B' : 'A') + ciphertext.slice(1)
  return parts.join('.')
}

describe('core/encryption: data keys', () => {
  it('reads no ring from an unset or blank variable', () => {
    expect(parseDataKeys(undefined)).to.equal(undefined)
    expect(parseDataKeys('')).to.equal(undefined)
    expect(parseDataKeys('  ')).to.equal(undefined)
  })

  it('seals and opens, naming the key and the row in the protected header but not the plaintext', async () => {
    const keys = ring(newKey())
    const sealed = await seal(keys, 'whsec_c2VjcmV0', BINDING)
    expect(sealed.split('.')).to.have.length(5)
    expect(sealed).to.not.include('c2VjcmV0')
    const header = JSON.parse(Buffer.from(sealed.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>
    expect(header).to.deep.equal({ alg: 'dir', enc: 'A256GCM', kid: keys.current.id, 'gantry:for': BINDING })
    expect(sealedKeyId(sealed)).to.equal(keys.current.id)
    expect(await open(keys, sealed, BINDING)).to.equal('whsec_c2VjcmV0')
  })

  it('rotates: the first key seals, and an older key later in the ring still opens what it sealed', async () => {
    const [older, newer] = [newKey(), newKey()]
    const before = ring(older)
    const sealedBefore = await seal(before, 'old secret', BINDING)
    const during = ring(`${newer}, ${older}`)
    expect(during.current.id).to.not.equal(before.current.id)
    expect(await open(during, sealedBefore, BINDING)).to.equal('old secret')
    const resealed = await seal(during, await open(during, sealedBefore, BINDING), BINDING)
    expect(sealedKeyId(resealed)).to.equal(during.current.id)
    expect(await open(ring(newer), resealed, BINDING)).to.equal('old secret')
  })

  it('refuses a value sealed with a key the ring does not hold, saying which key', async () => {
    const sealed = await seal(ring(newKey()), 'secret', BINDING)
    const err = await rejection(open(ring(newKey()), sealed, BINDING))
    expect(err.code).to.equal('ENCRYPTION_KEY_UNKNOWN')
    expect(err.message).to.include(sealedKeyId(sealed))
    expect((err as { hint?: string }).hint).to.include('GANTRY_ENCRYPTION_KEY')
  })

  it('refuses a value moved to another row', async () => {
    const keys = ring(newKey())
    const sealed = await seal(keys, 'secret', BINDING)
    const err = await rejection(open(keys, sealed, 'webhook-endpoint:ep_456:secret'))
    expect(err.code).to.equal('INTERNAL')
    expect(err.message).to.include('another row')
  })

  it('refuses a value whose header was rewritten to name another row (the header is authenticated)', async () => {
    const keys = ring(newKey())
    const sealed = await seal(keys, 'secret', BINDING)
    const header = JSON.parse(Buffer.from(sealed.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>
    const moved = [
      Buffer.from(JSON.stringify({ ...header, 'gantry:for': 'webhook-endpoint:ep_456:secret' })).toString('base64url'),
      ...sealed.split('.').slice(1),
    ]
    const err = await rejection(open(keys, moved.join('.'), 'webhook-endpoint:ep_456:secret'))
    expect(err.code).to.equal('INTERNAL')
  })

  it('refuses tampered ciphertext and garbage', async () => {
    const keys = ring(newKey())
    const sealed = await seal(keys, 'a secret long enough to have a ciphertext', BINDING)
    expect((await rejection(open(keys, tampered(sealed), BINDING))).code).to.equal('INTERNAL')
    expect((await rejection(open(keys, 'not a jwe', BINDING))).code).to.equal('INTERNAL')
    expect(() => sealedKeyId('not a jwe'))
      .to.throw()
      .with.property('code', 'INTERNAL')
  })

  it('refuses malformed keys with CONFIG_INVALID, saying which key and how to make one, never quoting it', () => {
    const good = newKey()
    const short = randomBytes(16).toString('base64')
    const long = randomBytes(48).toString('base64')
    const notBase64 = `${good.slice(0, 40)}!?*`
    const cases: Array<[string, string, RegExp]> = [
      [short, short, /Key 1 of 1 .*16 bytes, not 32/],
      [`${good},${long}`, long, /Key 2 of 2 .*48 bytes, not 32/],
      [notBase64, notBase64, /Key 1 of 1 .*not base64/],
      [`${good},`, good, /Key 2 of 2 .*empty/],
    ]
    for (const [value, key, message] of cases) {
      const err = refusal(value)
      expect(err.code, value).to.equal('CONFIG_INVALID')
      expect(err.message).to.match(message)
      expect(err.message).to.not.include('\n')
      expect(err.hint).to.include('openssl rand -base64 32')
      expect(`${err.message} ${err.hint}`).to.not.include(key.slice(0, 8))
      expect(inspect(err)).to.not.include(key.slice(0, 8))
    }
  })

  it('accepts base64url and unpadded keys, the same key giving the same id', () => {
    const bytes = randomBytes(32)
    const ids = [bytes.toString('base64'), bytes.toString('base64url'), bytes.toString('base64').replace(/=$/, '')].map((v) => ring(v).current.id)
    expect(new Set(ids).size).to.equal(1)
  })

  it('names each key by a short id that is stable, distinct per key and reveals nothing of it', () => {
    const key = newKey()
    const { id } = ring(key).current
    expect(id).to.match(/^[A-Za-z0-9_-]{12}$/)
    expect(ring(key).current.id).to.equal(id)
    expect(ring(newKey()).current.id).to.not.equal(id)
    const bytes = Buffer.from(key, 'base64')
    expect(bytes.toString('base64url')).to.not.include(id)
    expect(key).to.not.include(id)
  })

  it('shows no key material when a ring is logged', () => {
    const key = newKey()
    const shown = inspect(ring(key), { depth: 10 })
    expect(shown).to.not.include(key.slice(0, 8))
    expect(shown).to.not.include(Buffer.from(key, 'base64').toString('hex').slice(0, 8))
  })
})
