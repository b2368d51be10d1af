/**
 * The reference of the admin users list: an Express 5 app as one would write it by hand with helmet and
 * pino-http, serving GET /api/v1/admin/users?limit=N with
 * - helmet() with its defaults (Gantry's app uses helmet() the same way);
 * - pino-http over pino at level info to stdout (the bench sends stdout to /dev/null, as it does Gantry's),
 *   one line per request with the same lean serializers as Gantry's (method and path; status) — pino-http's
 *   default serializers would log every header, more work than Gantry does;
 * - a Bearer check as strict as Gantry's signature check: jose jwtVerify of the same HS256 access token with
 *   the same secret, algorithm, issuer, audience, typ (at+jwt), 30 s tolerance and required claims, then the
 *   permission users:read (or a wildcard) in the claims — but no session-epoch lookup, no rate limit;
 * - the same two queries as Gantry's users.list, at once as it runs them (users.repo.ts selectUsers and
 *   countUsers): SELECT * FROM gantry_users ORDER BY id LIMIT n+1 and SELECT count(*) FROM gantry_users,
 *   through knex with the same driver and connection settings as src/db/connect.ts, on the same database,
 *   mapped to the same JSON ({ data: users, nextCursor, total }).
 * Any failure answers 4xx/5xx, which the load generator counts and the benchmark refuses.
 * Env: PORT, BENCH_DATABASE_URL (sqlite:/abs/file or mysql://user[:pass]@host:port/db), BENCH_AUTH_SECRET,
 * BENCH_AUTH_ISSUER, BENCH_AUTH_AUDIENCE.
 */
import { Buffer } from 'node:buffer'
import { fileURLToPath } from 'node:url'
import express from 'express'
import helmet from 'helmet'
import { jwtVerify } from 'jose'
import knexFactory from 'knex'
import { pino } from 'pino'
import { pinoHttp } from 'pino-http'
import { sqliteClient } from '../lib/server-workspace.mjs'

const MAX_LIMIT = 100
const DEFAULT_LIMIT = 20

const knex = knexFactory(await knexConfig(process.env.BENCH_DATABASE_URL))
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

app.get('/api/v1/admin/users', async (req, res) => {
  const claims = await verify(req.get('authorization'))
  if (!claims) return res.status(401).json({ title: 'Unauthorized' })
  const permissions = Array.isArray(claims.permissions) ? claims.permissions : []
  if (!permissions.some((p) => p === '*' || p === 'users:*' || p === 'users:read')) return res.status(403).json({ title: 'Forbidden' })
  const limit = req.query.limit === undefined ? DEFAULT_LIMIT : Number(req.query.limit)
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) return res.status(400).json({ title: 'Bad limit' })
  const [rows, [count]] = await Promise.all([
    knex('gantry_users')
      .select('*')
      .orderBy('id', 'asc')
      .limit(limit + 1),
    knex('gantry_users').count({ n: '*' }),
  ])
  const more = rows.length > limit
  const kept = more ? rows.slice(0, limit) : rows
  const last = kept.at(-1)
  res.json({
    data: kept.map(toUser),
    nextCursor: more && last ? Buffer.from(JSON.stringify({ id: Number(last.id) }), 'utf8').toString('base64url') : null,
    total: Number(count.n),
  })
})
app.use((err, _req, res, _next) => {
  logger.error({ err }, 'failed')
  res.status(500).json({ title: 'Internal Server Error' })
})
app.listen(Number(process.env.PORT), '127.0.0.1')

async function verify(header) {
  const match = /^Bearer +([\x21-\x7e]{1,8192})$/i.exec(header?.trim() ?? '')
  if (!match) return undefined
  try {
    const { payload } = await jwtVerify(match[1], secret, {
      algorithms: ['HS256'],
      issuer,
      audience,
      typ: 'at+jwt',
      clockTolerance: 30,
      requiredClaims: ['sub', 'jti', 'iat', 'exp'],
    })
    return payload
  } catch {
    return undefined
  }
}

function toUser(row) {
  const iso = (ms) => (ms === null ? null : new Date(Number(ms)).toISOString())
  return {
    id: Number(row.id),
    email: row.email,
    name: row.name,
    role: row.role,
    status: row.status,
    lockedUntil: iso(row.locked_until),
    lastLoginAt: iso(row.last_login_at),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  }
}

/**
 * The knex settings of src/db/connect.ts for the two dialects measured, written out; on SQLite through the
 * same driver and knex client as Gantry's build (src/db/sqlite-client.ts: knex has none for libsql).
 */
async function knexConfig(url) {
  if (url.startsWith('sqlite:')) {
    return {
      client: await sqliteClient(fileURLToPath(new URL('../..', import.meta.url))),
      connection: { filename: url.slice('sqlite:'.length) },
      useNullAsDefault: true,
      pool: {
        afterCreate(conn, done) {
          conn.pragma('journal_mode = WAL')
          conn.pragma('foreign_keys = ON')
          conn.pragma('busy_timeout = 5000')
          conn.pragma('synchronous = NORMAL')
          conn.pragma('cache_size = -16000')
          done(null, conn)
        },
      },
    }
  }
  const u = new URL(url)
  if (u.protocol !== 'mysql:') throw new Error(`unsupported database URL ${url}`)
  return {
    client: 'mysql2',
    connection: {
      host: u.hostname,
      port: Number(u.port || 3306),
      user: decodeURIComponent(u.username),
      password: decodeURIComponent(u.password) || undefined,
      database: u.pathname.slice(1),
      connectTimeout: 10_000,
      supportBigNumbers: true,
    },
    pool: { min: 0, max: 10 },
    acquireConnectionTimeout: 15_000,
  }
}
