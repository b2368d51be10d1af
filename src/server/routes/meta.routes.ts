/** What describes the server: Prometheus metrics, the OpenAPI document, and the public keys of its tokens. */
import { GantryError } from '../../core/errors.js'
import type { SigningKeysService } from '../../core/sessions/signing-keys.service.js'
import type { Metrics } from '../metrics.js'
import { openApiDocument } from '../openapi.js'
import { PROBLEM_DOCS_PATH } from '../problem.js'
import { problemsPage } from '../problems-page.js'
import { route, type RouteSpec } from './route.js'

export interface MetaRouteDeps {
  readonly metrics: Metrics
  readonly version: string
  readonly signingKeys: Pick<SigningKeysService, 'jwks'>
  /** Every route of the app, for the OpenAPI document (read once, on the first request). */
  readonly routes: () => readonly RouteSpec[]
}

/** The metrics, OpenAPI, problem types and JWKS routes. */
export function metaRoutes(deps: MetaRouteDeps): RouteSpec[] {
  let document: string | undefined
  let page: string | undefined
  return [
    route({
      method: 'get',
      path: '/metrics',
      tag: 'meta',
      summary: 'Prometheus metrics (text format).',
      auth: 'public',
      handler: async ({ res }) => {
        res
          .status(200)
          .type(deps.metrics.registry.contentType)
          .send(await deps.metrics.registry.metrics())
      },
    }),
    route({
      method: 'get',
      path: '/api/openapi.json',
      tag: 'meta',
      summary: 'This API, described as OpenAPI 3.1.',
      auth: 'public',
      handler: async ({ res }) => {
        document ??= JSON.stringify(openApiDocument(deps.routes(), { version: deps.version }))
        res.status(200).type('application/json').send(document)
      },
    }),
    route({
      method: 'get',
      path: PROBLEM_DOCS_PATH,
      tag: 'meta',
      summary: "The problem types of this API: each error code's title, status, CLI exit code and next step (a problem's `type` points at its row).",
      auth: 'public',
      responseType: 'text/html',
      handler: async ({ res }) => {
        page ??= problemsPage(deps.version)
        res.status(200).type('text/html').setHeader('Cache-Control', 'public, max-age=3600').send(page)
      },
    }),
    route({
      method: 'get',
      path: '/.well-known/jwks.json',
      tag: 'meta',
      summary: 'The public keys that verify access tokens (current and previous), when they are signed with EdDSA.',
      auth: 'public',
      responseType: 'application/jwk-set+json',
      handler: async ({ res }) => {
        const jwks = await deps.signingKeys.jwks()
        if (!jwks)
          throw new GantryError('ROUTE_NOT_FOUND', 'Tokens are signed with HS256 here: there are no public keys to publish.', {
            hint: 'Set auth.algorithm to EdDSA to publish a JWKS.',
          })
        // Verifiers cache it; a rotation keeps the previous key listed, so a minute of staleness is safe (jose's remote key set also refetches on an unknown kid).
        res.status(200).type('application/jwk-set+json').setHeader('Cache-Control', 'public, max-age=60').send(JSON.stringify(jwks))
      },
    }),
  ]
}
