import { expect } from 'chai'
import http from 'node:http'
import { isIP, type AddressInfo, type LookupFunction } from 'node:net'
import type { LookupAddress, LookupOptions } from 'node:dns'
import { GantryError } from '../../../../src/core/errors.js'
import { checkWebhookUrl, classifyAddress, guardedLookup, type Resolve } from '../../../../src/core/webhooks/targets.js'

// Each refused IPv4 range, at its edges where an edge is easy to get wrong.
const REFUSED_V4: readonly (readonly [string, string])[] = [
  ['0.0.0.0', 'unspecified'],
  ['0.1.2.3', 'unspecified'],
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['100.64.0.1', 'CGNAT'],
  ['100.100.100.200', 'CGNAT'],
  ['100.127.255.255', 'CGNAT'],
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['169.254.169.254', 'link-local'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.0.0.8', 'reserved'],
  ['192.0.2.10', 'documentation'],
  ['192.88.99.1', 'reserved'],
  ['192.168.1.1', 'private'],
  ['198.18.0.1', 'benchmarking'],
  ['198.19.255.255', 'benchmarking'],
  ['198.51.100.7', 'documentation'],
  ['203.0.113.9', 'documentation'],
  ['224.0.0.251', 'multicast'],
  ['239.255.255.250', 'multicast'],
  ['240.0.0.1', 'reserved'],
  ['255.255.255.254', 'reserved'],
  ['255.255.255.255', 'broadcast'],
]

const REFUSED_V6: readonly (readonly [string, string])[] = [
  ['::', 'unspecified'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['fc00::1', 'private'],
  ['fd00:ec2::254', 'private'],
  ['fe80::1', 'link-local'],
  ['fe80::1%eth0', 'link-local'],
  ['FE80::ABCD', 'link-local'],
  ['febf:ffff::1', 'link-local'],
  ['ff02::1', 'multicast'],
  ['ff05::1:3', 'multicast'],
  ['2001:db8::1', 'documentation'],
  ['3fff::1', 'documentation'],
  ['2001::1', 'reserved'],
  ['2001:2::1', 'reserved'],
  ['5f00::1', 'reserved'],
  ['100::1', 'reserved'],
  ['64:ff9b:1::a00:1', 'reserved'],
  ['fec0::1', 'reserved'],
  ['4000::1', 'reserved'],
]

/** The two 16-bit groups of an IPv4 address, in hex. */
const groups = (v4: string): [string, string] => {
  const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number)
  return [((a << 8) | b).toString(16), ((c << 8) | d).toString(16)]
}

/** Every IPv6 form that carries an IPv4 address, with the range name its refusal gives. */
const embeddedForms = (v4: string, range: string): (readonly [string, string])[] => {
  const [high, low] = groups(v4)
  const forms: (readonly [string, string])[] = [
    [`::ffff:${v4}`, `IPv4-mapped ${range}`],
    [`::ffff:${high}:${low}`, `IPv4-mapped ${range}`],
    [`0:0:0:0:0:ffff:${v4}`, `IPv4-mapped ${range}`],
    [`64:ff9b::${v4}`, `NAT64 ${range}`],
    [`2002:${high}:${low}::1`, `6to4 ${range}`],
  ]
  // ::0.0.0.0 is ::, refused by its own name.
  if (v4 !== '0.0.0.0') forms.push([`::${v4}`, `IPv4-compatible ${range}`])
  return forms
}

const REFUSED_EMBEDDED = REFUSED_V4.flatMap(([v4, range]) => embeddedForms(v4, range))
const REFUSED = [...REFUSED_V4, ...REFUSED_V6, ...REFUSED_EMBEDDED, ['::FFFF:7F00:1', 'IPv4-mapped loopback'] as const]

const PUBLIC = [
  '8.8.8.8',
  '1.1.1.1',
  '2606:4700:4700::1111',
  '2a00:1450:4001:81d::200e',
  '100.63.255.255',
  '100.128.0.0',
  '172.15.255.255',
  '172.32.0.0',
  '198.17.255.255',
  '198.20.0.0',
  '223.255.255.255',
  '::ffff:8.8.8.8',
  '64:ff9b::808:808',
  '2002:808:808::1',
]

/** The URL naming `address` as a literal. */
const literalUrl = (address: string): string => (isIP(address) === 6 ? `http://[${address}]/` : `http://${address}/`)

/** The GantryError `run` throws. */
function thrown(run: () => unknown): GantryError {
  try {
    run()
  } catch (err) {
    expect(err).to.be.instanceOf(GantryError)
    return err as GantryError
  }
  throw new Error('expected a refusal')
}

/** A resolver answering every name with `addresses`, recording what it was asked. */
function stubResolver(addresses: readonly string[]): Resolve & { calls: { hostname: string; options: LookupOptions }[] } {
  const calls: { hostname: string; options: LookupOptions }[] = []
  const resolve: Resolve = (hostname, options, callback) => {
    calls.push({ hostname, options })
    const answer = addresses.map((address) => ({ address, family: isIP(address) }))
    queueMicrotask(() => callback(null, answer))
  }
  return Object.assign(resolve, { calls })
}

interface Looked {
  readonly err: NodeJS.ErrnoException | null
  readonly address: string | LookupAddress[]
  readonly family: number | undefined
}

const look = (lookup: LookupFunction, hostname: string, options: LookupOptions = {}): Promise<Looked> =>
  new Promise((resolve) => lookup(hostname, options, (err, address, family) => resolve({ err, address, family })))

describe('core/webhooks/targets', () => {
  describe('classifyAddress', () => {
    it('refuses every non-public range, in IPv4, IPv6 and each form that embeds IPv4, naming the range', () => {
      const verdicts = REFUSED.map(([address]) => [address, classifyAddress(address)])
      expect(verdicts).to.deep.equal(REFUSED.map(([address, range]) => [address, { allowed: false, range }]))
    })

    it('allows public addresses, also when a mapped, NAT64 or 6to4 form carries one', () => {
      for (const address of PUBLIC) expect(classifyAddress(address), address).to.deep.equal({ allowed: true })
    })

    it('refuses what is not an IP address', () => {
      for (const text of ['example.com', '[::1]', '127.1', '1.2.3.04', '']) {
        expect(classifyAddress(text), text).to.deep.equal({ allowed: false, range: 'not an IP address' })
      }
    })
  })

  describe('checkWebhookUrl', () => {
    const strict = { allowPrivateTargets: false }
    const lenient = { allowPrivateTargets: true }

    it('returns the parsed URL of a public http or https target', () => {
      expect(checkWebhookUrl('https://hooks.example.com/in?topic=users', strict).href).to.equal('https://hooks.example.com/in?topic=users')
      expect(checkWebhookUrl('http://example.com:8080/', strict).port).to.equal('8080')
      expect(checkWebhookUrl('http://8.8.8.8/', strict).hostname).to.equal('8.8.8.8')
      expect(checkWebhookUrl('https://[2606:4700:4700::1111]/', strict).hostname).to.equal('[2606:4700:4700::1111]')
      expect(checkWebhookUrl('https://localhost.example.com/', strict).hostname).to.equal('localhost.example.com')
    })

    it('refuses other schemes, credentials, a fragment, a malformed or over-long URL, naming the field url', () => {
      const cases: [string, string][] = [
        ['ftp://example.com/', 'url-scheme'],
        ['file:///etc/passwd', 'url-scheme'],
        ['javascript:alert(1)', 'url-scheme'],
        ['ws://example.com/', 'url-scheme'],
        ['example.com/hook', 'url-malformed'],
        ['http://exa mple.com/', 'url-malformed'],
        ['https://user:secret@example.com/', 'url-credentials'],
        ['https://user@example.com/', 'url-credentials'],
        ['https://:secret@example.com/', 'url-credentials'],
        ['https://example.com/#top', 'url-fragment'],
        ['https://example.com/#', 'url-fragment'],
        [`https://example.com/${'a'.repeat(2049 - 'https://example.com/'.length)}`, 'url-too-long'],
      ]
      for (const [url, reason] of cases) {
        const err = thrown(() => checkWebhookUrl(url, lenient))
        expect([err.code, err.details?.fields, err.details?.reason], url).to.deep.equal(['INVALID_INPUT', ['url'], reason])
        expect(err.message, url).not.to.include('\n').and.not.to.include('secret')
      }
      expect(checkWebhookUrl(`https://example.com/${'a'.repeat(2048 - 'https://example.com/'.length)}`, strict).href).to.have.length(2048)
    })

    it('refuses an IP literal in any spelling, and localhost, when it is not public', () => {
      const cases: [string, string][] = [
        ['http://127.0.0.1/', 'loopback'],
        ['http://127.1/', 'loopback'],
        ['http://0x7f.1/', 'loopback'],
        ['http://2130706433/', 'loopback'],
        ['http://127.0.0.1./', 'loopback'],
        ['http://0/', 'unspecified'],
        ['http://169.254.169.254/latest/meta-data/', 'link-local'],
        ['http://[::1]/', 'loopback'],
        ['http://[::ffff:127.0.0.1]/', 'IPv4-mapped loopback'],
        ['http://[::ffff:7f00:1]/', 'IPv4-mapped loopback'],
        ['http://[fd00:ec2::254]/', 'private'],
        ['http://localhost:3000/', 'loopback'],
        ['http://LOCALHOST./', 'loopback'],
        ['http://hooks.localhost/', 'loopback'],
      ]
      for (const [url, range] of cases) {
        const err = thrown(() => checkWebhookUrl(url, strict))
        expect([err.code, err.details?.fields, err.details?.reason, err.details?.range], url).to.deep.equal(['INVALID_INPUT', ['url'], 'url-not-public', range])
        expect(checkWebhookUrl(url, lenient).hostname, url).to.be.a('string')
      }
    })

    it('lets every refused address through when private targets are allowed', () => {
      for (const [address] of REFUSED.filter(([address]) => !address.includes('%'))) {
        expect(() => checkWebhookUrl(literalUrl(address), strict), address).to.throw(GantryError)
        expect(checkWebhookUrl(literalUrl(address), lenient), address).to.be.instanceOf(URL)
      }
    })
  })

  describe('guardedLookup', () => {
    it('answers like dns.lookup, with all false or true, asking the resolver for every address', async () => {
      const resolve = stubResolver(['8.8.8.8', '2606:4700:4700::1111'])
      const lookup = guardedLookup({ allowPrivateTargets: false, resolve })
      expect(await look(lookup, 'hooks.example.com', { family: 0 })).to.deep.equal({ err: null, address: '8.8.8.8', family: 4 })
      expect(await look(lookup, 'hooks.example.com', { all: true })).to.deep.equal({
        err: null,
        address: [
          { address: '8.8.8.8', family: 4 },
          { address: '2606:4700:4700::1111', family: 6 },
        ],
        family: undefined,
      })
      expect(resolve.calls).to.deep.equal([
        { hostname: 'hooks.example.com', options: { family: 0, all: true } },
        { hostname: 'hooks.example.com', options: { all: true } },
      ])
    })

    it('refuses a name that resolves to a non-public address, naming the name and the range', async () => {
      const lookup = guardedLookup({ allowPrivateTargets: false, resolve: stubResolver(['127.0.0.1']) })
      for (const all of [false, true]) {
        const { err } = await look(lookup, 'rebind.example.com', { all })
        expect(err).to.be.instanceOf(Error).and.not.to.be.instanceOf(GantryError)
        expect(err).to.include({ code: 'WEBHOOK_TARGET_REFUSED', hostname: 'rebind.example.com', address: '127.0.0.1', range: 'loopback' })
        expect(err?.message).to.include('rebind.example.com').and.to.include('loopback')
      }
    })

    it('refuses a name when any one of its addresses is not public', async () => {
      const lookup = guardedLookup({ allowPrivateTargets: false, resolve: stubResolver(['8.8.8.8', '::ffff:10.0.0.1']) })
      for (const all of [false, true]) {
        expect((await look(lookup, 'mixed.example.com', { all })).err).to.include({ code: 'WEBHOOK_TARGET_REFUSED', range: 'IPv4-mapped private' })
      }
    })

    it('refuses every refused address, and lets each through when private targets are allowed', async () => {
      for (const [address, range] of REFUSED) {
        const strict = guardedLookup({ allowPrivateTargets: false, resolve: stubResolver([address]) })
        expect((await look(strict, 'target.example.com')).err, address).to.include({ code: 'WEBHOOK_TARGET_REFUSED', range })
        const lenient = guardedLookup({ allowPrivateTargets: true, resolve: stubResolver([address]) })
        expect(await look(lenient, 'target.example.com'), address).to.deep.equal({ err: null, address, family: isIP(address) })
      }
    })

    it('judges an IP literal itself, without asking the resolver', async () => {
      const resolve = stubResolver(['8.8.8.8'])
      const lookup = guardedLookup({ allowPrivateTargets: false, resolve })
      expect((await look(lookup, '127.0.0.1')).err).to.include({ code: 'WEBHOOK_TARGET_REFUSED', range: 'loopback' })
      expect((await look(lookup, '::ffff:7f00:1', { all: true })).err).to.include({ code: 'WEBHOOK_TARGET_REFUSED', range: 'IPv4-mapped loopback' })
      expect(await look(lookup, '1.1.1.1')).to.deep.equal({ err: null, address: '1.1.1.1', family: 4 })
      expect(resolve.calls).to.deep.equal([])
    })

    it("passes the resolver's error on, and fails a name with no address as dns.lookup does", async () => {
      const failure = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.example'), { code: 'ENOTFOUND' })
      const failing: Resolve = (_hostname, _options, callback) => queueMicrotask(() => callback(failure, []))
      expect((await look(guardedLookup({ allowPrivateTargets: false, resolve: failing }), 'nowhere.example')).err).to.equal(failure)
      const empty = guardedLookup({ allowPrivateTargets: true, resolve: stubResolver([]) })
      expect((await look(empty, 'nowhere.example', { all: true })).err).to.include({ code: 'ENOTFOUND', hostname: 'nowhere.example' })
    })

    // The one test that opens sockets: to a server on 127.0.0.1, reached through a name only the stub resolves.
    it('stops a real request at connect time when the name rebinds to loopback, and lets it through when allowed', async () => {
      let requests = 0
      const server = http.createServer((_req, res) => {
        requests++
        res.end('ok')
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      const { port } = server.address() as AddressInfo
      const get = (allowPrivateTargets: boolean) =>
        new Promise<number | NodeJS.ErrnoException>((resolve) => {
          const lookup = guardedLookup({ allowPrivateTargets, resolve: stubResolver(['127.0.0.1']) })
          http
            .get(`http://rebind.test:${port}/`, { lookup, agent: false }, (res) => res.resume().on('end', () => resolve(res.statusCode ?? 0)))
            .on('error', resolve)
        })
      try {
        expect(await get(false)).to.include({ code: 'WEBHOOK_TARGET_REFUSED', hostname: 'rebind.test', range: 'loopback' })
        expect(requests).to.equal(0)
        expect(await get(true)).to.equal(200)
        expect(requests).to.equal(1)
      } finally {
        await new Promise((resolve) => server.close(resolve))
      }
    })
  })
})
