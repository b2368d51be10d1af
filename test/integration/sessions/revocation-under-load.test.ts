/**
 * Rights taken away reach access tokens that are in use, within 1 s, although the server no longer
 * verifies a token it verified lately (verified-tokens.ts): the bundled server under a steady load of
 * requests on a protected route, from five users and a bystander, while each user loses its access a
 * different way (logout, disable, revoke sessions, demotion, a permission revoked from its role). The
 * change is made three ways: by the server's own services (it forgets at once), by another instance that
 * announces it over real Redis (the server forgets when it hears), and by one that tells no one (the
 * server's cached state is at most 1 s old). Time is the server's manual clock, moved in steps while the
 * requests run: every request sent 1 s or more after the change must be refused.
 */
import { randomBytes } from 'node:crypto'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import { Redis } from 'ioredis'
import { localContext } from '../../../src/core/context.js'
import { createServices, type Services } from '../../../src/core/services.js'
import type { AccessChange } from '../../../src/core/sessions/sessions.schema.js'
import { publishOnce } from '../../../src/db/redis.js'
import { BUILTIN_RULE_ROUTES } from '../../../src/server/builtin-routes.js'
import { keepAliveAgent, shoot } from '../../helpers/http-load.js'
import { createTestServer, PASSWORD, type TestServer } from '../../helpers/server.js'
import { DIALECTS, requireDialect, requireRedis, SERVICE_URLS } from '../../helpers/services.js'

/** Needs users:read; answers from the database, as a real route does. */
const ROUTE = '/api/v1/admin/users?limit=1'
/** How far the clock moves between rounds of requests, and for how long the load runs before and after the change. */
const STEP_MS = 50
const BEFORE_MS = 500
const AFTER_MS = 1500
const BOUND_MS = 1000
/** Concurrent request loops per user. */
const LOOPS_PER_USER = 2
const local = localContext('local:test@host')

/** A user losing its access, and the status its token gets once it has. */
interface Victim {
  readonly change: string
  readonly email: string
  readonly role: string
  readonly refused: 401 | 403
  readonly userId: number
  readonly accessToken: string
  readonly refreshToken: string
}

/** The five ways, each on its own user, made through `services` (of whichever instance). */
const CHANGES: ReadonlyArray<{ change: string; refused: 401 | 403; apply: (s: Services, v: Victim) => Promise<unknown> }> = [
  { change: 'logout', refused: 401, apply: (s, v) => s.sessions.logout(v.refreshToken) },
  { change: 'disable', refused: 401, apply: (s, v) => s.users.disable(local, v.email) },
  { change: 'revoke sessions', refused: 401, apply: (s, v) => s.sessions.revokeUserSessions(local, v.email) },
  { change: 'demotion', refused: 403, apply: (s, v) => s.users.update(local, v.email, { role: 'bystander' }) },
  { change: 'permission revoked from the role', refused: 403, apply: (s, v) => s.roles.update(local, v.role, { revoke: ['users:read'] }) },
]

interface Shot {
  readonly who: string
  /** Order of sending, across every loop. */
  readonly seq: number
  /** The server's clock when the request was sent: the server reads it no earlier. */
  readonly sentAt: number
  readonly status: number
}

/**
 * Request loops on ROUTE, each presenting one token, until stopped. `round()` resolves once every loop has
 * had an answer to a request sent after the call: the clock moves only between rounds, so each step is seen.
 */
function startLoad(server: TestServer, url: string, tokens: ReadonlyArray<[who: string, token: string]>) {
  const agent = keepAliveAgent({ maxSockets: tokens.length * LOOPS_PER_USER })
  const shots: Shot[] = []
  const answered: number[] = [] // per loop, the seq of its last answered request
  const waiting: Array<{ after: number; resolve: () => void }> = []
  let seq = 0
  let stopped = false
  const settle = (): void => {
    for (const w of [...waiting]) {
      if (answered.every((s) => s > w.after)) {
        waiting.splice(waiting.indexOf(w), 1)
        w.resolve()
      }
    }
  }
  const loop = async (index: number, who: string, token: string): Promise<void> => {
    answered[index] = 0
    while (!stopped) {
      const mine = ++seq
      const sentAt = server.clock.now()
      const shot = await shoot(0, url, ROUTE, { agent, headers: { authorization: `Bearer ${token}` } })
      shots.push({ who, seq: mine, sentAt, status: shot.status })
      answered[index] = mine
      settle()
    }
  }
  const loops = tokens.flatMap(([who, token], i) => Array.from({ length: LOOPS_PER_USER }, (_, j) => loop(i * LOOPS_PER_USER + j, who, token)))
  return {
    shots,
    /** The seq of the last request sent so far. */
    sent: () => seq,
    round: () => new Promise<void>((resolve) => waiting.push({ after: seq, resolve })),
    async stop(): Promise<void> {
      stopped = true
      await Promise.all(loops)
      agent.destroy()
    },
  }
}

for (const dialect of DIALECTS) {
  describe(`access taken away under load, on ${dialect}`, function () {
    let server: TestServer
    let url: string
    let listening: ReturnType<TestServer['app']['listen']>
    let n = 0
    /** The load of the test running now. */
    let running: ReturnType<typeof startLoad> | undefined

    before(async function () {
      await requireDialect(this, dialect)
      // No default rule: thousands of requests from one address must not meet a limit.
      server = await createTestServer(dialect, { environment: { rateLimits: { default: null } } })
      await server.services.roles.create(local, { name: 'bystander', permissions: ['audit:read'] })
      listening = server.app.listen(0, '127.0.0.1')
      await new Promise((resolve) => listening.once('listening', resolve))
      url = `http://127.0.0.1:${(listening.address() as AddressInfo).port}`
    })
    after(async () => {
      await new Promise((resolve) => (listening ? listening.close(resolve) : resolve(undefined)))
      await server?.cleanup()
    })

    /** Another instance over the same database, on the same clock, with its own caches. */
    const instance = async (onAccessChanged?: (change: AccessChange) => Promise<void>): Promise<Services> =>
      createServices({
        rateLimitRoutes: BUILTIN_RULE_ROUTES,
        knex: (await server.runtime.database()).knex,
        clock: server.clock,
        auth: server.runtime.environment.auth,
        environmentName: server.runtime.environment.name,
        onAccessChanged,
      })

    /** One user per change, each in a role of its own that grants users:read, logged in. */
    async function victims(): Promise<Victim[]> {
      const made: Victim[] = []
      for (const { change, refused } of CHANGES) {
        const id = ++n
        const role = `reader-${id}`
        const email = `victim-${id}@example.com`
        // audit:read too: a role may not be left with no permission at all.
        await server.services.roles.create(local, { name: role, permissions: ['users:read', 'audit:read'] })
        const { user } = await server.services.users.create(local, { email, role, password: PASSWORD })
        const login = await server.services.sessions.login(email, PASSWORD, local)
        made.push({ change, email, role, refused, userId: user.id, accessToken: login.accessToken, refreshToken: login.refreshToken })
      }
      return made
    }

    /**
     * Runs the load, makes every change through `door` once BEFORE_MS have passed, runs on for AFTER_MS;
     * returns the shots (in the order answered), how many were answered before the change started, when it
     * was made (clock) and the seq of the last request sent when it returned.
     */
    async function revokeUnderLoad(door: Services, people: Victim[]) {
      const start = server.clock.now()
      const bystander = await server.token('admin')
      const load = (running = startLoad(server, url, [['bystander', bystander], ...people.map((v): [string, string] => [v.change, v.accessToken])]))
      try {
        while (server.clock.now() - start < BEFORE_MS) {
          await load.round()
          server.clock.advance(STEP_MS)
        }
        await load.round()
        const answeredBefore = load.shots.length
        await Promise.all(people.map((v) => CHANGES.find((c) => c.change === v.change)!.apply(door, v)))
        const revokedAt = server.clock.now()
        const returnedSeq = load.sent()
        while (server.clock.now() - revokedAt < AFTER_MS) {
          await load.round()
          server.clock.advance(STEP_MS)
        }
        await load.round()
        return { shots: load.shots, revokedAt, answeredBefore, returnedSeq }
      } finally {
        running = undefined
        await load.stop()
      }
    }
    /** What holds whichever way the change came: allowed before it, refused from 1 s after, the bystander never refused. */
    function expectBound(people: Victim[], run: Awaited<ReturnType<typeof revokeUnderLoad>>): void {
      const { shots, revokedAt, answeredBefore } = run
      const of = (who: string, among = shots): Shot[] => among.filter((s) => s.who === who)
      expect(
        of('bystander').filter((s) => s.status !== 200),
        'the bystander was never refused',
      ).to.deep.equal([])
      for (const v of people) {
        const mine = of(v.change)
        const before = of(v.change, shots.slice(0, answeredBefore))
        const late = mine.filter((s) => s.sentAt >= revokedAt + BOUND_MS)
        expect(before.length, `${v.change}: requests before the change`).to.be.greaterThan(10)
        expect(late.length, `${v.change}: requests 1 s after the change`).to.be.greaterThan(10)
        expect(before.filter((s) => s.status !== 200).length, `${v.change}: refused before the change`).to.equal(0)
        expect(
          late.filter((s) => s.status !== v.refused),
          `${v.change}: allowed 1 s after the change`,
        ).to.deep.equal([])
      }
    }

    it("changes by the server's own services: refused from the next request on", async () => {
      const people = await victims()
      const run = await revokeUnderLoad(server.services, people)
      expectBound(people, run)
      for (const v of people) {
        const after = run.shots.filter((s) => s.who === v.change && s.seq > run.returnedSeq)
        expect(
          after.filter((s) => s.status !== v.refused),
          `${v.change}: allowed after the change returned`,
        ).to.deep.equal([])
      }
    })

    it('changes by another instance, announced over Redis: refused once heard, and within 1 s', async function () {
      await requireRedis(this)
      // A channel of this run's own: the server hears these changes and no other test's.
      const channel = `gantry-test:access:${randomBytes(6).toString('hex')}`
      const heard: Array<{ change: AccessChange; seq: number }> = []
      const subscriber = new Redis(SERVICE_URLS.redis, { lazyConnect: true })
      subscriber.on('message', (_from: string, message: string) => {
        const change = JSON.parse(message) as AccessChange
        server.services.sessions.forget(change) // as the runtime delivers it
        heard.push({ change, seq: running?.sent() ?? 0 })
      })
      await subscriber.connect()
      await subscriber.subscribe(channel)
      try {
        const people = await victims()
        const announcing = await instance((change) => publishOnce(SERVICE_URLS.redis, channel, JSON.stringify(change)))
        const run = await revokeUnderLoad(announcing, people)
        expectBound(people, run)
        for (const v of people) {
          const announced = v.change.startsWith('permission') ? { roles: true } : { userId: v.userId }
          const at = heard.find((h) => JSON.stringify(h.change) === JSON.stringify(announced))
          expect(at, `${v.change}: heard over Redis`).to.not.equal(undefined)
          const after = run.shots.filter((s) => s.who === v.change && s.seq > at!.seq)
          expect(
            after.filter((s) => s.status !== v.refused),
            `${v.change}: allowed after the server heard of it`,
          ).to.deep.equal([])
        }
      } finally {
        subscriber.disconnect()
      }
    })

    it('changes by another instance that tells no one: refused within 1 s', async () => {
      const people = await victims()
      expectBound(people, await revokeUnderLoad(await instance(), people))
    })
  })
}
