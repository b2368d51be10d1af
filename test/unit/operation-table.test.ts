/**
 * The operation table (src/admin/operations) and what is derived from it: every declared operation is
 * complete (a known permission, an audit action exactly when it writes, a target that is its path's
 * parameters), has its route with the declared permission and schemas, its OpenAPI entry, its HttpAdmin
 * request, its LocalAdmin call and its row in the escalation matrix. A declaration missing any of these
 * fails here, by name.
 */
import { expect } from 'chai'
import { z } from 'zod'
import { createHttpAdmin } from '../../src/admin/http-admin.js'
import { createLocalAdmin } from '../../src/admin/local-admin.js'
import type { JsonOperation, Operation } from '../../src/admin/operation.js'
import { OPERATIONS, operationEntries } from '../../src/admin/operations/index.js'
import type { ApiClient, RequestSpec } from '../../src/client/types.js'
import { AUDIT_ACTIONS } from '../../src/core/audit/audit.schema.js'
import { localContext } from '../../src/core/context.js'
import { GANTRY_PERMISSIONS } from '../../src/core/roles/permissions.js'
import type { Services } from '../../src/core/services.js'
import { openApiDocument } from '../../src/server/openapi.js'
import { adminRoutes } from '../../src/server/routes/admin.routes.js'
import { matrixRoutes } from '../helpers/escalation-oracle.js'
import type { OpenApiDocument } from '../helpers/openapi-operations.js'

const MUTATING = new Set(['post', 'put', 'patch', 'delete'])
const pathParams = (path: string): string[] => [...path.matchAll(/:([A-Za-z0-9_]+)/g)].map((m) => m[1] as string)
const shapeKeys = (schema: z.ZodType | undefined): string[] => (schema instanceof z.ZodObject ? Object.keys(schema.shape) : [])

/** What is wrong with one declaration on its own, in words; empty when it is complete. */
function declarationProblems(op: Operation): string[] {
  const problems: string[] = []
  if (!GANTRY_PERMISSIONS.includes(op.permission)) problems.push(`permission ${op.permission} is not one of Gantry's`)
  // A permission that changes something (users:write, audit:delete, users:erase): neither a read nor a flag evaluation.
  const writes = !/:(read|evaluate)$/.test(op.permission)
  if (writes && !op.audit) problems.push('writes but names no audit action')
  if (!writes && op.audit) problems.push('reads but names an audit action')
  if (op.audit && !(AUDIT_ACTIONS as readonly string[]).includes(op.audit)) problems.push(`audit action ${op.audit} is not one the services record`)
  // Admin operations under /api/v1/admin; a service-facing one (flag evaluation) under its own area, never auth's.
  if (!/^\/api\/v1\/(?!auth\/)[a-z-]+\//.test(op.http.path)) problems.push(`path ${op.http.path} is outside /api/v1/<area>`)
  const target = op.kind === 'json' ? shapeKeys(op.params) : []
  if (JSON.stringify(target.sort()) !== JSON.stringify(pathParams(op.http.path).sort()))
    problems.push(`target ${JSON.stringify(target)} is not the path's parameters ${JSON.stringify(pathParams(op.http.path))}`)
  const clash = shapeKeys(op.input).filter((key) => target.includes(key))
  if (clash.length > 0 && op.http.method === 'get') problems.push(`input fields ${clash.join(', ')} clash with the target in the query`)
  if (!op.summary.endsWith('.')) problems.push('summary is not a sentence')
  return problems
}

/** An ApiClient that records each request and answers nothing (the output schemas are not what is tested here). */
function recordingClient(): { client: ApiClient; sent: RequestSpec<z.ZodType | undefined>[] } {
  const sent: RequestSpec<z.ZodType | undefined>[] = []
  const client = {
    baseUrl: 'http://gantry.test',
    request: (spec: RequestSpec<z.ZodType | undefined>) => {
      sent.push(spec)
      return Promise.resolve(undefined)
    },
  } as unknown as ApiClient
  return { client, sent }
}

/** Services whose every method records its name and arguments. */
function recordingServices(): { services: Services; calls: { method: string; args: unknown[] }[] } {
  const calls: { method: string; args: unknown[] }[] = []
  const area = (areaName: string): unknown =>
    new Proxy(
      {},
      {
        get:
          (_target, method) =>
          (...args: unknown[]) => {
            calls.push({ method: `${areaName}.${String(method)}`, args })
            return Promise.resolve({})
          },
      },
    )
  const services = new Proxy({}, { get: (_target, name) => area(String(name)) }) as Services
  return { services, calls }
}

/** A target for an operation: each path parameter given a value that needs encoding. */
const sampleTarget = (op: Operation): Record<string, string> => Object.fromEntries(pathParams(op.http.path).map((key) => [key, `${key} a/b@c`]))

describe('the operation table', () => {
  const entries = operationEntries()
  const routes = adminRoutes({ services: recordingServices().services })
  const doc = openApiDocument(routes, { version: 'test' }) as unknown as OpenApiDocument & {
    paths: Record<string, Record<string, Record<string, unknown>>>
  }

  it('declares every operation completely', () => {
    const problems = entries.flatMap(([name, op]) => declarationProblems(op).map((p) => `${name}: ${p}`))
    expect(problems).to.deep.equal([])
    expect(entries.length).to.be.at.least(30)
  })

  it('names what is wrong with an incomplete declaration', () => {
    const unlock = OPERATIONS['users.unlock'] as JsonOperation
    const broken: Operation = { ...unlock, permission: 'users:wirte', audit: undefined, http: { method: 'post', path: '/api/v1/admin/users/:id/unlock' } }
    expect(declarationProblems(broken)).to.deep.equal([
      "permission users:wirte is not one of Gantry's",
      'writes but names no audit action',
      'target ["email"] is not the path\'s parameters ["id"]',
    ])
    expect(declarationProblems({ ...unlock, audit: undefined })).to.deep.equal(['writes but names no audit action'])
  })

  it('derives one route per operation, with its method, path, permission and status', () => {
    const served = routes.map((r) => `${r.method} ${r.path}`)
    expect(new Set(served).size, 'no route twice').to.equal(served.length)
    for (const [name, op] of entries) {
      const route = routes.find((r) => r.operation?.name === name)
      expect(route, name).to.not.equal(undefined)
      expect({ method: route?.method, path: route?.path, permission: route?.permission, status: route?.status, auth: route?.auth }, name).to.deep.equal({
        method: op.http.method,
        path: op.http.path,
        permission: op.permission,
        status: op.http.status,
        auth: 'required',
      })
    }
    expect(
      routes.filter((r) => !r.operation).map((r) => r.path),
      'no admin route outside the table',
    ).to.deep.equal([])
  })

  it('documents each operation in OpenAPI under its name, with its permission, audit action and whether it is destructive', () => {
    for (const [name, op] of entries) {
      const entry = doc.paths[op.http.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')]?.[op.http.method]
      expect(entry, name).to.not.equal(undefined)
      expect(entry?.['x-gantry-operation'], name).to.equal(name)
      expect(entry?.['x-permission'], name).to.equal(op.permission)
      expect(entry?.['x-audit-action'], name).to.equal(op.audit)
      expect(entry?.['x-destructive'], name).to.equal(op.destructive ? true : undefined)
    }
  })

  it('binds every JSON operation in HttpAdmin: its method, its path with the target encoded, its input as body or query', async () => {
    for (const [name, op] of entries) {
      if (op.kind !== 'json') continue
      const { client, sent } = recordingClient()
      const target = sampleTarget(op)
      const input = op.input ? { probe: 'x' } : undefined
      const args = op.params ? [target, input] : [input]
      await (createHttpAdmin(client).call as (n: string, ...a: unknown[]) => Promise<unknown>)(name, ...args)
      const path = op.http.path.replace(/:([A-Za-z0-9_]+)/g, (_m, key: string) => encodeURIComponent(target[key] as string))
      expect(sent, name).to.have.length(1)
      expect({ method: sent[0]?.method, path: sent[0]?.path, schema: sent[0]?.schema }, name).to.deep.equal({
        method: op.http.method.toUpperCase(),
        path,
        schema: op.output,
      })
      if (!op.input) expect([sent[0]?.body, sent[0]?.query], `${name}: nothing sent`).to.deep.equal([undefined, undefined])
      else if (MUTATING.has(op.http.method) && op.http.method !== 'delete') expect(sent[0]?.body, name).to.deep.equal(input)
      else expect(sent[0]?.query, name).to.deep.equal(input)
    }
  })

  it('binds every JSON operation in LocalAdmin: one service call as the local actor, with the target', async () => {
    const ctx = localContext('local:table@test')
    for (const [name, op] of entries) {
      if (op.kind !== 'json') continue
      const { services, calls } = recordingServices()
      const target = sampleTarget(op)
      const args = op.params ? [target, op.input ? {} : undefined] : [op.input ? {} : undefined]
      await (createLocalAdmin(services, ctx, (err) => err).call as (n: string, ...a: unknown[]) => Promise<unknown>)(name, ...args)
      expect(calls, name).to.have.length(1)
      expect(calls[0]?.args[0], `${name}: as the local actor`).to.equal(ctx)
      for (const value of Object.values(target)) expect(calls[0]?.args, `${name}: given its target`).to.include(value)
    }
  })

  it('gives every mutating operation a row in the escalation matrix, and the matrix no row of its own', () => {
    const rows = matrixRoutes(doc).map((r) => r.key)
    const mutating = entries.filter(([, op]) => MUTATING.has(op.http.method)).map(([name]) => name)
    expect(rows.sort()).to.deep.equal(mutating.sort())
  })

  it('streams only the users file: import up, export down; every other operation is JSON', () => {
    const streamed = entries.filter(([, op]) => op.kind !== 'json').map(([name, op]) => `${name} ${op.kind}`)
    expect(streamed).to.deep.equal(['users.import upload', 'users.export download'])
  })
})
