/**
 * The OpenAPI 3.1 document, generated from the route table: the same zod schemas that validate requests
 * describe them (zod's JSON Schema output is draft 2020-12, which OpenAPI 3.1 uses as is), rules across a
 * body's fields included (input-rules.ts), and each operation's refusals are listed by status with their
 * codes. It lints clean under Redocly's recommended rules and Spectral's spectral:oas (the test suite runs
 * both: test/integration/server/openapi-lint.test.ts).
 */
import { webhookDocs } from './openapi-webhooks.js'
import { z } from 'zod'
import { OPERATIONS } from '../admin/operations/index.js'
import { GantryError, type ErrorCode } from '../core/errors.js'
import { objectRules } from '../core/input-rules.js'
import { PROBLEM_DOCS_PATH, PROBLEM_TYPE, problemTypeUri } from './problem.js'
import { strict } from './routes/mount.js'
import type { RouteSpec } from './routes/route.js'

type JsonSchema = Record<string, unknown>

const problemSchema: JsonSchema = {
  type: 'object',
  description: 'RFC 9457 problem details; `code` is the stable error code.',
  required: ['type', 'title', 'status', 'detail', 'code'],
  properties: {
    type: {
      type: 'string',
      description: `the problem type: the code's row of the page this server serves at ${PROBLEM_DOCS_PATH} (relative to the URL answered), ${problemTypeUri('RATE_LIMITED')} for RATE_LIMITED`,
    },
    title: { type: 'string', description: 'what the problem type is, for people (`Too many requests`); the same for every occurrence of the code' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: {
      type: 'string',
      description:
        'this occurrence, on every answer: the request id as a URN, `urn:uuid:<id>` for the ids the server makes, `urn:gantry:request:<id>` for one the caller sent in X-Request-Id that is not a UUID',
    },
    code: { type: 'string' },
    hint: { type: 'string' },
    requestId: { type: 'string', description: 'the X-Request-Id of the answer; the server log has the occurrence under it' },
    required: { type: 'string', description: 'on 403: the permission that was missing' },
    errors: { type: 'array', items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } } },
    input: {
      type: 'object',
      description: "on an error about the request's input: the body fields concerned and a stable reason (a client words its own hint from them)",
      required: ['fields', 'reason'],
      properties: { fields: { type: 'array', items: { type: 'string' } }, reason: { type: 'string' } },
    },
  },
}

/** What each tag groups, in the order the document lists them. */
const TAGS: Readonly<Record<string, string>> = {
  health: 'Liveness and readiness, for probes and load balancers; served before rate limits and maintenance mode.',
  auth: 'Sessions: log in with email and password, rotate and end refresh tokens, and say whom the credentials belong to.',
  users: 'Create, list, update, disable and delete users; set passwords; import and export them as files.',
  tokens: "Access tokens minted for scripts, the end of a user's sessions, and the EdDSA keys that sign tokens.",
  roles: 'List, create, update and delete roles and their permissions.',
  'api-keys': 'Create, list, revoke and rotate API keys.',
  audit: 'The audit log of every change.',
  maintenance: 'Maintenance mode: while it is on, every route but health, auth and admin answers 503.',
  'rate-limits': 'Rate-limit rules and overrides; every server applies a change within a second.',
  meta: 'What describes the server: Prometheus metrics, this document, the problem types and the keys that verify tokens (JWKS).',
  // Areas added since v1 was first published come last: the document only grows.
  webhooks:
    'Outbound webhooks: endpoints that receive the events they subscribe to, signed as Standard Webhooks specifies, retried for about a day; their deliveries.',
  flags:
    'Feature flags: variants, targeting rules, segments and sticky percentage rollouts, served by every instance within a second; evaluation for services in other languages, open during maintenance.',
  backups: "The backups in the environment's backups.directory, read from their manifests; taking and restoring one are CLI commands on the database itself.",
  oauth:
    'OAuth 2.0 for machine clients: the clients (owned credentials like API keys), the client-credentials grant at /oauth/token, token revocation (RFC 7009) and the metadata (RFC 8414). The /oauth routes answer refusals as RFC 6749 errors, not problems.',
}

/**
 * What the routes outside the operation table answer beyond their kind's refusals (an admin operation
 * declares its own, src/admin/operations).
 */
const ROUTE_ERRORS: Readonly<Record<string, readonly ErrorCode[]>> = {
  'post /api/v1/auth/login': ['INVALID_CREDENTIALS', 'PASSWORD_LOGIN_DISABLED'],
  'post /api/v1/auth/refresh': ['TOKEN_INVALID'],
  'get /.well-known/jwks.json': ['ROUTE_NOT_FOUND'],
  'post /api/v1/auth/console/login': ['INVALID_CREDENTIALS', 'CONSOLE_ORIGIN_REFUSED', 'CONSOLE_INSECURE', 'PASSWORD_LOGIN_DISABLED'],
  'post /api/v1/auth/console/refresh': ['TOKEN_INVALID', 'CONSOLE_ORIGIN_REFUSED'],
  'post /api/v1/auth/console/logout': ['CONSOLE_ORIGIN_REFUSED'],
  'post /oauth/token': ['OAUTH_CLIENT_INVALID', 'OAUTH_SCOPE_INVALID', 'OAUTH_GRANT_UNSUPPORTED'],
  'post /oauth/revoke': ['OAUTH_CLIENT_INVALID', 'OAUTH_CLIENT_UNAUTHORIZED'],
  'get /.well-known/oauth-authorization-server': ['ROUTE_NOT_FOUND'],
  'get /api/v1/auth/sso/:provider/start': ['SSO_PROVIDER_UNKNOWN', 'SSO_UNAVAILABLE', 'CONSOLE_INSECURE'],
  'get /api/v1/auth/sso/:provider/callback': ['SSO_PROVIDER_UNKNOWN', 'SSO_UNAVAILABLE'],
  'post /api/v1/auth/sso/token': ['SSO_FAILED'],
  'post /api/v1/auth/sso/:provider/device': ['SSO_PROVIDER_UNKNOWN', 'SSO_UNAVAILABLE'],
  'post /api/v1/auth/sso/device/token': ['SSO_FAILED', 'SSO_UNAVAILABLE'],
}

/** The OAuth protocol routes: behind the rate limits like the API, and refusing as RFC 6749 §5.2 says (oauth.routes.ts). */
const OAUTH_PREFIXES = ['/oauth/', '/.well-known/oauth-authorization-server']
const isOAuth = (spec: RouteSpec): boolean => OAUTH_PREFIXES.some((prefix) => spec.path.startsWith(prefix))
/** The body of an RFC 6749 §5.2 refusal. */
const OAUTH_ERROR = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string', description: 'invalid_request, invalid_client, unauthorized_client, unsupported_grant_type or invalid_scope' },
    error_description: { type: 'string', description: 'the refusal, for people' },
  },
}

/** The API proper sits behind the rate limits; health and the meta routes are served before them (app.ts). */
const RATE_LIMITED_PREFIX = '/api/v1/'

/** How each refusal status is named in its response's description. */
const STATUS_NAMES: Readonly<Record<number, string>> = {
  400: 'The request is invalid',
  401: 'No valid credentials',
  403: 'Not allowed',
  404: 'Not found',
  409: 'Conflicts with the current state',
  413: 'The body is too large',
  415: 'The body is of a media type not accepted here',
  429: 'Too many requests',
}

/** Any JSON value, null included (an array's items too): what a field of unknown shape (z.unknown()) holds in an answer. */
const JSON_VALUE = { type: ['object', 'array', 'string', 'number', 'boolean', 'null'], items: {} }

/** Builds the document for a set of routes. */
export function openApiDocument(routes: readonly RouteSpec[], info: { version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {}
  for (const spec of routes) {
    const path = spec.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    ;(paths[path] ??= {})[spec.method] = operation(spec)
  }
  const used = new Set(routes.map((spec) => spec.tag))
  const tags = [...Object.keys(TAGS).filter((name) => used.has(name)), ...[...used].filter((name) => !(name in TAGS))]
  const events = webhookDocs((schema) => toSchema(schema, 'output'))
  return {
    openapi: '3.1.0',
    info: {
      title: 'Gantry',
      version: info.version,
      description: 'Health, auth and admin API of the Gantry server.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    // Relative: a self-hosted server is reached at whatever origin it is deployed at, and a relative URL
    // resolves against the one this document was fetched from (OpenAPI 3.1, Server Object).
    servers: [{ url: '/', description: 'The server that serves this document' }],
    tags: tags.map((name) => ({ name, description: TAGS[name] })),
    paths,
    webhooks: events.webhooks,
    components: {
      schemas: { Problem: problemSchema, ...events.schemas },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token (JWT) or an API key (gk_…)' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
  }
}

function operation(spec: RouteSpec): JsonSchema {
  const problem = { $ref: '#/components/schemas/Problem' }
  const success = spec.response
    ? { description: 'OK', content: { [spec.responseType ?? 'application/json']: { schema: toSchema(spec.response, 'output') } } }
    : { description: 'OK' }
  return {
    operationId: `${spec.method}${spec.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: spec.summary,
    description: description(spec),
    tags: [spec.tag],
    ...(spec.permission ? { 'x-permission': spec.permission } : {}),
    ...(spec.operation ? operationExtensions(spec.operation) : {}),
    ...(spec.auth === 'required' ? { security: [{ bearer: [] }, { apiKey: [] }] } : { security: [] }),
    parameters: [...parameters(spec.params, 'path'), ...parameters(spec.query, 'query')],
    ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: bodySchema(spec.body) } } } } : {}),
    ...(spec.stream ? { requestBody: { required: true, content: Object.fromEntries(spec.stream.map((type) => [type, { schema: { type: 'string' } }])) } } : {}),
    responses: {
      [String(spec.status ?? 200)]: success,
      ...refusals(spec, problem),
      ...(spec.responseType === 'application/health+json' ? { '503': { ...success, description: 'Not ready (or draining)' } } : {}),
      default: { description: "Any other error, such as a failure on the server's side (5XX)", content: { [PROBLEM_TYPE]: { schema: problem } } },
    },
  }
}

/** Who may call the operation and what it leaves behind, from its declaration. */
function description(spec: RouteSpec): string {
  const who = spec.permission
    ? `Needs the \`${spec.permission}\` permission.`
    : spec.auth === 'required'
      ? 'Needs credentials: an access token or an API key.'
      : 'Public: needs no credentials.'
  const audit = spec.operation?.audit ? ` Recorded in the audit log as \`${spec.operation.audit}\`.` : ''
  const destructive = spec.operation?.destructive ? ' Destructive: the CLI asks before it in a protected environment.' : ''
  return `${who}${audit}${destructive}`
}

/**
 * The error codes a route answers, by status: those of every route of its kind — input that fails its
 * schema or cannot be read, missing or bad credentials, a missing permission, a rate limit — and those its
 * operation declares.
 */
function refusalCodes(spec: RouteSpec): Map<number, ErrorCode[]> {
  const codes: ErrorCode[] = []
  if (spec.body || spec.query || spec.params || spec.stream) codes.push('INVALID_INPUT')
  if (spec.body) codes.push('PAYLOAD_TOO_LARGE')
  if (spec.body || spec.stream) codes.push('UNSUPPORTED_MEDIA_TYPE')
  if (spec.auth === 'required') codes.push('UNAUTHENTICATED', 'TOKEN_INVALID', 'APIKEY_INVALID')
  if (spec.permission) codes.push('FORBIDDEN')
  if (spec.path.startsWith(RATE_LIMITED_PREFIX) || isOAuth(spec)) codes.push('RATE_LIMITED')
  const declared = spec.operation
    ? (OPERATIONS as Record<string, { errors?: readonly ErrorCode[] }>)[spec.operation.name]?.errors
    : ROUTE_ERRORS[`${spec.method} ${spec.path}`]
  codes.push(...(declared ?? []))
  const byStatus = new Map<number, ErrorCode[]>()
  for (const code of new Set(codes)) {
    const status = new GantryError(code, '').status
    byStatus.set(status, [...(byStatus.get(status) ?? []), code])
  }
  return new Map([...byStatus].sort(([a], [b]) => a - b))
}

function refusals(spec: RouteSpec, problem: JsonSchema): Record<string, JsonSchema> {
  return Object.fromEntries(
    [...refusalCodes(spec)].map(([status, codes]) => {
      const named = codes.map((code) => `\`${code}\` (${new GantryError(code, '').title})`).join(', ')
      const retryAfter =
        status === 429 ? { headers: { 'Retry-After': { description: 'Seconds to wait before trying again', schema: { type: 'integer', minimum: 0 } } } } : {}
      // A protocol route's 400 and 401 are RFC 6749 errors; its 429 (and 415) stay problems, as the protocol has no word for them.
      const content =
        isOAuth(spec) && (status === 400 || status === 401) ? { 'application/json': { schema: OAUTH_ERROR } } : { [PROBLEM_TYPE]: { schema: problem } }
      return [String(status), { description: `${STATUS_NAMES[status] ?? 'Refused'}: ${named}`, ...retryAfter, content }]
    }),
  )
}

/** What the operation table says of an admin route beyond OpenAPI's own fields. */
function operationExtensions(op: NonNullable<RouteSpec['operation']>): JsonSchema {
  return {
    'x-gantry-operation': op.name,
    ...(op.audit ? { 'x-audit-action': op.audit } : {}),
    ...(op.destructive ? { 'x-destructive': true } : {}),
    ...(op.authorization ? { 'x-authorization': op.authorization } : {}),
  }
}

/**
 * A JSON body as mount.ts reads it: unknown fields refused (additionalProperties: false), and the rules
 * across its fields (oneOf, minProperties) that its schema declares.
 */
function bodySchema(body: z.ZodType): JsonSchema {
  return { ...toSchema(strict(body), 'input'), ...objectRules.get(body)?.jsonSchema() }
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): JsonSchema[] {
  if (!schema) return []
  const json = toSchema(schema, 'input') as { properties?: Record<string, JsonSchema>; required?: string[] }
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || (json.required ?? []).includes(name),
    schema: property,
  }))
}

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const json = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    // A field of unknown shape (an audit entry's before and after) holds any JSON value, null included: said
    // so, rather than as zod's `anyOf: [{}, { type: 'null' }]`, whose empty schema matches anything anyway.
    override: ({ zodSchema, jsonSchema }) => {
      const def = zodSchema._zod.def as { type: string; innerType?: z.ZodType }
      const inner = def.type === 'nullable' ? (def.innerType?._zod.def.type ?? '') : def.type
      if (inner !== 'unknown' && inner !== 'any') return
      for (const keyword of Object.keys(jsonSchema)) if (keyword !== 'description') delete jsonSchema[keyword]
      Object.assign(jsonSchema, JSON_VALUE)
    },
  }) as JsonSchema
  delete json.$schema
  return json
}
