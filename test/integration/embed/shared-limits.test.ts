/**
 * One budget across the bundled server and the app: a real `gantry serve` (the built CLI) and an app over
 * createGantry, in one workspace on MariaDB and the shared Redis. A global rule with burst N admits N
 * requests in total, whichever of the two they reach; a rule changed while both run is in force in the
 * app within a second, and in the server.
 */
import { randomBytes } from 'node:crypto'
import { expect } from 'chai'
import { pino } from 'pino'
import request from 'supertest'
import { runGantry } from '../../helpers/cli.js'
import { http, killLeftovers, listeningUrl, startServe, stopServe, until, type ServeProcess } from '../../helpers/serve-process.js'
import { requireDialect, requireRedis } from '../../helpers/services.js'
import { ctx, embedFixture, library, ordersApp, type EmbedFixture } from './fixture.js'

describe('rate limits shared by `gantry serve` and an app over createGantry (MariaDB + Redis)', function () {
  this.timeout(90_000)
  let f: EmbedFixture | undefined
  let serve: ServeProcess | undefined
  const rule = `embed-shared-${randomBytes(3).toString('hex')}`
  const BURST = 4

  before(async function () {
    await requireDialect(this, 'mysql')
    await requireRedis(this)
    f = await embedFixture('mysql', { redis: true })
    // Set before either loads its rules: both start with it, no reload in between.
    await f.services.rateLimits.set(ctx, rule, { match: 'GET /shared/*', key: 'global', limit: BURST, window: '1h', burst: BURST })
    const root = f.root
    serve = startServe({ root, env: {}, gantry: (args, input) => runGantry(args, { cwd: root, input }), cleanup: () => undefined })
  })
  after(async () => {
    if (serve) await stopServe(serve).catch(() => killLeftovers())
    await f?.cleanup()
  })

  it(`a global rule with burst ${BURST}: ${BURST} admitted in total across both, then 429 from each`, async () => {
    const fixture = f!
    const url = await listeningUrl(serve!)
    // A Gantry opened after the rule was set, as the server was: both start with it.
    const { createGantry } = await library()
    const gantry = await createGantry({ cwd: fixture.root, env: 'development', logger: pino({ level: 'silent' }) })
    try {
      const app = ordersApp(gantry)
      const answers: { where: string; status: number }[] = []
      for (let i = 0; i < 2 * BURST; i++) {
        if (i % 2 === 0) {
          const res = await http(`${url}/shared/${i}`)
          answers.push({ where: 'serve', status: res.status })
        } else {
          const res = await request(app).get(`/shared/${i}`)
          answers.push({ where: 'app', status: res.status })
        }
      }
      const admitted = answers.filter((a) => a.status !== 429)
      expect(admitted, JSON.stringify(answers)).to.have.length(BURST)
      // Admitted: the server has no /shared route (404 after the limit), the app answers 200.
      expect(answers.slice(0, BURST).map((a) => a.status)).to.deep.equal([404, 200, 404, 200])
      expect(answers.slice(BURST).map((a) => a.status)).to.deep.equal([429, 429, 429, 429])

      // A change made while both run (the rule switched off): in force in the app within a second, announced on Redis.
      const changedAt = performance.now()
      await fixture.services.rateLimits.set(ctx, rule, { enabled: false })
      await until(async () => ((await request(app).get('/shared/after')).status === 200 ? true : undefined), 'the change reaches the app', {
        timeoutMs: 3000,
        intervalMs: 20,
      })
      expect(performance.now() - changedAt).to.be.below(1000)
      await until(async () => ((await http(`${url}/shared/after`)).status === 404 ? true : undefined), 'the change reaches the server', {
        timeoutMs: 3000,
        intervalMs: 20,
      })
    } finally {
      await gantry.close()
      await fixture.services.rateLimits.remove(ctx, rule)
    }
  })
})
