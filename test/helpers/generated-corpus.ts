/**
 * A generated corpus of requests (fast-check, from a seed): for each route of the OpenAPI document,
 * values from its schemas — valid, then mutated (a field dropped, added or of the wrong type), or any
 * JSON — with edge strings in path parameters and query strings. The same seed gives the same corpus.
 */
import fc from 'fast-check'
import type { Probe } from './http-probes.js'
import { pathOf, type JsonSchema, type Operation } from './openapi-operations.js'
import { USERS } from './server.js'

/** Strings at the edges: empty, blank, control characters, lone surrogates, scripts, injection shapes, long. */
const EDGE_STRINGS = [
  '',
  ' ',
  '\t',
  '\n',
  '\u0000',
  '\u0000\u0001\u001f',
  '\ud800',
  '\udfff\ud800',
  '😀',
  'é',
  '‮',
  '<script>alert(1)</script>',
  "' OR '1'='1",
  '"; DROP TABLE gantry_users; --',
  '%s%n%x',
  '${jndi:x}',
  '../../etc/passwd',
  'null',
  'undefined',
  'true',
  '0',
  '-1',
  '1e309',
  'NaN',
  'x'.repeat(256),
  'x'.repeat(4097),
  'ü'.repeat(3000),
]

const SEEDED_EMAILS = [USERS.operator, USERS.viewer, 'nobody@example.com', 'OPERATOR@EXAMPLE.COM', ' viewer@example.com ']

/** About `total / 2` probes over every operation, in an order shuffled by `seed` (each is meant to be sent twice: with credentials and without). */
export function generatedCorpus(operations: readonly Operation[], total: number, seed: number): Probe[] {
  const perOperation = Math.ceil(total / 2 / operations.length)
  const probes: Probe[] = []
  operations.forEach((op, index) => {
    const arbitrary = probeOf(op)
    probes.push(...fc.sample(arbitrary, { numRuns: perOperation, seed: seed + index }))
  })
  return fc.sample(fc.shuffledSubarray(probes, { minLength: probes.length }), { numRuns: 1, seed })[0]!
}

function probeOf(op: Operation): fc.Arbitrary<Probe> {
  const param = fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...SEEDED_EMAILS).map(percentEncoded) },
    { weight: 2, arbitrary: fc.string({ maxLength: 40 }).map(percentEncoded) },
    { weight: 1, arbitrary: fc.constantFrom(...EDGE_STRINGS).map(percentEncoded) },
    { weight: 1, arbitrary: fc.constantFrom('%ff', '%00', '..%2f', '%', 'a%2Fb', '%E2%82') },
  )
  const params = fc.tuple(...op.params.map(() => param))
  const queryArb = Object.keys(op.query).length > 0 || op.method === 'GET' ? queryOf(op) : fc.constant('')
  const bodyArb = op.body
    ? bodyOf(op.body)
    : fc.option(
        fc.jsonValue({ maxDepth: 2 }).map((v) => JSON.stringify(v) ?? 'null'),
        { freq: 4, nil: undefined },
      )
  const contentType = fc.oneof(
    { weight: 12, arbitrary: fc.constant('application/json') },
    {
      weight: 1,
      arbitrary: fc.constantFrom('application/json; charset=utf-8', 'text/plain', 'application/json; charset=latin1', 'application/x-www-form-urlencoded'),
    },
  )
  return fc.tuple(params, queryArb, bodyArb, contentType).map(([values, query, body, type]) => {
    const path = pathOf(op.template, (name) => values[op.params.indexOf(name)] ?? 'x') + (query ? `?${query}` : '')
    return body === undefined ? { method: op.method, path } : { method: op.method, path, headers: { 'content-type': type }, body }
  })
}

/** Every byte but the unreserved ones as %XX (encodeURIComponent throws on a lone surrogate; UTF-8 turns it into U+FFFD). */
function percentEncoded(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((byte) => (/[A-Za-z0-9\-._~]/.test(String.fromCharCode(byte)) ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`))
    .join('')
}

/** A query string: valid values of the declared parameters, mutated, or noise. */
function queryOf(op: Operation): fc.Arbitrary<string> {
  const declared = Object.entries(op.query)
  const valid = fc.record(Object.fromEntries(declared.map(([name, schema]) => [name, valueOf(schema).map(String)])), {
    requiredKeys: [...op.queryRequired] as never[],
  })
  const wrong = fc.oneof(
    fc.constantFrom(...EDGE_STRINGS.filter((edge) => edge.length < 1000)),
    fc.string({ maxLength: 20 }),
    fc.integer().map(String),
    fc.double().map(String),
  )
  const names = declared.length > 0 ? fc.constantFrom(...declared.map(([name]) => name)) : fc.constantFrom('limit', 'cursor')
  const encode = (entries: [string, string | string[]][]) => {
    const search = new URLSearchParams()
    for (const [name, value] of entries) for (const one of Array.isArray(value) ? value : [value]) search.append(name, one)
    return search.toString()
  }
  return fc.oneof(
    valid.map((v) => encode(Object.entries(v) as [string, string][])),
    fc.tuple(valid, names, wrong).map(([v, name, value]) => encode([...(Object.entries(v) as [string, string][]), [name, value]])),
    fc
      .tuple(valid, names, fc.array(wrong, { minLength: 2, maxLength: 3 }))
      .map(([v, name, values]) => encode([...(Object.entries(v) as [string, string][]).filter(([n]) => n !== name), [name, values]])),
    fc
      .tuple(valid, fc.string({ minLength: 1, maxLength: 10 }), wrong)
      .map(([v, name, value]) => encode([...(Object.entries(v) as [string, string][]), [name, value]])),
    fc.string({ maxLength: 60 }).map((raw) => percentEncoded(raw).replace(/%(26|3D)/g, (_m, hex: string) => (hex === '26' ? '&' : '='))),
    fc.constant(''),
  )
}

/** A JSON body: a valid value, the same with one field dropped, added or of the wrong type, or any JSON. */
function bodyOf(schema: JsonSchema): fc.Arbitrary<string> {
  const valid = valueOf(schema)
  const wrongValue = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom<unknown>(...EDGE_STRINGS, null, true, false, 0, -1, 1.5, 2 ** 53, -(2 ** 63), [], {}, [null], { $gt: '' }),
  )
  const mutated = valid.chain((value) => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return fc.constant(value)
    const keys = Object.keys(value)
    const object = value as Record<string, unknown>
    const options: fc.Arbitrary<unknown>[] = [
      fc.tuple(fc.string({ minLength: 1, maxLength: 12 }), wrongValue).map(([key, extra]) => ({ ...object, [key]: extra })),
      fc
        .constantFrom('__proto__', 'constructor', 'prototype', 'id', 'createdAt', 'passwordHash', 'role', 'permissions')
        .chain((key) =>
          wrongValue.map(
            (extra) =>
              JSON.parse(
                JSON.stringify(object).replace(/^\{/, () => `{${JSON.stringify(key)}:${JSON.stringify(extra) ?? 'null'}${keys.length > 0 ? ',' : ''}`),
              ) as unknown,
          ),
        ),
    ]
    if (keys.length > 0) {
      options.push(fc.constantFrom(...keys).map((key) => Object.fromEntries(Object.entries(object).filter(([k]) => k !== key))))
      options.push(fc.tuple(fc.constantFrom(...keys), wrongValue).map(([key, wrong]) => ({ ...object, [key]: wrong })))
    }
    return fc.oneof(...options)
  })
  return fc
    .oneof(
      { weight: 3, arbitrary: valid.map((v) => JSON.stringify(v)) },
      { weight: 6, arbitrary: mutated.map((v) => JSON.stringify(v)) },
      { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
      { weight: 1, arbitrary: fc.constantFrom('null', '[]', '0', '""', 'true', '{}', '[{}]') },
      { weight: 1, arbitrary: fc.string({ maxLength: 40 }) },
    )
    .map((text) => text ?? 'null')
}

/** A value valid for a JSON Schema as zod writes them (objects, strings with formats and patterns, numbers, enums, unions). */
function valueOf(schema: JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  if ('const' in schema) return fc.constant(schema.const)
  if (schema.enum) return fc.constantFrom(...schema.enum)
  const union = schema.anyOf ?? schema.oneOf
  // Beside an object's own properties, a union is a rule across its fields (a password or generatePassword):
  // each branch narrows the object.
  if (union && schema.properties) return fc.oneof(...union.map((branch) => valueOf(narrowed(schema, branch), depth)))
  if (union) return fc.oneof(...union.map((s) => valueOf(s, depth)))
  if (Array.isArray(schema.type)) return fc.oneof(...schema.type.map((type) => valueOf({ ...schema, type }, depth)))
  switch (schema.type) {
    case 'string':
      return stringOf(schema)
    case 'integer':
      return fc.integer({ min: bound(schema, 'minimum', -1000), max: bound(schema, 'maximum', 1_000_000) })
    case 'number':
      return fc.double({ min: bound(schema, 'minimum', -1e6), max: bound(schema, 'maximum', 1e6), noNaN: true, noDefaultInfinity: true })
    case 'boolean':
      return fc.boolean()
    case 'null':
      return fc.constant(null)
    case 'array':
      return fc.array(schema.items && depth < 4 ? valueOf(schema.items, depth + 1) : fc.jsonValue({ maxDepth: 1 }), {
        minLength: Number(schema.minItems ?? 0),
        maxLength: Math.min(Number(schema.maxItems ?? 4), 4),
      })
    case 'object': {
      const properties = schema.properties ?? {}
      if (Object.keys(properties).length === 0 && typeof schema.additionalProperties === 'object') {
        return fc.dictionary(fc.string({ minLength: 1, maxLength: 10 }), valueOf(schema.additionalProperties, depth + 1), { maxKeys: 3 })
      }
      return fc.record(Object.fromEntries(Object.entries(properties).map(([name, s]) => [name, depth < 4 ? valueOf(s, depth + 1) : fc.constant(null)])), {
        requiredKeys: (schema.required ?? []) as never[],
      })
    }
    default:
      return fc.jsonValue({ maxDepth: 2 })
  }
}

/** An object schema narrowed by one branch of its `oneOf`/`anyOf`: the branch's properties and required fields added. */
function narrowed(schema: JsonSchema, branch: JsonSchema): JsonSchema {
  const properties = { ...schema.properties }
  for (const [name, property] of Object.entries(branch.properties ?? {})) properties[name] = { ...properties[name], ...property }
  return {
    ...schema,
    oneOf: undefined,
    anyOf: undefined,
    properties,
    required: [...new Set([...(schema.required ?? []), ...(branch.required ?? [])])],
  }
}

function bound(schema: JsonSchema, name: 'minimum' | 'maximum', fallback: number): number {
  const exclusive = schema[name === 'minimum' ? 'exclusiveMinimum' : 'exclusiveMaximum']
  if (typeof exclusive === 'number') return name === 'minimum' ? exclusive + 1 : exclusive - 1
  const value = schema[name]
  return typeof value === 'number' && Number.isFinite(value) ? Math.max(-(2 ** 31), Math.min(2 ** 31, value)) : fallback
}

function stringOf(schema: JsonSchema): fc.Arbitrary<string> {
  const minLength = Number(schema.minLength ?? 0)
  const maxLength = Number(schema.maxLength ?? 64)
  if (schema.format === 'email') return fc.oneof(fc.constantFrom(...SEEDED_EMAILS), fc.emailAddress())
  if (schema.format === 'date-time') return fc.date({ min: new Date(0), max: new Date(4e12), noInvalidDate: true }).map((d) => d.toISOString())
  if (typeof schema.pattern === 'string') {
    try {
      return fc.stringMatching(new RegExp(schema.pattern)).filter((v) => v.length >= minLength && v.length <= maxLength)
    } catch {
      // a pattern fast-check cannot generate from: plain strings, mostly refused, still worth sending
    }
  }
  return fc.oneof(
    { weight: 4, arbitrary: fc.string({ minLength, maxLength: Math.min(maxLength, minLength + 40) }) },
    { weight: 1, arbitrary: fc.constantFrom('a'.repeat(Math.max(minLength, 1)), 'a'.repeat(Math.min(maxLength, 5000))) },
  )
}
