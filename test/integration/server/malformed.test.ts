/**
 * The HTTP edge under malformed input. A hand-written corpus of what broken clients and attackers send,
 * plus requests generated with fast-check from each route's schemas (as the OpenAPI document states them,
 * which zod wrote), sent with admin credentials and anonymously. Whatever comes in: no 5xx (but readiness
 * and maintenance), every error is problem+json, and no answer shows a stack frame, SQL or a driver name.
 * It tests the edge, not the dialect: the full corpus runs on SQLite; MariaDB and PostgreSQL get every
 * hand-written request and a few hundred generated ones (exotic text is where dialects differ: NUL, 4-byte UTF-8).
 * In-process, over app.listen; test/reliability/malformed-corpus.test.ts sends the same corpora, and
 * malformed framing, to a `gantry serve` process at scale.
 */
import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { expect } from 'chai'
import type { Dialect } from '../../../src/db/url.js'
import { judge } from '../../helpers/edge-judge.js'
import { generatedCorpus } from '../../helpers/generated-corpus.js'
import { pool, probeSender, type Probe, type ProbeSender } from '../../helpers/http-probes.js'
import { handWrittenCorpus } from '../../helpers/malformed-corpus.js'
import { operationsOf, type OpenApiDocument } from '../../helpers/openapi-operations.js'
import { createTestServer, PASSWORD, USERS, type TestServer } from '../../helpers/server.js'
import { requireDialect } from '../../helpers/services.js'

const SEED = Number(process.env.GANTRY_FUZZ_SEED ?? Date.now() % 2 ** 31)

for (const [dialect, generated] of [
  ['sqlite', 10_000],
  ['mysql', 200],
  // Not asked for by the edge, but PostgreSQL is the dialect that refuses NUL in text: worth the 3 s.
  ['postgres', 200],
] as const) {
  describe(`malformed requests on ${dialect} (fast-check seed ${SEED}; rerun with GANTRY_FUZZ_SEED=${SEED})`, function () {
    this.timeout(180_000)
    let s: TestServer | undefined
    let server: Server
    let sender: ProbeSender | undefined
    let adminToken: string

    before(async function () {
      await requireDialect(this, dialect as Dialect)
      s = await createTestServer(dialect)
      server = s.app.listen(0, '127.0.0.1')
      await new Promise((resolve) => server.once('listening', resolve))
      sender = probeSender((server.address() as AddressInfo).port)
      adminToken = await s.token('admin')
    })
    after(async () => {
      sender?.close()
      await new Promise((resolve) => server?.close(resolve))
      await s?.cleanup()
    })

    it(`answers ${generated} generated and every hand-written malformed request without a 5xx or a leak`, async () => {
      const started = Date.now()
      const doc = JSON.parse((await sender!.send({ method: 'GET', path: '/api/openapi.json' })).body) as OpenApiDocument
      const operations = operationsOf(doc)
      expect(operations.length).to.be.greaterThan(5)

      const handWritten = handWrittenCorpus(operations, adminToken, PASSWORD)
      const generatedProbes = generatedCorpus(operations, generated, SEED)
      const failures: string[] = []
      let count = 0
      const run = async (probes: readonly { probe: Probe; credentials: boolean }[]): Promise<void> => {
        await pool(probes, 16, async ({ probe, credentials }) => {
          const withAuth = credentials ? { ...probe, headers: { authorization: `Bearer ${adminToken}`, ...probe.headers } } : probe
          const answer = await sender!.send(withAuth)
          count += 1
          // app.listen: Node's bare refusals, which gantry's listener turns into problem+json (see the reliability suite).
          failures.push(...judge(withAuth, answer, { bareRefusals: true }).map((f) => f.text))
        })
      }
      await run(handWritten.map((probe) => ({ probe, credentials: false })))
      // Generated: each request both with an admin token and without credentials. The token is minted
      // again between batches: a generated request may end the admin's sessions.
      for (let i = 0; i < generatedProbes.length; i += 1000) {
        adminToken = await s!.token('admin')
        const batch = generatedProbes.slice(i, i + 1000)
        await run(
          batch.flatMap((probe) => [
            { probe, credentials: true },
            { probe, credentials: false },
          ]),
        )
      }
      const seconds = (Date.now() - started) / 1000
      console.log(`      ${count} requests (${handWritten.length} hand-written) in ${seconds.toFixed(1)} s on ${dialect}`)
      expect(failures.slice(0, 15), `${failures.length} failures (seed ${SEED})`).to.deep.equal([])
      expect(count).to.be.at.least(dialect === 'sqlite' ? 10_000 : 500)
      // No request made the server log a failure of its own (a 5xx is logged with its cause).
      const errors = s!.logs.filter((line) => Number(line.level) >= 50)
      expect(
        errors.map((line) => line.msg),
        'error log lines',
      ).to.deep.equal([])
      // The admin still logs in: nothing in the corpus broke the server's state for good.
      expect(await s!.services.sessions.login(USERS.admin, PASSWORD, { actor: 'test', permissions: [] })).to.have.property('accessToken')
    })
  })
}
