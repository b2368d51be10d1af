/**
 * The live flag snapshot: what `gantry serve` and an app's createGantry evaluate in process.
 *  - Two app instances over createGantry (one workspace on PostgreSQL): a change made through the CLI's door
 *    (the operator runtime's flags service, which announces on Redis as `gantry flags …` does), and one made
 *    by the built `gantry flags set`, are served by both within 1 s with Redis, and within the 1 s poll (plus
 *    a reload) without.
 *  - Fail safe: a flag store unreachable at start serves the code's defaults and readiness warns; once it
 *    answers the flags load; once loaded, a failing store keeps the last snapshot.
 *  - onChange listeners are called once per change of the rules in force.
 * Elapsed times are measured by polling every 10 ms against a deadline: the bound is the property.
 */
import { expect } from 'chai'
import { pino } from 'pino'
import type { FlagSnapshot } from '../../../src/core/flags/flags.schema.js'
import type { Gantry } from '../../../src/index.js'
import { libraryFlags } from '../../../src/server/embed/flags.js'
import { startLiveFlags, type LiveFlags } from '../../../src/server/live-flags.js'
import { createReadinessProbe } from '../../../src/server/readiness.js'
import { runGantry } from '../../helpers/cli.js'
import { createTestServer, type TestServer } from '../../helpers/server.js'
import { requireDialect, requireRedis } from '../../helpers/services.js'
import { ctx, embedFixture, library, type EmbedFixture } from '../embed/fixture.js'

/** Long enough that no poll runs during a test that drives reloads itself. */
const NO_POLL = 60 * 60_000

/** Polls `served` every 10 ms until it holds; the milliseconds it took from `since`, or a failure after `deadlineMs`. */
async function servedWithin(served: () => boolean, since: number, deadlineMs: number, what: string): Promise<number> {
  for (;;) {
    if (served()) return performance.now() - since
    if (performance.now() - since > deadlineMs) throw new Error(`${what}: not served within ${deadlineMs} ms`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

for (const redis of [true, false]) {
  describe(`live flags in two app instances over createGantry (PostgreSQL, ${redis ? 'Redis' : 'no Redis: the poll'})`, function () {
    this.timeout(60_000)
    let f: EmbedFixture | undefined
    let second: Gantry | undefined

    before(async function () {
      await requireDialect(this, 'postgres')
      if (redis) await requireRedis(this)
      f = await embedFixture('postgres', { redis })
      const { createGantry } = await library()
      second = await createGantry({ cwd: f.root, env: 'development', logger: pino({ level: 'silent' }) })
    })
    after(async () => {
      await second?.close()
      await f?.cleanup()
    })

    // With Redis the change is announced: each instance reloads at once, well inside the second. Without
    // it nothing announces, so each instance learns of the change at its next poll (every 1 s) and then
    // reloads (a few queries): up to the poll interval plus the reload, hence 1.5 s, where the announced
    // case must stay under 1 s.
    const bound = redis ? 1000 : 1500
    it(`a change made through the CLI's service is served by both instances within ${bound} ms`, async () => {
      const { services, gantry } = f!
      const instances = [gantry, second!]
      // What each serves: the flag's value, or undefined while it has no such flag.
      const value = (g: Gantry) => g.flags.evaluate('new-checkout', { userId: '42' }).value
      expect(instances.map((g) => g.flags.loaded())).to.deep.equal([true, true])
      expect(instances.map(value)).to.deep.equal([undefined, undefined])
      expect(gantry.flags.value('new-checkout', true, { userId: '42' })).to.equal(true) // the code's default
      const changes = instances.map(() => 0)
      instances.forEach((g, i) => g.flags.onChange(() => (changes[i] = (changes[i] ?? 0) + 1)))

      // A first change, to see both instances follow at all (and their subscriptions, opened in the
      // background at start, open by now).
      await services.flags.create(ctx, { key: 'new-checkout', type: 'boolean' })
      await servedWithin(() => instances.every((g) => value(g) === false), performance.now(), 5000, 'the new flag (off)')

      const elapsed: number[] = []
      for (const enabled of [true, false, true]) {
        const at = performance.now()
        await services.flags.update(ctx, 'new-checkout', { enabled })
        elapsed.push(await servedWithin(() => instances.every((g) => value(g) === enabled), at, bound + 2000, `enabled: ${enabled}`))
      }
      for (const ms of elapsed) expect(ms, `elapsed ${elapsed.map(Math.round).join(', ')} ms`).to.be.below(bound)
      // With Redis the announcement must be what did it: the poll alone (every 1 s) would also land within a
      // second and a bit, but spread over its interval; three changes all under 400 ms by the poll alone
      // happen by chance 6% of the time, while an announcement takes a few tens of milliseconds.
      if (redis) for (const ms of elapsed) expect(ms, `elapsed ${elapsed.map(Math.round).join(', ')} ms: announced, not polled`).to.be.below(400)
      // Each instance reloaded once per change: the creation and three updates.
      expect(changes).to.deep.equal([4, 4])
      expect(gantry.flags.details('new-checkout', false, { userId: '42' })).to.deep.include({ value: true, variant: 'on', reason: 'DEFAULT' })
    })

    it(`a change made with the built CLI (\`gantry flags set --off\`) is served by both instances within ${bound} ms of the command's exit`, async () => {
      const { gantry, root } = f!
      const instances = [gantry, second!]
      const value = (g: Gantry) => g.flags.evaluate('new-checkout', { userId: '42' }).value
      expect(instances.map(value)).to.deep.equal([true, true])
      // The command commits, announces and exits: what it changed is counted from its exit (its own start-up,
      // hundreds of milliseconds, is not the instances' to make up).
      const result = await runGantry(['flags', 'set', 'new-checkout', '--off'], { cwd: root })
      const exited = performance.now()
      expect(result.code, result.stderr).to.equal(0)
      const ms = await servedWithin(() => instances.every((g) => value(g) === false), exited, bound + 2000, 'gantry flags set --off')
      expect(ms).to.be.below(bound)
    })
  })
}

describe('live flags: fail safe, and listeners', function () {
  let s: TestServer
  let down: boolean
  let calls: { snapshot: number; version: number }
  const lives: LiveFlags[] = []
  const reloadErrors: unknown[] = []

  /** The flags service of the test server behind a switch: `down` makes every read fail, as an unreachable database does. */
  const source = () => ({
    snapshot: (): Promise<FlagSnapshot> => {
      calls.snapshot += 1
      return down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5999 (the flag store is down)')) : s.services.flags.snapshot()
    },
    version: (): Promise<number> => {
      calls.version += 1
      return down ? Promise.reject(new Error('connect ECONNREFUSED 127.0.0.1:5999 (the flag store is down)')) : s.services.flags.version()
    },
  })
  const start = async (): Promise<LiveFlags> => {
    const live = await startLiveFlags({
      source: source(),
      pollMs: NO_POLL,
      onReloadError: (err) => reloadErrors.push(err),
      onListenerError: (err) => reloadErrors.push(err),
    })
    lives.push(live)
    return live
  }

  beforeEach(async () => {
    s = await createTestServer('sqlite')
    down = false
    calls = { snapshot: 0, version: 0 }
    reloadErrors.length = 0
  })
  afterEach(async () => {
    for (const live of lives.splice(0)) live.close()
    await s?.cleanup()
  })

  it("a store unreachable at start: the code's defaults are served and readiness warns; once it answers the flags load", async () => {
    await s.services.flags.create(ctx, { key: 'new-checkout', type: 'boolean', enabled: true })
    down = true
    const live = await start()
    expect(live.loaded()).to.equal(false)
    expect(live.current()).to.equal(undefined)
    expect(reloadErrors).to.have.length(1)
    expect(live.evaluate('new-checkout', { userId: '42' })).to.deep.equal({
      key: 'new-checkout',
      value: undefined,
      variant: undefined,
      reason: 'FLAG_NOT_FOUND',
    })
    const flags = libraryFlags(live)
    expect(flags.loaded()).to.equal(false)
    expect(flags.value('new-checkout', false)).to.equal(false)
    expect(flags.value('x', true)).to.equal(true)
    expect(flags.details('new-checkout', 'dflt', { userId: '42' })).to.deep.include({ value: 'dflt', reason: 'ERROR', errorCode: 'PROVIDER_NOT_READY' })

    const readiness = createReadinessProbe({ runtime: s.runtime, version: '0.0.0-test', clock: s.clock, flagsLoaded: live.loaded })
    const warned = await readiness.check()
    expect(warned.checks?.['flags:snapshot']?.[0]).to.deep.include({ componentType: 'component', status: 'warn' })
    expect(warned.checks?.['flags:snapshot']?.[0]?.output).to.match(/unreachable/)
    // The database itself answers here (only the flag reads fail): the flags alone make readiness warn.
    expect(warned.checks?.['database:responseTime']?.[0]?.status).to.equal('pass')
    expect(warned.status).to.equal('warn')

    // Still down: a refresh keeps it not loaded (and never throws).
    await live.refresh()
    expect(live.loaded()).to.equal(false)
    down = false
    await live.refresh()
    expect(live.loaded()).to.equal(true)
    expect(flags.value('new-checkout', false, { userId: '42' })).to.equal(true)
    expect(flags.value('x', true)).to.equal(true) // a flag that does not exist: still the default
    expect(flags.details('x', true)).to.deep.include({ reason: 'ERROR', errorCode: 'FLAG_NOT_FOUND' })
    const ready = await readiness.check()
    expect(ready.checks?.['flags:snapshot']?.[0]?.status).to.equal('pass')
    expect(ready.status).to.equal('pass')
  })

  it('once loaded, a failing store keeps the last snapshot; it reloads once the store answers again', async () => {
    await s.services.flags.create(ctx, { key: 'new-checkout', type: 'boolean', enabled: true })
    const live = await start()
    const flags = libraryFlags(live)
    expect([live.loaded(), live.current()?.version]).to.deep.equal([true, 1])
    expect(flags.value('new-checkout', false)).to.equal(true)

    await s.services.flags.update(ctx, 'new-checkout', { enabled: false })
    down = true
    await live.refresh()
    expect(reloadErrors).to.have.length(1)
    expect([live.loaded(), live.current()?.version]).to.deep.equal([true, 1])
    expect(flags.value('new-checkout', true)).to.equal(true) // the last snapshot's answer, not the default's
    expect(flags.details('new-checkout', false)).to.deep.include({ value: true, reason: 'DEFAULT' })
    const readiness = createReadinessProbe({ runtime: s.runtime, version: '0.0.0-test', clock: s.clock, flagsLoaded: live.loaded })
    expect((await readiness.check()).checks?.['flags:snapshot']?.[0]?.status).to.equal('pass')

    down = false
    await live.refresh()
    expect(live.current()?.version).to.equal(2)
    expect(flags.value('new-checkout', true)).to.equal(false)
  })

  it("a listener that throws keeps no other listener from hearing of the change (an app's listener beside the OpenFeature provider's)", async () => {
    await s.services.flags.create(ctx, { key: 'a', type: 'boolean' })
    const live = await start()
    const heard: string[] = []
    live.onChange(() => {
      heard.push('app')
      throw new Error("the app's listener is broken")
    })
    live.onChange(() => heard.push('provider'))
    await s.services.flags.update(ctx, 'a', { enabled: true })
    await live.refresh()
    expect(live.current()?.version).to.equal(2)
    expect(heard).to.deep.equal(['app', 'provider'])
  })

  it('a snapshot is read only when the version moved; onChange listeners are called once per change, not per refresh', async () => {
    await s.services.flags.create(ctx, { key: 'a', type: 'boolean' })
    const live = await start()
    const heard: number[] = []
    const off = live.onChange(() => heard.push(live.current()?.version ?? -1))
    const snapshotsRead = calls.snapshot

    // No change: the version is read, the snapshot is not, no listener is called.
    await live.refresh()
    await live.refresh()
    expect([calls.snapshot, heard]).to.deep.equal([snapshotsRead, []])

    await s.services.flags.update(ctx, 'a', { enabled: true })
    await live.refresh()
    expect(heard).to.deep.equal([2])
    // Several refreshes at once (the poll and announcements racing): one reload, one call.
    await s.services.flags.update(ctx, 'a', { enabled: false })
    await Promise.all([live.refresh(), live.refresh(), live.refresh()])
    expect(heard).to.deep.equal([2, 3])
    // Two changes between refreshes: one new snapshot in force, one call.
    await s.services.flags.update(ctx, 'a', { enabled: true })
    await s.services.flags.update(ctx, 'a', { description: 'x' })
    await live.refresh()
    expect(heard).to.deep.equal([2, 3, 5])
    // A reload that fails is no change.
    down = true
    await s.services.flags.delete(ctx, 'a').catch(() => undefined) // the service itself is not behind the switch
    await live.refresh()
    expect(heard).to.deep.equal([2, 3, 5])
    down = false
    await live.refresh()
    expect(heard).to.deep.equal([2, 3, 5, 6])
    expect(live.evaluate('a', {}).reason).to.equal('FLAG_NOT_FOUND')

    // Unsubscribed: no more calls; a second listener through the library's reader is called too.
    off()
    const library: number[] = []
    libraryFlags(live).onChange(() => library.push(live.current()?.version ?? -1))
    await s.services.flags.create(ctx, { key: 'b', type: 'boolean' })
    await live.refresh()
    expect([heard, library]).to.deep.equal([[2, 3, 5, 6], [7]])
  })
})
