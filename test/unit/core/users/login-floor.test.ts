import { hash as argon2Hash } from '@node-rs/argon2'
import bcrypt from 'bcryptjs'
import { expect } from 'chai'
import { fixedLoginFloor, measuredLoginFloor } from '../../../../src/core/users/login-floor.js'
import { argon2Hasher, familyProbe, hashFamily, type PasswordHasher } from '../../../../src/core/users/passwords.js'
import { fakeLoginTimer } from '../../../helpers/login-timer.js'

const OWASP = '$argon2id$v=19$m=19456,t=2,p=1$'
const WEAK = '$argon2id$v=19$m=4096,t=1,p=1$'
const BCRYPT_12 = '$2b$12$'
const BCRYPT_10 = '$2a$10$'

describe('login floor (unit)', () => {
  it('hashFamily: what a verify costs depends on (the part before the salt), and nothing else', () => {
    expect(hashFamily(`${OWASP}c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g`)).to.equal(OWASP)
    expect(hashFamily('$argon2i$m=65536,t=3,p=4$b3RoZXJzYWx0b3RoZXJzYWx0$b3RoZXJoYXNo')).to.equal('$argon2i$m=65536,t=3,p=4$')
    expect(hashFamily('$2y$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW')).to.equal('$2y$12$')
    // Refused without hashing (bcrypt takes costs 4 to 31 only): no family.
    for (const refused of ['', 'plain', '$argon2id$v=19$m=x,t=2,p=1$a$b', '$1$salt$md5crypt', '$2x$12$abc', '$2b$03$abc', '$2b$32$abc']) {
      expect(hashFamily(refused), refused).to.equal(undefined)
    }
  })

  it('familyProbe: a hash of the family that verify works through in full', async function () {
    this.timeout(10_000)
    for (const family of [OWASP, '$argon2i$v=19$m=4096,t=1,p=2$', '$2b$08$']) expect(hashFamily(familyProbe(family))).to.equal(family)
    // None is refused before the work (bcryptjs, say, answers false at once for a hash not 60 characters long):
    // each costs about what a verify of a real hash of its family costs (timed as the better of three).
    const time = async (hash: string): Promise<number> => {
      const ms: number[] = []
      for (let i = 0; i < 3; i++) {
        const started = performance.now()
        expect((await argon2Hasher().verify(hash, 'a password')).ok).to.equal(false)
        ms.push(performance.now() - started)
      }
      return Math.min(...ms)
    }
    const weakArgon2 = await argon2Hash('other password', { algorithm: 2, memoryCost: 8192, timeCost: 2, parallelism: 1 })
    for (const real of [await bcrypt.hash('other password', 8), weakArgon2]) {
      const family = hashFamily(real) as string
      expect(await time(familyProbe(family)), family).to.be.above((await time(real)) / 4)
    }
  })

  /** A hasher whose verify costs a set time per family on the fake timer; `hash` makes the OWASP family. */
  const setup = (families: () => Promise<string[]>) => {
    const timer = fakeLoginTimer()
    const cost: Record<string, number> = { [OWASP]: 30, [WEAK]: 5, [BCRYPT_12]: 300, [BCRYPT_10]: 80 }
    const verified: string[] = []
    const hasher: PasswordHasher = {
      hash: () => Promise.resolve(familyProbe(OWASP)),
      verify(stored) {
        const family = hashFamily(stored) ?? ''
        verified.push(family)
        timer.advance(cost[family] ?? 0)
        return Promise.resolve({ ok: false, needsRehash: false })
      },
    }
    return { timer, verified, floor: measuredLoginFloor({ families, hasher, timer }) }
  }

  it('measured: the slowest family present × 1.5 + 50 ms, once, shared by concurrent callers', async () => {
    let queried = 0
    const { floor, verified } = setup(() => {
      queried += 1
      return Promise.resolve([WEAK, BCRYPT_12, BCRYPT_10, OWASP, '$argon2id$not a hash'])
    })
    expect(await Promise.all([floor.ms(), floor.ms(), floor.ms()])).to.deep.equal([500, 500, 500])
    expect(await floor.ms()).to.equal(500)
    expect(queried).to.equal(1)
    // One verify per family, the hasher's own first; a malformed one is skipped, as verify would refuse it unhashed.
    expect(verified).to.deep.equal([OWASP, WEAK, BCRYPT_12, BCRYPT_10])
  })

  it("measured: an empty table still has the hasher's own family (every new password gets it)", async () => {
    expect(await setup(() => Promise.resolve([])).floor.ms()).to.equal(30 * 1.5 + 50)
  })

  it('measured: a family seen at a login that was not measured (an import since) raises the floor at once; a known one never moves it', async () => {
    const { floor } = setup(() => Promise.resolve([WEAK]))
    expect(await floor.ms()).to.equal(95)
    floor.observe(familyProbe(OWASP), 900) // measured already at 30 ms: one slow moment does not ratchet the floor
    floor.observe('garbage', 5000)
    expect(await floor.ms()).to.equal(95)
    floor.observe(familyProbe(BCRYPT_12), 310)
    expect(await floor.ms()).to.equal(310 * 1.5 + 50)
  })

  it('measured: again after an hour, in the background, so the floor comes down when a family is gone; a failed measure keeps the last floor', async () => {
    let present = [BCRYPT_12]
    let fail = false
    const { floor, timer } = setup(() => (fail ? Promise.reject(new Error('database down')) : Promise.resolve(present)))
    expect(await floor.ms()).to.equal(500)
    present = []
    timer.advance(60 * 60_000 - 1_000)
    expect(await floor.ms()).to.equal(500)
    timer.advance(1_000)
    expect(await floor.ms(), 'the login that notices keeps the old floor').to.equal(500)
    await new Promise((resolve) => setImmediate(resolve))
    expect(await floor.ms()).to.equal(95)

    fail = true
    timer.advance(60 * 60_000)
    expect(await floor.ms()).to.equal(95)
    await new Promise((resolve) => setImmediate(resolve))
    expect(await floor.ms()).to.equal(95)
  })

  it('measured: a first measure that fails fails that login, and the next one measures again', async () => {
    let fail = true
    const { floor } = setup(() => (fail ? Promise.reject(new Error('database down')) : Promise.resolve([BCRYPT_10])))
    let error: Error | undefined
    await floor.ms().catch((err: Error) => (error = err))
    expect(error?.message).to.equal('database down')
    fail = false
    expect(await floor.ms()).to.equal(80 * 1.5 + 50)
  })

  it('configured: the given floor, nothing measured', async () => {
    const floor = fixedLoginFloor(250)
    floor.observe(familyProbe(BCRYPT_12), 5000)
    expect(await floor.ms()).to.equal(250)
  })
})
