import { crc32 } from 'node:zlib'
import { expect } from 'chai'
import { generateApiKey, hashSecret, KEY_ID_LENGTH, parseApiKey, SECRET_LENGTH, verifySecret } from '../../../../src/core/apikeys/apikey-format.js'
import { BASE62_ALPHABET, encodeBase62 } from '../../../../src/core/apikeys/base62.js'
import { GantryError } from '../../../../src/core/errors.js'

/** The code a call throws (fails when it returns). */
function codeOf(fn: () => unknown): string {
  try {
    fn()
  } catch (err) {
    expect(err).to.be.instanceOf(GantryError)
    return (err as GantryError).code
  }
  throw new Error('expected a GantryError')
}

/** A key with a valid check for any body, to probe the parser's charset rules without the check in the way. */
const withCheck = (body: string) => body + encodeBase62(crc32(body), 6)

describe('core/apikeys: key format', () => {
  it('generates gk_<env>_<id>_<secret><check> and parses it back', () => {
    const { key, keyId, secretHash } = generateApiKey('production')
    expect(key).to.match(new RegExp(`^gk_production_[0-9A-Za-z]{${KEY_ID_LENGTH}}_[0-9A-Za-z]{${SECRET_LENGTH + 6}}$`))
    const parsed = parseApiKey(key)
    expect(parsed.env).to.equal('production')
    expect(parsed.keyId).to.equal(keyId)
    expect(parsed.secret).to.have.length(SECRET_LENGTH)
    expect(key).to.include(parsed.secret)
    expect(hashSecret(parsed.secret)).to.equal(secretHash)
    expect(secretHash).to.match(/^[0-9a-f]{64}$/)
    expect(secretHash).not.to.include(parsed.secret)
  })

  it('accepts environment names with digits and dashes', () => {
    for (const env of ['qa', 'eu-west-1', 'x', '2026', 'a'.repeat(40)]) expect(parseApiKey(generateApiKey(env).key).env).to.equal(env)
  })

  it('has at least 190 bits in the secret and distinct ids and secrets', () => {
    expect(SECRET_LENGTH * Math.log2(62)).to.be.at.least(190)
    const keys = Array.from({ length: 200 }, () => parseApiKey(generateApiKey('dev').key))
    expect(new Set(keys.map((k) => k.keyId)).size).to.equal(200)
    expect(new Set(keys.map((k) => k.secret)).size).to.equal(200)
  })

  it('refuses an environment outside [a-z0-9-] when generating', () => {
    for (const env of ['', 'Prod', 'my_env', 'qa.1', 'a'.repeat(41), 'é'])
      expect(
        codeOf(() => generateApiKey(env)),
        env,
      ).to.equal('INVALID_INPUT')
  })

  it('catches every single-character substitution anywhere in a key', () => {
    const alphabet = `${BASE62_ALPHABET}_-`
    for (let round = 0; round < 5; round++) {
      const { key } = generateApiKey('staging')
      let tried = 0
      for (let i = 0; i < key.length; i++) {
        for (const c of alphabet) {
          if (c === key[i]) continue
          const typo = key.slice(0, i) + c + key.slice(i + 1)
          expect(
            codeOf(() => parseApiKey(typo)),
            typo,
          ).to.equal('APIKEY_INVALID')
          tried++
        }
      }
      expect(tried).to.equal(key.length * (alphabet.length - 1))
    }
  })

  it('catches swapped neighbours, a dropped and a doubled character', () => {
    const { key } = generateApiKey('dev')
    for (let i = 0; i < key.length - 1; i++) {
      if (key[i] === key[i + 1]) continue
      const swapped = key.slice(0, i) + key[i + 1] + key[i] + key.slice(i + 2)
      expect(
        codeOf(() => parseApiKey(swapped)),
        swapped,
      ).to.equal('APIKEY_INVALID')
    }
    for (let i = 0; i < key.length; i++) {
      expect(codeOf(() => parseApiKey(key.slice(0, i) + key.slice(i + 1)))).to.equal('APIKEY_INVALID')
      expect(codeOf(() => parseApiKey(key.slice(0, i) + key[i] + key.slice(i)))).to.equal('APIKEY_INVALID')
    }
  })

  it('refuses truncated keys and keys with extra text', () => {
    const { key } = generateApiKey('dev')
    for (let n = 0; n < key.length; n++) expect(codeOf(() => parseApiKey(key.slice(0, n)))).to.equal('APIKEY_INVALID')
    for (const extra of [`${key} `, ` ${key}`, `${key}\n`, `${key}x`, `Bearer ${key}`]) expect(codeOf(() => parseApiKey(extra))).to.equal('APIKEY_INVALID')
  })

  it('refuses a wrong prefix, a bad env charset, and bad id or secret characters even with a matching check', () => {
    const id = 'A'.repeat(KEY_ID_LENGTH)
    const secret = 'b'.repeat(SECRET_LENGTH)
    expect(parseApiKey(withCheck(`gk_dev_${id}_${secret}`)).keyId).to.equal(id)
    const bodies = [
      `gx_dev_${id}_${secret}`,
      `GK_dev_${id}_${secret}`,
      `gk__${id}_${secret}`,
      `gk_Dev_${id}_${secret}`,
      `gk_my_env_${id}_${secret}`,
      `gk_d.v_${id}_${secret}`,
      `gk_${'a'.repeat(41)}_${id}_${secret}`,
      `gk_dev_${id.slice(1)}-_${secret}`,
      `gk_dev_${id}_${secret.slice(1)}+`,
      `gk_dev_${id}x_${secret}`,
      `gk_dev_${id}_${secret}x`,
      `gk_dev_${id}_${secret.slice(1)}`,
    ]
    for (const body of bodies)
      expect(
        codeOf(() => parseApiKey(withCheck(body))),
        body,
      ).to.equal('APIKEY_INVALID')
  })

  it('refuses a key whose check is not the CRC32 of the rest, and very long input', () => {
    const { key } = generateApiKey('dev')
    expect(codeOf(() => parseApiKey(key.slice(0, -6) + '000000'))).to.equal('APIKEY_INVALID')
    expect(codeOf(() => parseApiKey('zzzzzz'.repeat(100)))).to.equal('APIKEY_INVALID')
    expect(codeOf(() => parseApiKey(''))).to.equal('APIKEY_INVALID')
  })

  it('never puts the key or any part of it into the error', () => {
    const { key } = generateApiKey('dev')
    const typo = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a')
    try {
      parseApiKey(typo)
      expect.fail('should throw')
    } catch (err) {
      const text = JSON.stringify({ message: (err as GantryError).message, hint: (err as GantryError).hint, details: (err as GantryError).details })
      expect(text).not.to.include(typo.slice(3, 20))
      expect(text).not.to.include(parseApiKey(key).secret.slice(0, 8))
    }
  })

  it('verifies a secret against its stored hash, and nothing else', () => {
    const { key, secretHash } = generateApiKey('dev')
    const { secret } = parseApiKey(key)
    expect(verifySecret(secret, secretHash)).to.equal(true)
    expect(verifySecret(secret.slice(1), secretHash)).to.equal(false)
    expect(verifySecret(secret, hashSecret('other'))).to.equal(false)
    expect(verifySecret(secret, secretHash.toUpperCase())).to.equal(false)
    expect(verifySecret(secret, secretHash.slice(2))).to.equal(false)
    expect(verifySecret(secret, '')).to.equal(false)
    expect(verifySecret(secret, 'zz'.repeat(32))).to.equal(false)
  })
})
