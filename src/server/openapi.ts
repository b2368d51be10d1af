/**
 * The OpenAPI 3.1 document, generated from the route table: the same zod schemas that validate requests
 * describe them (zod's JSON Schema output is draft 2020-12, which OpenAPI 3.1 uses as is).
 */
import { z } from 'zod'
import { PROBLEM_DOCS_PATH, problemTypeUri } from './problem.js'
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

/** Builds the document for a set of routes. */
export function openApiDocument(routes: readonly RouteSpec[], info: { version: string }): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {}
  for (const spec of routes) {
    const path = spec.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
    ;(paths[path] ??= {})[spec.method] = operation(spec)
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Gantry', version: info.version, description: 'Health, auth and admin API of the Gantry server.' },
    paths,
    components: {
      schemas: { Problem: problemSchema },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'An access token (JWT) or an API key (gk_…)' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-API-Key' },
      },
    },
  }
}

function operation(spec: RouteSpec): JsonSchema {
  const problem = { description: 'An error (problem+json)', content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } } }
  const success = spec.response
    ? { description: 'OK', content: { [spec.responseType ?? 'application/json']: { schema: toSchema(spec.response, 'output') } } }
    : { description: 'OK' }
  return {
    operationId: `${spec.method}${spec.path.replace(/[^A-Za-z0-9]+(.)?/g, (_m, c: string | undefined) => (c ? c.toUpperCase() : ''))}`,
    summary: spec.summary,
    tags: [spec.tag],
    ...(spec.permission ? { 'x-permission': spec.permission, description: `Needs the \`${spec.permission}\` permission.` } : {}),
    ...(spec.operation ? operationExtensions(spec.operation) : {}),
    ...(spec.auth === 'required' ? { security: [{ bearer: [] }, { apiKey: [] }] } : { security: [] }),
    parameters: [...parameters(spec.params, 'path'), ...parameters(spec.query, 'query')],
    // Described as mount.ts reads it: unknown fields refused (additionalProperties: false).
    ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: toSchema(strict(spec.body), 'input') } } } } : {}),
    ...(spec.stream ? { requestBody: { required: true, content: Object.fromEntries(spec.stream.map((type) => [type, { schema: { type: 'string' } }])) } } : {}),
    responses: {
      [String(spec.status ?? 200)]: success,
      ...(spec.responseType === 'application/health+json' ? { '503': { ...success, description: 'Not ready (or draining)' } } : {}),
      default: problem,
    },
  }
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
  const json = z.toJSONSchema(schema, { io, unrepresentable: 'any' }) as JsonSchema
  delete json.$schema
  return json
}
