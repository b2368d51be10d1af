/**
 * Gantry as an OAuth 2.0 authorization server for machine clients, the client-credentials grant only:
 * the token endpoint (RFC 6749 §4.4, clients authenticated by client_secret_basic or client_secret_post),
 * token revocation (RFC 7009) and the server's metadata (RFC 8414). These speak the protocol's own
 * language — form-encoded requests, `{ error, error_description }` answers, `Cache-Control: no-store` —
 * not problem+json, because OAuth clients (openid-client and the like) read that and nothing else. A 429 or
 * 503 stays problem+json with Retry-After: the protocol has no word for them.
 */
import express, { type Request, type Response } from 'express'
import { z } from 'zod'
import { GantryError, isGantryError, type ErrorCode } from '../../core/errors.js'
import type { ClientCredentials } from '../../core/oauth/oauth-clients.schema.js'
import type { Services } from '../../core/services.js'
import type { RateLimitEdge } from '../middleware/rate-limit.js'
import { route, type RouteSpec } from './route.js'

const TOKEN_PATH = '/oauth/token'
const REVOKE_PATH = '/oauth/revoke'
const METADATA_PATH = '/.well-known/oauth-authorization-server'
const FORM = 'application/x-www-form-urlencoded'
/** A token request is a few hundred bytes; the limit bounds what an unauthenticated caller makes us read. */
const FORM_LIMIT = '16kb'

/** RFC 6749 §5.2's error for each refusal the services give; anything else is answered as the API answers it. */
const OAUTH_ERRORS: Partial<Record<ErrorCode, string>> = {
  OAUTH_CLIENT_INVALID: 'invalid_client',
  OAUTH_CLIENT_UNAUTHORIZED: 'unauthorized_client',
  OAUTH_SCOPE_INVALID: 'invalid_scope',
  OAUTH_GRANT_UNSUPPORTED: 'unsupported_grant_type',
  INVALID_INPUT: 'invalid_request',
}

export interface OAuthRouteDeps {
  readonly services: Pick<Services, 'oauthClients'>
  readonly limits: Pick<RateLimitEdge, 'address' | 'client'>
  /** auth.issuer: the metadata's `issuer`, and the base of its endpoints when it is an http(s) URL. */
  readonly issuer: string
  /** server.publicUrl: the base of the endpoints when the issuer is a bare name. */
  readonly publicUrl?: string | undefined
  /** Whether the JWKS is published (EdDSA): then the metadata names it. */
  readonly publishesKeys: boolean
}

const tokenResponse = z.object({
  access_token: z.string(),
  token_type: z.literal('Bearer'),
  expires_in: z.number().int(),
  scope: z.string(),
})

/** The token, revocation and metadata routes. */
export function oauthRoutes(deps: OAuthRouteDeps): RouteSpec[] {
  const { services } = deps
  const readForm = express.urlencoded({ extended: false, limit: FORM_LIMIT, parameterLimit: 20 })
  // The per-client rule counts a client's own requests only: checked once its secret matched (the address rule, before).
  const admit = (req: Request, res: Response) => (clientId: string) => deps.limits.client(req, res, clientId)
  return [
    route({
      method: 'post',
      path: TOKEN_PATH,
      tag: 'oauth',
      summary:
        'The client-credentials grant (RFC 6749 §4.4): a form with grant_type=client_credentials and an optional scope, the client authenticated by HTTP Basic or client_id and client_secret in the form. Answers an RFC 9068 access token, or an RFC 6749 error.',
      auth: 'public',
      stream: [FORM],
      response: tokenResponse,
      handler: ({ req, res, ctx }) =>
        answer(res, async () => {
          await deps.limits.address(req, res)
          const form = await formOf(req, res, readForm)
          const credentials = clientCredentials(req, form)
          const grant = form.get('grant_type')
          if (grant === undefined) throw new GantryError('INVALID_INPUT', 'grant_type is missing: send grant_type=client_credentials.')
          if (grant !== 'client_credentials')
            throw new GantryError('OAUTH_GRANT_UNSUPPORTED', `grant_type ${JSON.stringify(grant.slice(0, 40))} is not supported here.`)
          return services.oauthClients.issueToken(credentials, form.get('scope'), ctx, admit(req, res))
        }),
    }),
    route({
      method: 'post',
      path: REVOKE_PATH,
      tag: 'oauth',
      summary:
        'Token revocation (RFC 7009) by the client the token was issued to: ends every access token of that client. An unknown or expired token is answered 200 all the same.',
      auth: 'public',
      stream: [FORM],
      handler: ({ req, res, ctx }) =>
        answer(res, async () => {
          await deps.limits.address(req, res)
          const form = await formOf(req, res, readForm)
          const credentials = clientCredentials(req, form)
          const token = form.get('token')
          if (token === undefined) throw new GantryError('INVALID_INPUT', 'token is missing: send the access token to revoke.')
          await services.oauthClients.revokeToken(credentials, token, ctx, admit(req, res))
          return {}
        }),
    }),
    route({
      method: 'get',
      path: METADATA_PATH,
      tag: 'oauth',
      summary: "This server's OAuth 2.0 metadata (RFC 8414): issuer, token and revocation endpoints, the grant and client authentication methods.",
      auth: 'public',
      handler: async ({ res }) => {
        // Never from the request's Host: a cached answer naming another host would send clients' secrets there.
        const base = issuerBase(deps.issuer) ?? (deps.publicUrl ? issuerBase(deps.publicUrl) : undefined)
        if (!base)
          throw new GantryError('ROUTE_NOT_FOUND', 'This server publishes no OAuth metadata: its issuer is not a URL.', {
            hint: 'Set auth.issuer to the server’s public URL (https://…), or server.publicUrl.',
          })
        res.setHeader('Cache-Control', 'public, max-age=300')
        return {
          issuer: deps.issuer,
          token_endpoint: `${base}${TOKEN_PATH}`,
          revocation_endpoint: `${base}${REVOKE_PATH}`,
          ...(deps.publishesKeys ? { jwks_uri: `${base}/.well-known/jwks.json` } : {}),
          grant_types_supported: ['client_credentials'],
          response_types_supported: [],
          token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
          revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post'],
        }
      },
    }),
  ]
}

/** The issuer as an endpoint base (no trailing slash) when it is an http(s) URL; undefined for a bare name. */
function issuerBase(issuer: string): string | undefined {
  if (!URL.canParse(issuer)) return undefined
  const url = new URL(issuer)
  return url.protocol === 'https:' || url.protocol === 'http:' ? `${url.origin}${url.pathname.replace(/\/+$/, '')}` : undefined
}

type Form = { get(name: string): string | undefined }

/** The form of a request (RFC 6749 §3.2: each parameter at most once); INVALID_INPUT otherwise. */
async function formOf(req: Request, res: Response, read: express.RequestHandler): Promise<Form> {
  if (!req.is(FORM)) throw new GantryError('INVALID_INPUT', `Send the parameters as ${FORM}.`)
  await new Promise<void>((resolve, reject) => read(req, res, (err?: unknown) => (err ? reject(formError(err)) : resolve())))
  const body = (req.body ?? {}) as Record<string, unknown>
  return {
    get(name) {
      const value = Object.hasOwn(body, name) ? body[name] : undefined
      if (value === undefined) return undefined
      if (typeof value !== 'string') throw new GantryError('INVALID_INPUT', `${name} is sent more than once.`)
      return value
    },
  }
}

function formError(err: unknown): GantryError {
  const tooLarge = typeof err === 'object' && err !== null && (err as { type?: unknown }).type === 'entity.too.large'
  return new GantryError('INVALID_INPUT', tooLarge ? `The form is larger than ${FORM_LIMIT}.` : 'The form could not be read.', { cause: err })
}

/**
 * The client's id and secret: from `Authorization: Basic` (each part form-encoded, RFC 6749 §2.3.1) or from
 * the form, never both (§2.3: one method per request). OAUTH_CLIENT_INVALID when neither is there.
 */
function clientCredentials(req: Request, form: Form): ClientCredentials {
  const header = req.get('authorization')
  const inForm = form.get('client_secret')
  if (header !== undefined) {
    if (inForm !== undefined) throw new GantryError('INVALID_INPUT', 'Send the client secret in the Authorization header or in the form, not both.')
    const basic = /^Basic +([A-Za-z0-9+/=]{1,2048})$/i.exec(header.trim())
    if (!basic) throw noClient('the Authorization header is not Basic')
    const decoded = Buffer.from(basic[1] as string, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon < 0) throw noClient('Basic credentials without a colon')
    try {
      return { clientId: formDecode(decoded.slice(0, colon)), clientSecret: formDecode(decoded.slice(colon + 1)) }
    } catch {
      throw noClient('Basic credentials not form-encoded')
    }
  }
  const clientId = form.get('client_id')
  if (clientId === undefined || inForm === undefined) throw noClient('no client credentials')
  return { clientId, clientSecret: inForm }
}

function formDecode(text: string): string {
  return decodeURIComponent(text.replace(/\+/g, ' '))
}

function noClient(reason: string): GantryError {
  return new GantryError('OAUTH_CLIENT_INVALID', 'Authenticate the client: HTTP Basic with its id and secret, or client_id and client_secret in the form.', {
    cause: new Error(reason),
  })
}

/** Runs a protocol exchange: its JSON answer with no-store, or its refusal as RFC 6749 §5.2 says. */
async function answer(res: Response, work: () => Promise<object>): Promise<undefined> {
  res.setHeader('Cache-Control', 'no-store')
  res.setHeader('Pragma', 'no-cache')
  let body: object
  try {
    body = await work()
  } catch (err) {
    const error = isGantryError(err) ? OAUTH_ERRORS[err.code] : undefined
    if (!isGantryError(err) || error === undefined) throw err
    const status = error === 'invalid_client' ? 401 : 400
    if (status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="gantry", charset="UTF-8"')
    res.status(status).json({ error, error_description: err.message })
    return undefined
  }
  res.status(200).json(body)
  return undefined
}
