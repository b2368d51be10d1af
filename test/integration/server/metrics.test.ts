/**
 * GET /metrics: Prometheus text exposition (0.0.4) that a strict parser accepts, requests counted under
 * their route templates (never raw paths: bounded label values, also for 404s), login outcomes and
 * rate-limit decisions counted, and the database pool reported.
 */
import { randomBytes } from 'node:crypto'
import type { Server } from 'node:http'
import { expect } from 'chai'
import type { Knex } from 'knex'
import request from 'supertest'
import { ruleNames } from '../../../src/server/compose.js'
import { createMetrics, type PoolStats } from '../../../src/server/metrics.js'
import { createTestServer, PASSWORD, USERS, type TestServer } from '../../helpers/server.js'

interface Sample {
  readonly name: string
  readonly labels: Readonly<Record<string, string>>
  readonly value: number
}

interface Family {
  readonly name: string
  type: string
  help: string | undefined
  readonly samples: Sample[]
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
/** A float as Go's strconv.ParseFloat reads it (the format's definition): NaN and Inf in any case, which prom-client uses ('Nan'). */
const VALUE = /^(?:[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?|[+-]?inf(?:inity)?|nan)$/i
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])

/**
 * A strict parser of the Prometheus text format 0.0.4 (prom-client writes it but has no parser): every
 * line well formed, HELP and TYPE once and before a family's samples, a family's samples together, no
 * series twice, histogram buckets cumulative and ending in +Inf = _count. Throws on the first fault.
 */
function parseExposition(text: string): Map<string, Family> {
  if (!text.endsWith('\n')) throw new Error('the exposition must end with a newline')
  if (text.includes('\r')) throw new Error('carriage return in the exposition')
  const families = new Map<string, Family>()
  const closed = new Set<string>()
  const series = new Set<string>()
  let current: Family | undefined
  const family = (name: string): Family => {
    let found = families.get(name)
    if (!found) {
      found = { name, type: 'untyped', help: undefined, samples: [] }
      families.set(name, found)
    }
    if (current && current !== found) closed.add(current.name)
    if (closed.has(name)) throw new Error(`the samples of ${name} are not together`)
    current = found
    return found
  }
  const lines = text.slice(0, -1).split('\n')
  lines.forEach((line, index) => {
    const fail = (why: string): never => {
      throw new Error(`line ${index + 1} (${JSON.stringify(line.slice(0, 120))}): ${why}`)
    }
    if (line === '') return
    if (line.startsWith('#')) {
      const [, keyword, name, ...rest] = line.split(' ')
      if (keyword !== 'HELP' && keyword !== 'TYPE') return
      if (!name || !NAME.test(name)) fail('bad metric name')
      const target = family(name!)
      if (target.samples.length > 0) fail(`${keyword} after samples`)
      if (keyword === 'HELP') {
        if (target.help !== undefined) fail('second HELP')
        const help = rest.join(' ')
        if (/\\[^\\n]/.test(help.replaceAll('\\\\', ''))) fail('bad escape in HELP')
        target.help = help
      } else {
        if (target.type !== 'untyped' || rest.length !== 1 || !TYPES.has(rest[0]!)) fail('bad or second TYPE')
        target.type = rest[0]!
      }
      return
    }
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{.*\})? (\S+)(?: (-?\d+))?$/.exec(line)
    if (!match) return fail('not a sample')
    const [, name, labelText, valueText] = match
    if (!VALUE.test(valueText!)) fail('bad value')
    const labels = labelText ? parseLabels(labelText, fail) : {}
    const owner = current && ownedBy(current, name!) ? current : family(familyName(name!, families))
    if (!ownedBy(owner, name!)) fail(`sample ${name} does not belong to ${owner.type} ${owner.name}`)
    const key = `${name}${JSON.stringify(Object.entries(labels).sort())}`
    if (series.has(key)) fail('series repeated')
    series.add(key)
    owner.samples.push({
      name: name!,
      labels,
      value: /inf/i.test(valueText!) ? (valueText!.startsWith('-') ? -Infinity : Infinity) : /nan/i.test(valueText!) ? NaN : Number(valueText),
    })
  })
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

function familyName(sample: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    const base = sample.slice(0, -suffix.length)
    if (sample.endsWith(suffix) && ['histogram', 'summary'].includes(families.get(base)?.type ?? '')) return base
  }
  return sample
}

function ownedBy(family: Family, sample: string): boolean {
  if (family.type === 'histogram') return [`${family.name}_bucket`, `${family.name}_sum`, `${family.name}_count`].includes(sample)
  if (family.type === 'summary') return [family.name, `${family.name}_sum`, `${family.name}_count`].includes(sample)
  return sample === family.name
}

function parseLabels(text: string, fail: (why: string) => never): Record<string, string> {
  const labels: Record<string, string> = {}
  let rest = text.slice(1, -1)
  while (rest.length > 0) {
    const name = /^([^=]+)="/.exec(rest)
    if (!name || !LABEL_NAME.test(name[1]!)) fail('bad label name')
    rest = rest.slice(name![0].length)
    let value = ''
    for (;;) {
      const char = rest[0]
      if (char === undefined) fail('unterminated label value')
      if (char === '"') break
      if (char === '\n') fail('raw newline in a label value')
      if (char === '\\') {
        const escaped = rest[1]
        if (escaped === '\\' || escaped === '"') value += escaped
        else if (escaped === 'n') value += '\n'
        else fail('bad escape in a label value')
        rest = rest.slice(2)
      } else {
        value += char
        rest = rest.slice(1)
      }
    }
    if (name![1]! in labels) fail('label repeated')
    labels[name![1]!] = value
    rest = rest.slice(1)
    if (rest.startsWith(',')) rest = rest.slice(1)
    else if (rest.length > 0) fail('labels not separated by commas')
  }
  return labels
}

function checkHistogram(family: Family): void {
  const groups = new Map<string, { buckets: [number, number][]; count?: number }>()
  const groupOf = (labels: Readonly<Record<string, string>>) => {
    const key = JSON.stringify(
      Object.entries(labels)
        .filter(([name]) => name !== 'le')
        .sort(),
    )
    if (!groups.has(key)) groups.set(key, { buckets: [] })
    return groups.get(key)!
  }
  for (const sample of family.samples) {
    if (sample.name.endsWith('_bucket')) {
      const le = sample.labels.le
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`)
      groupOf(sample.labels).buckets.push([le === '+Inf' ? Infinity : Number(le), sample.value])
    } else if (sample.name.endsWith('_count')) groupOf(sample.labels).count = sample.value
  }
  for (const [key, { buckets, count }] of groups) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]![0] > buckets[i - 1]![0]) || buckets[i]![1] < buckets[i - 1]![1])
        throw new Error(`${family.name}${key}: buckets not cumulative and ascending`)
    }
    const last = buckets[buckets.length - 1]
    if (!last || last[0] !== Infinity || last[1] !== count) throw new Error(`${family.name}${key}: no +Inf bucket equal to _count`)
  }
}

/** The value of one series, 0 when absent. */
function valueOf(families: Map<string, Family>, name: string, labels: Record<string, string>): number {
  const sample = [...families.values()]
    .flatMap((family) => family.samples)
    .find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
  return sample?.value ?? 0
}

describe('GET /metrics', function () {
  let s: TestServer
  // One listening server for the file: supertest would otherwise bind a new one per request.
  let server: Server
  let admin: string
  const scrape = async (): Promise<Map<string, Family>> => {
    const res = await request(server).get('/metrics').expect(200)
    expect(res.headers['content-type']).to.match(/^text\/plain; version=0\.0\.4; charset=utf-8$/)
    return parseExposition(res.text)
  }
  const routeLabels = (families: Map<string, Family>): string[] =>
    [...new Set(families.get('gantry_http_requests_total')?.samples.map((x) => x.labels.route ?? '') ?? [])].sort()

  before(async () => {
    // A small default rule (5 at once, 10/s after) and a lockout after 2 failures, so decisions and every
    // login outcome show up within a few requests; tests move the clock to refill the budget.
    s = await createTestServer('sqlite', {
      environment: { rateLimits: { default: { limit: 600, window: '1m', burst: 5 } }, auth: { lockout: { maxFailures: 2, minutes: 15 } } },
    })
    admin = await s.token('admin')
    server = s.app.listen(0, '127.0.0.1')
  })
  after(async () => {
    await new Promise((resolve) => server?.close(resolve))
    await s?.cleanup()
  })
  beforeEach(() => s.clock.advance(60_000))

  it('is well-formed text exposition, and the parser refuses what is not', async () => {
    await request(server).get('/api/v1/auth/me').set('Authorization', `Bearer ${admin}`).expect(200)
    const families = await scrape()
    expect(families.get('gantry_http_requests_total')?.type).to.equal('counter')
    expect(families.get('gantry_http_request_duration_seconds')?.type).to.equal('histogram')
    for (const bad of [
      'x 1',
      'x{a="1} 1\n',
      'x{a="1"} one\n',
      'x{a="1",a="2"} 1\n',
      '# TYPE x counter\n# TYPE x gauge\n',
      'x 1\ny 1\nx{a="1"} 2\n',
      'x 1\nx 2\n',
      'x{a="\\q"} 1\n',
      'x 1.2.3\n',
      'x NaNa\n',
    ]) {
      expect(() => parseExposition(bad), bad).to.throw()
    }
  })

  it('labels requests with the route template, not the path', async () => {
    // Refused as an address (a one-letter top-level domain), answered all the same under the template.
    await request(server).get('/api/v1/admin/users/x@y.z').set('Authorization', `Bearer ${admin}`).expect(400)
    await request(server).get('/api/v1/admin/users/nobody@example.com').set('Authorization', `Bearer ${admin}`).expect(404)
    await request(server)
      .get(`/api/v1/admin/users/${encodeURIComponent(USERS.viewer)}`)
      .set('Authorization', `Bearer ${admin}`)
      .expect(200)
    const families = await scrape()
    expect(valueOf(families, 'gantry_http_requests_total', { route: '/api/v1/admin/users/:email', method: 'GET', status: '400' })).to.equal(1)
    expect(valueOf(families, 'gantry_http_requests_total', { route: '/api/v1/admin/users/:email', method: 'GET', status: '404' })).to.equal(1)
    expect(valueOf(families, 'gantry_http_requests_total', { route: '/api/v1/admin/users/:email', method: 'GET', status: '200' })).to.equal(1)
    expect(valueOf(families, 'gantry_http_request_duration_seconds_count', { route: '/api/v1/admin/users/:email', method: 'GET' })).to.equal(3)
    const doc = (await request(server).get('/api/openapi.json').expect(200)).body as { paths: Record<string, unknown> }
    const templates = Object.keys(doc.paths).map((path) => path.replace(/\{([^}]+)\}/g, ':$1'))
    expect(routeLabels(families).filter((route) => route !== 'unmatched' && !templates.includes(route))).to.deep.equal([])
    // A method the path does not serve counts under the path's template too.
    await request(server).put('/api/v1/auth/me').set('Authorization', `Bearer ${admin}`).expect(405)
    expect(valueOf(await scrape(), 'gantry_http_requests_total', { route: '/api/v1/auth/me', method: 'PUT', status: '405' })).to.equal(1)
  })

  it('counts unknown routes as unmatched: a thousand random 404s add no label value', async () => {
    await request(server).get('/no/such/route').expect(404)
    await request(server).get('/api/v1/admin/users/nobody@example.com').set('Authorization', `Bearer ${admin}`).expect(404)
    const before = await scrape()
    const seriesBefore = before
      .get('gantry_http_requests_total')!
      .samples.map((x) => JSON.stringify(x.labels))
      .sort()
    for (let i = 0; i < 1000; i += 5) {
      s.clock.advance(500) // the default rule's burst refilled (5 at 10/s), the token still valid after all
      await Promise.all(
        [0, 1, 2, 3, 4].map(async (j) => {
          const noise = randomBytes(6).toString('hex')
          const path = [
            `/${noise}`,
            `/api/v1/${noise}`,
            `/api/v1/admin/${noise}/x`,
            `/api/v1/admin/users/${noise}@example.com`,
            `/api/health/${noise}`,
            `/metrics/${noise}`,
          ][(i + j) % 6]!
          const res = await request(server).get(path).set('Authorization', `Bearer ${admin}`)
          expect(res.status, path).to.equal(404)
        }),
      )
    }
    const after = await scrape()
    expect(
      after
        .get('gantry_http_requests_total')!
        .samples.map((x) => JSON.stringify(x.labels))
        .sort(),
    ).to.deep.equal(seriesBefore)
    expect(
      valueOf(after, 'gantry_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }) -
        valueOf(before, 'gantry_http_requests_total', { route: 'unmatched', method: 'GET', status: '404' }),
    ).to.equal(833)
    expect(routeLabels(after)).to.deep.equal(routeLabels(before))
  })

  it('counts login outcomes', async () => {
    const login = (email: string, password: string) => {
      s.clock.advance(1000) // past the default rule's pace (10/s): only the login rules decide here
      return request(server).post('/api/v1/auth/login').send({ email, password })
    }
    await login(USERS.viewer, PASSWORD).expect(200)
    await login(USERS.operator, 'wrong password 1').expect(401)
    await login(USERS.operator, 'wrong password 2').expect(401)
    // Locked now: even the right password is refused as a wrong one, and counted so (/metrics is public).
    await login(USERS.operator, PASSWORD).expect(401)
    await login(USERS.operator, PASSWORD).expect(401)
    await login(USERS.operator, PASSWORD).expect(401)
    // The per-account login rule admits 5 at once; the sixth is refused before the password is checked.
    await login(USERS.operator, PASSWORD).expect(429)
    await login(USERS.viewer, '').expect(400)
    const families = await scrape()
    expect(families.get('gantry_logins_total')?.type).to.equal('counter')
    const outcome = (name: string) => valueOf(families, 'gantry_logins_total', { outcome: name })
    expect({ success: outcome('success'), invalid: outcome('invalid'), throttled: outcome('throttled'), error: outcome('error') }).to.deep.equal({
      success: 1,
      invalid: 5,
      throttled: 1,
      error: 0,
    })
    expect(families.get('gantry_logins_total')?.samples.map((x) => x.labels.outcome)).to.not.include('locked')
  })

  it('counts rate-limit decisions by rule and result', async () => {
    const before = await scrape()
    for (let i = 0; i < 8; i++) await request(server).get('/api/v1/auth/me').set('Authorization', `Bearer ${admin}`)
    const families = await scrape()
    const delta = (result: string) =>
      valueOf(families, 'gantry_ratelimit_decisions_total', { rule: 'default', result }) -
      valueOf(before, 'gantry_ratelimit_decisions_total', { rule: 'default', result })
    expect({ admitted: delta('admitted'), refused: delta('refused') }).to.deep.equal({ admitted: 5, refused: 3 })
    expect(
      valueOf(families, 'gantry_http_requests_total', { route: 'unmatched', method: 'GET', status: '429' }) +
        valueOf(families, 'gantry_http_requests_total', { route: '/api/v1/auth/me', method: 'GET', status: '429' }),
    ).to.be.at.least(3)
    // Scrapes themselves are exempt: they spend no budget and are never refused.
    for (let i = 0; i < 10; i++) await request(server).get('/metrics').expect(200)
  })

  it('shows every known series of the labelled counters from the first scrape, at 0', async () => {
    const families = await scrape()
    const series = (name: string) => families.get(name)?.samples.map((x) => x.labels) ?? []
    expect(series('gantry_logins_total').map((labels) => labels.outcome)).to.include.members(['success', 'invalid', 'throttled', 'error'])
    const rules = ruleNames(s.rateLimits)
    expect(rules).to.include.members(['default', 'login-ip'])
    expect(series('gantry_ratelimit_store_errors_total')).to.have.deep.members(rules.map((rule) => ({ rule })))
    for (const rule of rules) {
      expect(valueOf(families, 'gantry_ratelimit_store_errors_total', { rule }), rule).to.equal(0)
      for (const result of ['admitted', 'refused', 'shadow_refused'])
        expect(series('gantry_ratelimit_decisions_total'), `${rule} ${result}`).to.deep.include({ rule, result })
    }

    // A rule put in force later has its series from the next scrape; counting leaves them counts.
    const inForce = ['a']
    const metrics = createMetrics({ defaults: false, rules: () => inForce })
    const read = async () => parseExposition(await metrics.registry.metrics())
    expect((await read()).get('gantry_ratelimit_store_errors_total')?.samples).to.deep.equal([
      { name: 'gantry_ratelimit_store_errors_total', labels: { rule: 'a' }, value: 0 },
    ])
    inForce.push('b')
    metrics.observeDecision({
      allowed: true,
      headers: {},
      shadowRefused: [],
      unavailable: false,
      applied: [{ rule: 'a', allowed: true, shadow: false, storeError: true }],
    })
    const after = await read()
    expect(after.get('gantry_ratelimit_store_errors_total')?.samples.map((x) => [x.labels.rule, x.value])).to.deep.equal([
      ['a', 1],
      ['b', 0],
    ])
    expect(valueOf(after, 'gantry_ratelimit_decisions_total', { rule: 'a', result: 'admitted' })).to.equal(1)
    expect(after.get('gantry_ratelimit_decisions_total')?.samples).to.have.length(6)
  })

  it('reports the database pool as gauges read at scrape time', async () => {
    const knex: Knex = (await s.runtime.database()).knex
    const pool = (knex.client as { pool?: PoolStats }).pool
    expect(pool, 'knex pool').to.not.equal(undefined)
    // The test app is built without the pool; serve.ts passes it the same way as here.
    const metrics = createMetrics({ pool, defaults: true })
    const families = parseExposition(await metrics.registry.metrics())
    for (const name of ['gantry_db_pool_used_connections', 'gantry_db_pool_free_connections', 'gantry_db_pool_pending_acquires']) {
      expect(families.get(name)?.type, name).to.equal('gauge')
      expect(families.get(name)!.samples[0]!.value, name).to.be.a('number').and.at.least(0)
    }
    expect(families.get('gantry_process_cpu_user_seconds_total')?.type).to.equal('counter')
    // Prometheus's naming rule, which promtool checks (promtool.test.ts runs it): _total names counters, only them.
    for (const [name, family] of families) expect(name.endsWith('_total'), `${family.type} ${name}`).to.equal(family.type === 'counter')
    expect(families.get('gantry_nodejs_active_handles')?.type).to.equal('gauge')
    const held = await knex.client.acquireConnection()
    try {
      expect(valueOf(parseExposition(await metrics.registry.metrics()), 'gantry_db_pool_used_connections', {}))
        .to.equal(pool!.numUsed())
        .and.at.least(1)
    } finally {
      await knex.client.releaseConnection(held)
    }
  })
})
