/**
 * The reference of the OAuth token endpoint: an Express 5 app as one would write it by hand with helmet and
 * pino-http, serving POST /oauth/token for the client-credentials grant with
 * - helmet() and pino-http with the same lean serializers as the admin users reference;
 * - express.urlencoded for the form, HTTP Basic for the client's id and secret (each form-decoded);
 * - the same client row, read by client_id from the same database through knex with the same driver
 *   (gantry_oauth_clients), and a secret check of the same cost as Gantry's: a SHA-256 of the secret part,
 *   compared with the stored hash in constant time;
 * - a token signed with jose (SignJWT, HS256, the same secret, issuer, audience, typ at+jwt and claims:
 *   sub, client_id, scope, iat, exp, jti), answered as { access_token, token_type, expires_in, scope }
 *   with Cache-Control: no-store.
 * What it leaves out is what Gantry adds: the rate-limit rules, the owner's standing and permissions, the
 * audit of refusals, the last-used write. Any failure answers 4xx/5xx, which the benchmark refuses.
 * Env: PORT, BENCH_DATABASE_URL (sqlite:/abs/file), BENCH_AUTH_SECRET, BENCH_AUTH_ISSUER, BENCH_AUTH_AUDIENCE.
 */
import { Buffer } from 'node:buffer'
import { createHash, randomUUID, timingSafeEqual } from 'node:crypto'
import express from 'express'
import helmet from 'helmet'
import { SignJWT } from 'jose'
import knexFactory from 'knex'
import { pino } from 'pino'
import { pinoHttp } from 'pino-http'
import { sqliteClient } from '../lib/server-workspace.mjs'

const TTL_SECONDS = 900
const url = process.env.BENCH_DATABASE_URL ?? ''
const root = new URL('../..', import.meta.url).pathname
const knex = knexFactory({ client: await sqliteClient(root), connection: { filename: url.slice('sqlite:'.length) }, useNullAsDefault: true })
await knex.raw('select 1')
const secret = Buffer.from(process.env.BENCH_AUTH_SECRET ?? '', 'utf8')
const issuer = process.env.BENCH_AUTH_ISSUER
const audience = process.env.BENCH_AUTH_AUDIENCE

const logger = pino({ level: 'info' })
const app = express()
app.disable('x-powered-by')
app.set('etag', false)
app.use(
  helmet(),
  pinoHttp({
    logger,
    serializers: { req: (req) => ({ id: req.id, method: req.method, path: req.url.split('?')[0] }), res: (res) => ({ status: res.statusCode }) },
  }),
)
app.get('/api/health', (_req, res) => res.json({ status: 'pass' }))
app.post('/oauth/token', express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
  res.set('Cache-Control', 'no-store')
  if (req.body?.grant_type !== 'client_credentials') return res.status(400).json({ error: 'unsupported_grant_type' })
  const credentials = basic(req.get('authorization'))
  if (!credentials) return res.status(401).json({ error: 'invalid_client' })
  const client = await knex('gantry_oauth_clients').where({ client_id: credentials.id }).first()
  // gcs_<env>_<id>_<secret 32><check 6>: the stored hash is of the secret part.
  const presented = credentials.secret.split('_')[3]?.slice(0, 32) ?? ''
  const digest = createHash('sha256').update(presented).digest()
  if (!client || client.revoked_at !== null || !timingSafeEqual(digest, Buffer.from(client.secret_hash, 'hex')))
    return res.status(401).json({ error: 'invalid_client' })
  const scope = JSON.parse(client.scopes).join(' ')
  const now = Math.floor(Date.now() / 1000)
  const token = await new SignJWT({ client_id: client.client_id, scope })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(issuer)
    .setAudience(audience)
    .setSubject(client.client_id)
    .setJti(randomUUID())
    .setIssuedAt(now)
    .setExpirationTime(now + TTL_SECONDS)
    .sign(secret)
  res.json({ access_token: token, token_type: 'Bearer', expires_in: TTL_SECONDS, scope })
})
app.use((err, _req, res, _next) => {
  logger.error({ err }, 'failed')
  res.status(500).json({ title: 'Internal Server Error' })
})
app.listen(Number(process.env.PORT), '127.0.0.1')

function basic(header) {
  const match = /^Basic +([A-Za-z0-9+/=]{1,2048})$/i.exec(header?.trim() ?? '')
  if (!match) return undefined
  const text = Buffer.from(match[1], 'base64').toString('utf8')
  const colon = text.indexOf(':')
  if (colon < 0) return undefined
  const decode = (part) => decodeURIComponent(part.replace(/\+/g, ' '))
  return { id: decode(text.slice(0, colon)), secret: decode(text.slice(colon + 1)) }
}
