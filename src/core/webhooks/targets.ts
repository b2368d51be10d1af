/**
 * Where a webhook may be delivered: public addresses only, so a webhook can't be aimed at the server's own
 * network (loopback, private ranges, the cloud metadata service). A target URL is checked when it is
 * saved and the address is checked again at connect time, through the HTTP agent's `lookup`, because a
 * name that resolved to a public address yesterday may resolve to 127.0.0.1 today (DNS rebinding).
 * Node connects to an IP literal without calling `lookup`, so a delivery must run checkWebhookUrl again too.
 * `allowPrivateTargets` (on in development) turns both checks off so a local receiver works.
 */
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { lookup, type LookupAddress, type LookupAllOptions } from 'node:dns'
import { GantryError, inputProblem } from '../errors.js'

/** The verdict on one address: a refusal names the range it falls in ('loopback', 'IPv4-mapped private' …). */
export type AddressVerdict = { readonly allowed: true } | { readonly allowed: false; readonly range: string }

/** A resolver shaped like `dns.lookup` asked for every address (`dns.lookup` itself is one). */
export type Resolve = (hostname: string, options: LookupAllOptions, callback: (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void) => void

interface Range {
  readonly range: string
  readonly list: BlockList
}

// Each list holds one subnet and is asked about addresses of its own family only: BlockList matches
// IPv4-mapped addresses against IPv4 rules and back, so ::ffff:0:0/96 would hold every IPv4 address.
const block = (family: 'ipv4' | 'ipv6', cidr: string): BlockList => {
  const [network = '', prefix] = cidr.split('/')
  const list = new BlockList()
  list.addSubnet(network, Number(prefix), family)
  return list
}

const ranges = (family: 'ipv4' | 'ipv6', rows: readonly (readonly [string, string])[]): readonly Range[] =>
  rows.map(([cidr, range]) => ({ range, list: block(family, cidr) }))

// IANA's special-purpose registry, the rows not globally reachable, and the documentation and benchmarking
// ranges: nothing public answers there, and some networks route them internally. Alibaba's metadata
// service (100.100.100.200) is CGNAT; everyone else's (169.254.169.254) is link-local.
const V4 = ranges('ipv4', [
  ['0.0.0.0/8', 'unspecified'],
  ['10.0.0.0/8', 'private'],
  ['100.64.0.0/10', 'CGNAT'],
  ['127.0.0.0/8', 'loopback'],
  ['169.254.0.0/16', 'link-local'],
  ['172.16.0.0/12', 'private'],
  ['192.0.0.0/24', 'reserved'],
  ['192.0.2.0/24', 'documentation'],
  ['192.88.99.0/24', 'reserved'],
  ['192.168.0.0/16', 'private'],
  ['198.18.0.0/15', 'benchmarking'],
  ['198.51.100.0/24', 'documentation'],
  ['203.0.113.0/24', 'documentation'],
  ['224.0.0.0/4', 'multicast'],
  ['255.255.255.255/32', 'broadcast'],
  ['240.0.0.0/4', 'reserved'],
])

// Forms that carry an IPv4 address in their last 32 bits (6to4 in bits 16-47) and reach it: judged by the
// address they carry, so ::ffff:127.0.0.1 is refused and 64:ff9b::8.8.8.8 (DNS64 on an IPv6-only network)
// is not. `at` is the index of the first of the two 16-bit groups that hold it.
const EMBEDDING = [
  { form: 'IPv4-mapped', list: block('ipv6', '::ffff:0:0/96'), at: 6 },
  { form: 'NAT64', list: block('ipv6', '64:ff9b::/96'), at: 6 },
  { form: '6to4', list: block('ipv6', '2002::/16'), at: 1 },
  // The deprecated IPv4-compatible form; :: and ::1 are in it too, and are refused by name first.
  { form: 'IPv4-compatible', list: block('ipv6', '::/96'), at: 6 },
]

const V6_EXACT = ranges('ipv6', [
  ['::/128', 'unspecified'],
  ['::1/128', 'loopback'],
])

// Named for the message; anything outside 2000::/3 (global unicast) is refused as 'reserved' after these.
// 2001::/23 holds Teredo, benchmarking (2001:2::/48) and ORCHID; 5f00::/16 is SRv6 segment ids.
const V6 = ranges('ipv6', [
  ['2001:db8::/32', 'documentation'],
  ['3fff::/20', 'documentation'],
  ['2001::/23', 'reserved'],
  ['5f00::/16', 'reserved'],
  ['fc00::/7', 'private'],
  ['fe80::/10', 'link-local'],
  ['ff00::/8', 'multicast'],
])
const GLOBAL_UNICAST = block('ipv6', '2000::/3')

const ALLOWED: AddressVerdict = { allowed: true }
const refused = (range: string): AddressVerdict => ({ allowed: false, range })

/** Whether a webhook may connect to `address` (an IPv4 or IPv6 address, an IPv6 zone allowed), and if not, which range it is in. */
export function classifyAddress(address: string): AddressVerdict {
  const family = isIP(address)
  if (family === 4) return classifyV4(address)
  if (family === 6) return classifyV6(address.split('%')[0]!)
  return refused('not an IP address')
}

function classifyV4(address: string): AddressVerdict {
  const hit = V4.find(({ list }) => list.check(address, 'ipv4'))
  return hit ? refused(hit.range) : ALLOWED
}

function classifyV6(address: string): AddressVerdict {
  const exact = V6_EXACT.find(({ list }) => list.check(address, 'ipv6'))
  if (exact) return refused(exact.range)
  const embedding = EMBEDDING.find(({ list }) => list.check(address, 'ipv6'))
  if (embedding) {
    const groups = groupsOf(address)
    const verdict = classifyV4(v4Of(groups[embedding.at]!, groups[embedding.at + 1]!))
    return verdict.allowed ? verdict : refused(`${embedding.form} ${verdict.range}`)
  }
  const hit = V6.find(({ list }) => list.check(address, 'ipv6'))
  if (hit) return refused(hit.range)
  return GLOBAL_UNICAST.check(address, 'ipv6') ? ALLOWED : refused('reserved')
}

/**
 * The eight 16-bit groups of a valid IPv6 address. Read from the WHATWG URL serialisation, which has
 * already settled case, a dotted IPv4 tail and zero compression: what is left is hex groups and one `::`.
 */
function groupsOf(address: string): number[] {
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1)
  const [head = '', tail = ''] = canonical.split('::')
  const read = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16)))
  const before = read(head)
  const after = read(tail)
  return [...before, ...new Array<number>(8 - before.length - after.length).fill(0), ...after]
}

const v4Of = (high: number, low: number): string => `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`

const MAX_URL_LENGTH = 2048

const invalid = (message: string, reason: string, facts?: Record<string, unknown>): GantryError =>
  new GantryError('INVALID_INPUT', message, { details: inputProblem(['url'], reason, facts) })

/**
 * The webhook target `url`, parsed and checked: http or https, no credentials or fragment, at most 2048
 * characters, and an IP literal or localhost name only when private targets are allowed. A host name is
 * checked when a delivery connects (guardedLookup). INVALID_INPUT naming the field `url` otherwise.
 */
export function checkWebhookUrl(url: string, options: { readonly allowPrivateTargets: boolean }): URL {
  if (url.length > MAX_URL_LENGTH) throw invalid(`The webhook URL is longer than ${MAX_URL_LENGTH} characters.`, 'url-too-long')
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw invalid('The webhook URL is not a valid absolute URL.', 'url-malformed')
  }
  // Checked again as normalised: percent-encoding can make a URL several times longer than typed.
  if (parsed.href.length > MAX_URL_LENGTH) throw invalid(`The webhook URL is longer than ${MAX_URL_LENGTH} characters once encoded.`, 'url-too-long')
  if (parsed.protocol !== 'https:' && parsed.protocol !== 'http:') {
    throw invalid(`The webhook URL must use https or http, not ${parsed.protocol.slice(0, -1)}.`, 'url-scheme', { scheme: parsed.protocol.slice(0, -1) })
  }
  // Never echo the URL: the refusal is about the secrets it may carry.
  if (parsed.username !== '' || parsed.password !== '') throw invalid('The webhook URL must not contain a user name or password.', 'url-credentials')
  // Once parsed, '#' can only start the fragment (an empty one included, which `hash` reports as '').
  if (parsed.href.includes('#')) throw invalid('The webhook URL must not have a fragment (#…): it is never sent.', 'url-fragment')
  if (!options.allowPrivateTargets) refusePrivateHost(parsed.hostname)
  return parsed
}

/** Refuses a host that names a non-public address by itself: an IP literal (already in canonical form) or localhost. */
function refusePrivateHost(hostname: string): void {
  const verdict = hostVerdict(hostname)
  if (verdict.allowed) return
  throw invalid(`The webhook URL's host ${hostname} is a ${verdict.range} address; webhooks go to public addresses only.`, 'url-not-public', {
    host: hostname,
    range: verdict.range,
  })
}

function hostVerdict(hostname: string): AddressVerdict {
  const literal = hostname.startsWith('[') ? hostname.slice(1, -1) : hostname
  if (isIP(literal)) return classifyAddress(literal)
  // localhost and its subdomains are loopback by RFC 6761, whatever DNS says; a trailing dot changes nothing.
  const name = hostname.endsWith('.') ? hostname.slice(0, -1) : hostname
  return name === 'localhost' || name.endsWith('.localhost') ? refused('loopback') : ALLOWED
}

/**
 * A `lookup` for http(s).request, an http(s).Agent or axios, in dns.lookup's callback form (`all` true or
 * false): resolves with `resolve` and fails with code WEBHOOK_TARGET_REFUSED when any address is not
 * public, unless private targets are allowed. Not a GantryError: it surfaces as a failed delivery.
 */
export function guardedLookup(options: { readonly allowPrivateTargets: boolean; readonly resolve?: Resolve }): LookupFunction {
  const { allowPrivateTargets, resolve = lookup } = options
  return (hostname, lookupOptions, callback) => {
    const answer = (err: NodeJS.ErrnoException | null, addresses: LookupAddress[]): void => {
      if (err) return callback(err, [])
      const [first] = addresses
      if (!first) return callback(notFound(hostname), [])
      const refusal = allowPrivateTargets ? undefined : refusalOf(hostname, addresses)
      if (refusal) return callback(refusal, [])
      if (lookupOptions.all) return callback(null, addresses)
      callback(null, first.address, first.family)
    }
    const family = isIP(hostname)
    // A literal is its own answer: no resolver may turn it into another address. Answered on a later tick, as dns.lookup does.
    if (family) queueMicrotask(() => answer(null, [{ address: hostname, family }]))
    else resolve(hostname, { ...lookupOptions, all: true }, answer)
  }
}

function refusalOf(hostname: string, addresses: readonly LookupAddress[]): NodeJS.ErrnoException | undefined {
  for (const { address } of addresses) {
    const verdict = classifyAddress(address)
    if (!verdict.allowed) {
      // The range, not the address: this message reaches whoever may test or list the endpoint, and an internal
      // address is not theirs to learn.
      const message = `Webhook target ${hostname} resolves to a ${verdict.range} address; webhooks go to public addresses only.`
      return Object.assign(new Error(message), { code: 'WEBHOOK_TARGET_REFUSED', hostname, address, range: verdict.range })
    }
  }
  return undefined
}

const notFound = (hostname: string): NodeJS.ErrnoException => Object.assign(new Error(`${hostname} resolves to no address.`), { code: 'ENOTFOUND', hostname })
