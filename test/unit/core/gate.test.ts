import { expect } from 'chai'
import { GantryError } from '../../../src/core/errors.js'
import { createGate } from '../../../src/core/gate.js'

/** A task the test finishes by hand, recording when it started. */
function task(started: number[], id: number) {
  let finish!: (value: number) => void
  let fail!: (err: Error) => void
  const done = new Promise<number>((resolve, reject) => {
    finish = resolve
    fail = reject
  })
  return { run: () => (started.push(id), done), finish: () => finish(id), fail: (err: Error) => fail(err) }
}

/** Lets every queued microtask (a release handing its slot on) run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

describe('server/gate', () => {
  it('runs at most `concurrency` tasks at once; the next ones wait in arrival order', async () => {
    const gate = createGate(2, 10)
    const started: number[] = []
    const tasks = Array.from({ length: 5 }, (_, i) => task(started, i))
    const results = tasks.map((t) => gate.run(t.run))
    await settle()
    expect(started).to.deep.equal([0, 1])

    tasks[1]!.finish()
    await settle()
    expect(started).to.deep.equal([0, 1, 2])
    tasks[0]!.finish()
    tasks[2]!.finish()
    await settle()
    expect(started).to.deep.equal([0, 1, 2, 3, 4])
    tasks[3]!.finish()
    tasks[4]!.finish()
    expect(await Promise.all(results)).to.deep.equal([0, 1, 2, 3, 4])
  })

  it('refuses at once, without running the task, once `queue` tasks wait: RATE_LIMITED (429, Retry-After 1)', async () => {
    const gate = createGate(1, 2)
    const started: number[] = []
    const admitted = [0, 1, 2].map((i) => task(started, i))
    const results = admitted.map((t) => gate.run(t.run))
    let ranRefused = false
    const refusal = await gate
      .run(async () => (ranRefused = true))
      .then(
        () => undefined,
        (err: unknown) => err,
      )
    expect(refusal).to.be.instanceOf(GantryError)
    expect(refusal).to.include({ code: 'RATE_LIMITED', status: 429 })
    expect((refusal as GantryError).details).to.deep.equal({ retryAfterSeconds: 1 })
    expect(ranRefused).to.equal(false)
    expect(started).to.deep.equal([0])

    // A slot freed makes room for exactly one more waiter.
    admitted[0]!.finish()
    await settle()
    expect(started).to.deep.equal([0, 1])
    const late = task(started, 3)
    const lateResult = gate.run(late.run)
    const refusedAgain = await gate.run(async () => 'never').catch((err: GantryError) => err.code)
    expect(refusedAgain).to.equal('RATE_LIMITED')

    for (const t of [...admitted.slice(1), late]) {
      t.finish()
      await settle()
    }
    expect(await Promise.all([...results, lateResult])).to.deep.equal([0, 1, 2, 3])
    expect(started).to.deep.equal([0, 1, 2, 3])
  })

  it('a task that fails (or throws at once) still frees its slot, and its error reaches its caller', async () => {
    const gate = createGate(1, 1)
    const started: number[] = []
    const failing = task(started, 0)
    const next = task(started, 1)
    const failed = gate.run(failing.run)
    const waiting = gate.run(next.run)
    failing.fail(new Error('hash failed'))
    expect(await failed.catch((err: Error) => err.message)).to.equal('hash failed')
    await settle()
    expect(started).to.deep.equal([0, 1])
    next.finish()
    expect(await waiting).to.equal(1)

    const thrown = await gate
      .run(() => {
        throw new Error('sync throw')
      })
      .catch((err: Error) => err.message)
    expect(thrown).to.equal('sync throw')
    expect(await gate.run(async () => 'free again')).to.equal('free again')
  })

  it('after a burst has drained, the full capacity is there again', async () => {
    const gate = createGate(4, 64)
    const outcomes = await Promise.allSettled(Array.from({ length: 100 }, (_, i) => gate.run(async () => (await settle(), i))))
    const refused = outcomes.filter((o) => o.status === 'rejected')
    expect(outcomes.filter((o) => o.status === 'fulfilled')).to.have.length(68)
    expect(refused).to.have.length(32)
    expect(refused.every((o) => (o.reason as GantryError).code === 'RATE_LIMITED')).to.equal(true)

    const again = await Promise.allSettled(Array.from({ length: 68 }, (_, i) => gate.run(async () => (await settle(), i))))
    expect(again.every((o) => o.status === 'fulfilled')).to.equal(true)
  })
})
