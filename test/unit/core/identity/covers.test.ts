import { expect } from 'chai'
import fc from 'fast-check'
import { BUILTIN_ROLE_PERMISSIONS } from '../../../../src/core/roles/builtin-roles.js'
import { covers, coversAll, GANTRY_PERMISSIONS, hasPermission, uncovered } from '../../../../src/core/roles/permissions.js'

/** The table issue 14 pins: P covers Q when every concrete permission Q matches, P matches too. */
const TABLE: ReadonlyArray<[p: string, q: string, covered: boolean]> = [
  ['*', '*', true],
  ['*', '*:*', true],
  ['*', 'users:*', true],
  ['*', '*:read', true],
  ['*', 'audit:read', true],
  ['*:*', '*', true],
  ['*:*', 'audit:read', true],
  ['users:*', 'users:read', true],
  ['users:*', 'users:*', true],
  ['users:*', 'users:write', true],
  ['users:*', 'roles:read', false],
  ['users:*', '*:read', false],
  ['users:*', '*', false],
  ['*:read', 'audit:read', true],
  ['*:read', '*:read', true],
  ['*:read', 'audit:*', false],
  ['*:read', 'audit:write', false],
  ['*:read', '*', false],
  ['audit:read', 'audit:read', true],
  ['audit:read', 'audit:write', false],
  ['audit:read', 'audit:*', false],
  ['audit:read', '*:read', false],
  ['audit:read', '*', false],
]

const NAMES = ['users', 'roles', 'audit', 'orders']
const ACTIONS = ['read', 'write', 'delete']
const pattern = fc.oneof(
  fc.constant('*'),
  fc.tuple(fc.constantFrom('*', ...NAMES), fc.constantFrom('*', ...ACTIONS)).map(([r, a]) => `${r}:${a}`),
)
/** A model of "matches every concrete permission" over a universe with one name never written anywhere. */
const universe = [...NAMES, 'unwritten'].flatMap((r) => [...ACTIONS, 'unwritten'].map((a) => `${r}:${a}`))
const matches = (p: string, concrete: string): boolean => hasPermission([p], concrete)

describe('core/roles: covers', () => {
  for (const [p, q, covered] of TABLE) {
    it(`${p} ${covered ? 'covers' : 'does not cover'} ${q}`, () => {
      expect(covers(p, q)).to.equal(covered)
    })
  }

  it('agrees with the definition: P covers Q iff every concrete permission Q matches, P matches', () => {
    fc.assert(
      fc.property(pattern, pattern, (p, q) => {
        const byDefinition = universe.filter((c) => matches(q, c)).every((c) => matches(p, c))
        expect(covers(p, q)).to.equal(byDefinition)
      }),
      { numRuns: 2000 },
    )
  })

  it('a set covers a set when each element is covered by some one element; uncovered names the rest', () => {
    expect(coversAll(['*:read', 'ratelimits:write'], ['audit:read', 'ratelimits:write'])).to.equal(true)
    expect(coversAll(['*:read', 'ratelimits:write'], ['audit:read', 'users:write'])).to.equal(false)
    expect(coversAll(['users:read', 'users:write'], ['users:*'])).to.equal(false)
    expect(coversAll(['*'], ['*'])).to.equal(true)
    expect(coversAll([], [])).to.equal(true)
    expect(coversAll([], ['audit:read'])).to.equal(false)
    expect(uncovered(['*:read', 'apikeys:write'], ['*', 'users:read', 'apikeys:write', 'users:write'])).to.deep.equal(['*', 'users:write'])
  })

  it('users:erase (erasing rewrites audit history) is one of Gantry’s permissions that only admin holds among the built-in roles', () => {
    expect(GANTRY_PERMISSIONS).to.include('users:erase')
    expect(hasPermission(BUILTIN_ROLE_PERMISSIONS.admin, 'users:erase')).to.equal(true)
    expect(hasPermission(BUILTIN_ROLE_PERMISSIONS.operator, 'users:erase')).to.equal(false)
    expect(hasPermission(BUILTIN_ROLE_PERMISSIONS.viewer, 'users:erase')).to.equal(false)
    // Neither a read nor users:write covers it; users:* does.
    expect(hasPermission(['*:read', 'users:write'], 'users:erase')).to.equal(false)
    expect(hasPermission(['users:*'], 'users:erase')).to.equal(true)
  })

  it('is reflexive and transitive (hand-out checks chain: actor covers owner, owner covers scope)', () => {
    fc.assert(
      fc.property(pattern, pattern, pattern, (a, b, c) => {
        expect(covers(a, a)).to.equal(true)
        if (covers(a, b) && covers(b, c)) expect(covers(a, c)).to.equal(true)
      }),
      { numRuns: 2000 },
    )
  })
})
