/**
 * A hand-written corpus of what broken clients and attackers send to the HTTP edge: bodies that are not
 * JSON or not what a route takes, encodings, credentials that are not, absurd query strings, path
 * weirdness on every parameterised route, methods a route does not serve, exotic text the database must
 * store or search, and headers that are too much. Built from the routes of the OpenAPI document.
 */
import { deflateSync, gzipSync } from 'node:zlib'
import type { Probe } from './http-probes.js'
import { pathOf, type Operation } from './openapi-operations.js'
import { USERS } from './server.js'

/**
 * Every hand-written probe. The server is seeded with USERS; `password` is theirs (the Basic-auth probe
 * sends it, and it is a valid password for the users the corpus creates).
 */
export function handWrittenCorpus(operations: readonly Operation[], adminToken: string, password: string): Probe[] {
  const login = '/api/v1/auth/login'
  const json = { 'content-type': 'application/json' }
  const valid = JSON.stringify({ email: USERS.viewer, password: 'not the password' })
  const deep = (levels: number) => '['.repeat(levels) + ']'.repeat(levels)
  const deepObject = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels)
  const bodies: [Record<string, string>, string | Buffer][] = [
    [json, '{bad json'],
    [json, '{"email": "a@b.c", "password": "x"'],
    [json, valid.slice(0, 20)],
    [json, '{"email": "a@b.c",}'],
    [json, "{'email': 'a@b.c'}"],
    [json, 'undefined'],
    [json, 'NaN'],
    [json, '\u0000'],
    [json, '\ufeff{"email":"a@b.c","password":"x"}'],
    [json, Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0x7b])],
    [json, 'null'],
    [json, '[]'],
    [json, '[{"email":"a@b.c","password":"x"}]'],
    [json, '"a string"'],
    [json, '42'],
    [json, 'true'],
    [json, '{}'],
    [json, '{"email": 1, "password": 2}'],
    [json, '{"email": ["a@b.c"], "password": {"x": 1}}'],
    [json, '{"email": null, "password": null}'],
    [json, '{"email": "a@b.c", "password": 1e309}'],
    [json, '{"email": "a@b.c", "password": "x", "admin": true}'],
    [json, '{"__proto__": {"admin": true}, "email": "a@b.c", "password": "x"}'],
    [json, '{"constructor": {"prototype": {"admin": true}}, "email": "a@b.c", "password": "x"}'],
    [json, '{"email": "a@b.c", "password": "x", "__proto__": null}'],
    [json, JSON.stringify({ email: 'a'.repeat(300) + '@b.c', password: 'x' })],
    [json, JSON.stringify({ email: 'a@b.c', password: 'p'.repeat(5000) })],
    [json, JSON.stringify({ email: 'a@b.c', password: 'p'.repeat(90_000) })],
    [json, JSON.stringify({ email: '\u0000@b.c', password: '\ud800' })],
    [json, JSON.stringify({ email: "' OR 1=1 --", password: "'; DROP TABLE gantry_users; --" })],
    [json, JSON.stringify({ email: '😀@例え.jp', password: '‮rtl' })],
    [json, JSON.stringify({ email: 'a@b.c', password: 'x', pad: 'y'.repeat(150_000) })],
    [json, deep(1000)],
    [json, deepObject(1000)],
    [json, deep(50_000)],
    [json, `{"email": "a@b.c", "password": "x", "n": ${deep(40)}}`],
    [{}, valid],
    [{ 'content-type': 'text/plain' }, valid],
    [{ 'content-type': 'application/x-www-form-urlencoded' }, 'email=a%40b.c&password=x'],
    [{ 'content-type': 'multipart/form-data; boundary=x' }, '--x\r\nContent-Disposition: form-data; name="email"\r\n\r\na@b.c\r\n--x--'],
    [{ 'content-type': 'application/json; charset=latin1' }, valid],
    [{ 'content-type': 'application/json; charset=iso-8859-1' }, Buffer.from(valid, 'latin1')],
    [{ 'content-type': 'application/json; charset=utf-16' }, valid],
    [{ 'content-type': 'application/json; charset=utf-16le' }, Buffer.from(valid, 'utf16le')],
    [{ 'content-type': 'application/json; charset=nonsense' }, valid],
    [{ 'content-type': 'application/json;;;' }, valid],
    [{ 'content-type': 'application/vnd.api+json' }, valid],
    [{ 'content-type': 'json' }, valid],
    [{ 'content-type': '' }, valid],
    [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, 'this is not gzip'],
    [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(valid).subarray(0, 15)],
    [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(valid)],
    [{ 'content-type': 'application/json', 'content-encoding': 'gzip' }, gzipSync(Buffer.alloc(5_000_000, 0x20))],
    [{ 'content-type': 'application/json', 'content-encoding': 'deflate' }, 'not deflate'],
    [{ 'content-type': 'application/json', 'content-encoding': 'deflate' }, deflateSync(valid)],
    [{ 'content-type': 'application/json', 'content-encoding': 'br' }, 'not brotli'],
    [{ 'content-type': 'application/json', 'content-encoding': 'compress' }, valid],
    [{ 'content-type': 'application/json', 'content-encoding': 'gzip, gzip' }, gzipSync(gzipSync(valid))],
    [{ 'content-type': 'application/json', 'content-encoding': 'identity' }, valid],
  ]
  const probes: Probe[] = bodies.map(([headers, body]) => ({ method: 'POST', path: login, headers, body }))
  // Chunked bodies (no Content-Length): empty, and too large.
  probes.push({ method: 'POST', path: login, headers: { ...json, 'transfer-encoding': 'chunked' }, body: '' })
  probes.push({ method: 'POST', path: login, headers: { ...json, 'transfer-encoding': 'chunked' }, body: 'x'.repeat(200_000) })
  // An empty body with a JSON content type, on every route that takes a body.
  for (const op of operations.filter((o) => o.body)) {
    probes.push({ method: op.method, path: pathOf(op.template, () => 'x'), headers: { ...json, 'content-length': '0' } })
    probes.push({ method: op.method, path: pathOf(op.template, () => 'x'), headers: json, body: 'null' })
  }

  // Credentials that are not.
  const jwt = (header: object, payload: object) =>
    `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.`
  const now = Math.floor(Date.now() / 1000)
  const claims = { sub: '1', iss: 'gantry', aud: 'gantry', iat: now, exp: now + 600, jti: 'x', permissions: ['*'] }
  const [head, payload] = adminToken.split('.')
  const authorizations = [
    adminToken,
    `Basic ${Buffer.from(`${USERS.admin}:${password}`).toString('base64')}`,
    'Bearer',
    'Bearer ',
    'Bearer  ',
    'bearer x',
    'Bearer a b',
    'Bearer\tx',
    `Bearer ${'x'.repeat(10_000)}`,
    'Bearer gk_',
    'Bearer gk_development_',
    'Bearer gk_development_abc_def',
    `Bearer gk_development_${'a'.repeat(12)}_${'b'.repeat(40)}`,
    'Bearer gk_production_AAAAAAAAAAAA_BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB',
    `Bearer gk_${'Z'.repeat(5000)}`,
    `Bearer ${jwt({ alg: 'none', typ: 'JWT' }, claims)}`,
    `Bearer ${jwt({ alg: 'HS256', typ: 'JWT' }, claims)}`,
    `Bearer ${jwt({ alg: 'HS256', typ: 'JWT', kid: '../../etc/passwd' }, claims)}x`,
    `Bearer ${head}.${payload}.`,
    `Bearer ${head}.${Buffer.from(JSON.stringify({ ...claims, exp: 1e20 })).toString('base64url')}.sig`,
    `Bearer ${adminToken}x`,
    `Bearer ${adminToken.slice(0, -2)}`,
    'Bearer ....',
    'Bearer e30.e30.e30',
    'Bearer %00',
    'Bearer é',
    '\u00e9\u00e8',
  ]
  const authed = [
    '/api/v1/auth/me',
    ...operations.filter((o) => o.method === 'GET' && o.template.startsWith('/api/v1/admin') && o.params.length === 0).map((o) => o.template),
  ]
  for (const path of authed.slice(0, 4)) {
    for (const authorization of authorizations) probes.push({ method: 'GET', path, headers: { authorization } })
    probes.push({ method: 'GET', path, headers: { 'x-api-key': 'gk_garbage' } })
    probes.push({ method: 'GET', path, headers: { 'x-api-key': '' } })
    probes.push({ method: 'GET', path, headers: { 'x-api-key': 'x'.repeat(10_000) } })
    probes.push({ method: 'GET', path, headers: { 'x-api-key': adminToken } })
    probes.push({ method: 'GET', path, headers: { authorization: 'Bearer ключ' }, raw: true })
    probes.push({ method: 'GET', path, headers: { 'x-api-key': 'gk_ключ' }, raw: true })
  }

  // Absurd query strings on every list route (and on routes that take no query).
  const queries = [
    'limit=-1',
    'limit=0',
    'limit=1e309',
    'limit=1e3',
    'limit=NaN',
    'limit=Infinity',
    'limit=0x10',
    'limit=9007199254740993',
    'limit=',
    'limit',
    'limit=1&limit=2',
    'limit[]=1',
    'limit[a]=1',
    'limit=%ff',
    'cursor=garbage',
    'cursor=',
    'cursor=%00',
    `cursor=${Buffer.from('{"id":-1}').toString('base64url')}`,
    `cursor=${Buffer.from('{"id":1e400}').toString('base64url')}`,
    `cursor=${Buffer.from('{"id":"1 OR 1=1"}').toString('base64url')}`,
    `cursor=${Buffer.from('{"__proto__":{"id":1}}').toString('base64url')}`,
    `cursor=${'A'.repeat(8000)}`,
    'cursor=a&cursor=b',
    '%E2%9C%93=%E2%9C%93',
    'ümlaut=ä',
    'a=1&'.repeat(2000),
    '&&&==&',
    '%',
    '%%%',
    'unknown=1',
    '__proto__[x]=1',
    'constructor=1',
  ]
  const lists = operations.filter((o) => o.method === 'GET' && Object.keys(o.query).length > 0 && o.params.length === 0)
  for (const path of [...lists.map((o) => o.template), '/api/v1/auth/me', '/api/health']) {
    for (const query of queries) probes.push({ method: 'GET', path: `${path}?${query}`, headers: { authorization: `Bearer ${adminToken}` } })
    probes.push({ method: 'GET', path: `${path}?q=ünïcödé`, headers: { authorization: `Bearer ${adminToken}` }, raw: true })
  }

  // Path weirdness, under every parameterised route and where none is.
  const segments = [
    '%00',
    '%ff',
    '%',
    '%2',
    '%zz',
    '..%2f',
    '..%2F..%2F',
    '%2e%2e',
    '..',
    '.',
    '%20',
    '%0d%0aX-Injected:%201',
    'a%2fb',
    'x'.repeat(10_000),
    encodeURIComponent('😀'),
    '%C0%AE',
    '%u002e',
  ]
  const templates = [...new Set(operations.filter((o) => o.params.length > 0).map((o) => o.template)), '/api/v1/admin/users/{email}', '/api/v1/auth/{x}']
  for (const template of templates) {
    const op = operations.find((o) => o.template === template)
    for (const segment of segments) {
      for (const method of op ? [...new Set(operations.filter((o) => o.template === template).map((o) => o.method))] : ['GET']) {
        probes.push({
          method,
          path: pathOf(template, () => segment),
          headers: { authorization: `Bearer ${adminToken}`, ...(method === 'GET' || method === 'DELETE' ? {} : json) },
          ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
        })
      }
    }
    probes.push({ method: 'GET', path: pathOf(template, () => 'ünï'), headers: { authorization: `Bearer ${adminToken}` }, raw: true })
  }
  for (const path of [
    '/api/v1/../../etc/passwd',
    '/api//v1//auth//me',
    '/API/V1/AUTH/ME',
    '/api/v1/auth/me/',
    '/api/v1/auth/me;x',
    `/${'a/'.repeat(3000)}`,
    `/api/${'x'.repeat(10_000)}`,
    '/%00',
    '/%ff',
    '/metrics/',
    '/metrics?x=1',
    '/api/openapi.json/x',
    '/.well-known/jwks.json',
    '/favicon.ico',
    '/index.html',
    '/api',
    '/api/v1',
    '/api/v2/auth/me',
  ]) {
    probes.push({ method: 'GET', path, headers: { authorization: `Bearer ${adminToken}` } })
    probes.push({ method: 'GET', path })
  }
  probes.push({ method: 'GET', path: '*' })
  probes.push({ method: 'GET', path: 'http://evil.example/api/health' })

  // Unknown methods and methods a route does not serve; HEAD and OPTIONS on every route.
  for (const method of ['PROPFIND', 'MKCOL', 'PURGE', 'LOCK', 'SEARCH', 'REPORT', 'TRACE', 'PATCH', 'PUT', 'DELETE', 'POST']) {
    for (const path of ['/api/health', '/api/v1/auth/me', login, '/metrics', '/api/openapi.json', '/nowhere'])
      probes.push({ method, path, headers: { authorization: `Bearer ${adminToken}` } })
  }
  for (const op of operations) {
    const path = pathOf(op.template, () => encodeURIComponent(USERS.operator))
    for (const method of ['HEAD', 'OPTIONS']) {
      probes.push({ method, path, headers: { authorization: `Bearer ${adminToken}` } })
      probes.push({ method, path })
      probes.push({ method, path, headers: { origin: 'https://evil.example', 'access-control-request-method': 'DELETE' } })
    }
  }

  // Valid requests with exotic text: 4-byte characters, lone surrogates, NUL, LIKE wildcards, that the
  // database must store or search (MariaDB's utf8 vs utf8mb4, PostgreSQL's refusal of NUL).
  const exotic = '😀𝕏 ‮ \u0000 \ud800 %_\\'
  const auth = { authorization: `Bearer ${adminToken}`, ...json }
  const admin = '/api/v1/admin'
  probes.push({ method: 'POST', path: `${admin}/users`, headers: auth, body: JSON.stringify({ email: 'exotic1@example.com', name: exotic, password }) })
  probes.push({ method: 'POST', path: `${admin}/users`, headers: auth, body: JSON.stringify({ email: '😀@example.com', password }) })
  probes.push({
    method: 'POST',
    path: `${admin}/users`,
    headers: auth,
    body: JSON.stringify({ email: 'exotic2@example.com', password: `${exotic} long enough passphrase` }),
  })
  probes.push({ method: 'PATCH', path: `${admin}/users/${encodeURIComponent(USERS.viewer)}`, headers: auth, body: JSON.stringify({ name: '😀'.repeat(100) }) })
  probes.push({
    method: 'POST',
    path: `${admin}/roles`,
    headers: auth,
    body: JSON.stringify({ name: 'exotic', description: exotic, permissions: ['users:read'] }),
  })
  probes.push({ method: 'POST', path: `${admin}/api-keys`, headers: auth, body: JSON.stringify({ name: exotic, owner: USERS.viewer }) })
  probes.push({ method: 'POST', path: login, headers: json, body: JSON.stringify({ email: `${exotic}@example.com`, password: exotic }) })
  for (const search of ['%F0%9F%98%80', '%00', '%25', '_', '%5C', '%27', 'a%25%25b', '%ED%A0%80']) {
    probes.push({ method: 'GET', path: `${admin}/users?search=${search}`, headers: auth })
    probes.push({ method: 'GET', path: `${admin}/api-keys?owner=${search}`, headers: auth })
    probes.push({ method: 'GET', path: `${admin}/audit?actor=${search}&action=${search}`, headers: auth })
    probes.push({ method: 'GET', path: `${admin}/users/${search}@example.com`, headers: auth })
  }
  for (const since of ['garbage', '0', '-1', '9999-99-99', '2026-01-01T00:00:00Z', '1e309', '%00'])
    probes.push({ method: 'GET', path: `${admin}/audit?since=${since}&until=${since}`, headers: auth })

  // Headers that are too much.
  probes.push({ method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${adminToken}`, 'x-request-id': 'x'.repeat(8000) } })
  probes.push({ method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${adminToken}`, 'x-request-id': 'a\u00e9b' } })
  probes.push({ method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${adminToken}`, 'x-forwarded-for': 'garbage, ::1, 999.1.1.1' } })
  probes.push({ method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${adminToken}`, accept: 'text/html' } })
  probes.push({ method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${adminToken}`, accept: 'application/xml;q=1, */*;q=0' } })
  probes.push({ method: 'GET', path: '/api/v1/auth/me', headers: { authorization: `Bearer ${adminToken}`, 'accept-encoding': 'gzip;q=garbage' } })
  probes.push({ method: 'POST', path: login, headers: { ...json, expect: '100-continue' }, body: valid })
  return probes
}
