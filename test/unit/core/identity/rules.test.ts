import bcrypt from 'bcryptjs'
import { expect } from 'chai'
import { resolveTimeBound, timeBoundSchema } from '../../../../src/core/audit/audit.schema.js'
import { decodeCursor, encodeCursor, toPage } from '../../../../src/core/pagination.js'
import { covers, hasPermission, permissionSchema } from '../../../../src/core/roles/permissions.js'
import { checkPassword, passwordPolicy } from '../../../../src/core/users/password-policy.js'
import { argon2Hasher, parseArgon2 } from '../../../../src/core/users/passwords.js'
import { emailSchema } from '../../../../src/core/users/users.schema.js'

const code = (fn: () => unknown): string | undefined => {
  try {
    fn()
  } catch (err) {
    return (err as { code?: string }).code
  }
  return undefined
}

describe('identity rules (unit)', () => {
  it('permissions: * and resource/action wildcards', () => {
    expect(covers('*', 'users:write')).to.equal(true)
    expect(covers('users:*', 'users:write')).to.equal(true)
    expect(covers('*:read', 'audit:read')).to.equal(true)
    expect(covers('*:read', 'audit:write')).to.equal(false)
    expect(covers('users:read', 'users:write')).to.equal(false)
    expect(covers('users:read', 'users:read')).to.equal(true)
    expect(hasPermission(['*:read', 'ratelimits:write'], 'ratelimits:write')).to.equal(true)
    expect(hasPermission([], 'users:read')).to.equal(false)
    for (const ok of ['*', 'users:read', '*:read', 'users:*', 'rate-limits:write']) expect(permissionSchema.safeParse(ok).success, ok).to.equal(true)
    for (const bad of ['users', 'Users:read', 'users:read:x', '**', '', ':read', 'users:']) expect(permissionSchema.safeParse(bad).success, bad).to.equal(false)
  })

  it('cursors round-trip; foreign ones are INVALID_INPUT; toPage keeps limit rows and says whether more exist', () => {
    expect(decodeCursor(encodeCursor(42))).to.equal(42)
    expect(decodeCursor(undefined)).to.equal(undefined)
    expect(code(() => decodeCursor('bm9wZQ'))).to.equal('INVALID_INPUT')
    expect(code(() => decodeCursor(Buffer.from('{"id":-1}').toString('base64url')))).to.equal('INVALID_INPUT')
    const rows = [{ id: 1 }, { id: 2 }, { id: 3 }]
    expect(toPage(rows, 2, (r) => r.id)).to.deep.equal({ data: [1, 2], nextCursor: encodeCursor(2) })
    expect(toPage(rows, 3, (r) => r.id)).to.deep.equal({ data: [1, 2, 3], nextCursor: null })
  })

  it('emails are trimmed, lower-cased and validated', () => {
    expect(emailSchema.parse('  Ada@Example.COM\t')).to.equal('ada@example.com')
    expect(emailSchema.safeParse('nope').success).to.equal(false)
    expect(emailSchema.safeParse(`${'a'.repeat(250)}@x.io`).success).to.equal(false)
  })

  it('password policy: length in code points, common list, hard max, configurable minimum capped at 64', () => {
    const policy = passwordPolicy()
    expect(code(() => checkPassword('elevenchars', policy))).to.equal('PASSWORD_POLICY')
    expect(code(() => checkPassword('twelve chars', policy))).to.equal(undefined)
    expect(code(() => checkPassword('QWERTYUIOP123', policy))).to.equal('PASSWORD_POLICY')
    expect(code(() => checkPassword('🔑'.repeat(12), policy))).to.equal(undefined)
    expect(code(() => checkPassword('z'.repeat(128), policy))).to.equal(undefined)
    expect(code(() => checkPassword('z'.repeat(129), policy))).to.equal('PASSWORD_POLICY')
    expect(passwordPolicy({ minLength: 100 }).minLength).to.equal(64)
  })

  it('hasher: argon2id with explicit OWASP parameters; bcrypt and weaker argon2 verify and need a re-hash', async function () {
    this.timeout(10_000)
    const hasher = argon2Hasher()
    const hash = await hasher.hash('some long passphrase')
    expect(parseArgon2(hash)).to.deep.equal({ variant: 'argon2id', m: 19456, t: 2, p: 1 })
    expect(await hasher.verify(hash, 'some long passphrase')).to.deep.equal({ ok: true, needsRehash: false })
    expect(await hasher.verify(hash, 'another passphrase')).to.deep.equal({ ok: false, needsRehash: false })
    const old = await bcrypt.hash('some long passphrase', 4)
    expect(await hasher.verify(old, 'some long passphrase')).to.deep.equal({ ok: true, needsRehash: true })
    expect(await hasher.verify(old.replace('$2b$', '$2a$'), 'some long passphrase')).to.deep.equal({ ok: true, needsRehash: true })
    const weak = await argon2Hasher({ memoryCost: 4096, timeCost: 1, parallelism: 1 }).hash('x passphrase')
    expect(await hasher.verify(weak, 'x passphrase')).to.deep.equal({ ok: true, needsRehash: true })
    expect(await hasher.verify('plain text', 'plain text')).to.deep.equal({ ok: false, needsRehash: false })
  })

  it('audit time bounds: ISO times and durations back from now', () => {
    const now = Date.UTC(2026, 0, 2)
    expect(resolveTimeBound('24h', now)).to.equal(Date.UTC(2026, 0, 1))
    expect(resolveTimeBound('90s', now)).to.equal(now - 90_000)
    expect(resolveTimeBound('2026-01-01T00:00:00Z', now)).to.equal(Date.UTC(2026, 0, 1))
    expect(timeBoundSchema.safeParse('yesterday').success).to.equal(false)
  })
})
