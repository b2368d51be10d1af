import { GantryError } from '../core/errors.js'
import { missingTable } from '../core/sql.js'
import type { DatabaseTarget } from './url.js'

interface DriverError {
  code?: string
  errno?: number
  message?: string
}

/**
 * Turns a driver's connection error into one line that says what is wrong and how to fix it. Unknown
 * errors keep their driver message (without the SQL knex prefixes) and the cause for --verbose.
 */
export function describeDatabaseError(err: unknown, target: DatabaseTarget): GantryError {
  if (err instanceof GantryError) return err
  const e = (err ?? {}) as DriverError
  const where = target.dialect === 'sqlite' ? target.filename : `${target.host}:${target.port}`
  const name = target.dialect === 'sqlite' ? 'SQLite' : target.dialect === 'mysql' ? 'MySQL/MariaDB' : 'PostgreSQL'
  const code = e.code ?? ''
  if (code === 'ECONNREFUSED') {
    return new GantryError('DB_UNREACHABLE', `Cannot connect to ${name} at ${where}: connection refused.`, { cause: err })
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new GantryError('DB_UNREACHABLE', `Cannot connect to ${name}: unknown host "${target.dialect === 'sqlite' ? '' : target.host}".`, { cause: err })
  }
  if (code === 'ETIMEDOUT' || /timeout/i.test(e.message ?? '')) {
    return new GantryError('DB_UNREACHABLE', `Cannot connect to ${name} at ${where}: timed out.`, { cause: err })
  }
  if (code === 'ER_ACCESS_DENIED_ERROR' || code === '28P01' || code === '28000') {
    const user = target.dialect === 'sqlite' ? '' : target.user
    return new GantryError('DB_AUTH_FAILED', `${name} at ${where} refused user "${user}": wrong user or password.`, { cause: err })
  }
  const tls = tlsFailure(e)
  if (tls !== undefined && target.dialect !== 'sqlite') {
    return new GantryError('DB_TLS_FAILED', `TLS to ${name} at ${where} failed: ${tls}.`, { cause: err })
  }
  if ((code === 'ER_BAD_DB_ERROR' || code === '3D000') && target.dialect !== 'sqlite') {
    const fix =
      target.dialect === 'mysql'
        ? `mariadb -h ${target.host} -P ${target.port} -u ${target.user} -p -e 'CREATE DATABASE \`${target.database}\`'`
        : `createdb -h ${target.host} -p ${target.port} -U ${target.user} ${target.database}`
    return new GantryError('DB_NOT_FOUND', `Database "${target.database}" does not exist on ${name} at ${where}.`, {
      cause: err,
      hint: `Create it: ${fix}`,
    })
  }
  if (code === 'SQLITE_CANTOPEN') {
    return new GantryError('DB_UNREACHABLE', `Cannot open SQLite file ${where}.`, { cause: err, hint: 'Check the path and its permissions.' })
  }
  return new GantryError('DB_QUERY_FAILED', `${name} at ${where}: ${driverMessage(e.message)}`, { cause: err })
}

/** Node's codes for a certificate that does not verify (tls.connect's `rejectUnauthorized`). */
const CERTIFICATE_UNTRUSTED = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
])

/** Node's messages for those codes, for drivers that pass on the message alone (mysql2's HANDSHAKE_SSL_ERROR). */
const UNTRUSTED_MESSAGE =
  /self[- ]signed certificate|unable to verify the first certificate|unable to get (local )?issuer certificate|certificate signature failure/i

/** Why a TLS handshake with the database failed, in words, or undefined for any other error. */
function tlsFailure(e: DriverError): string | undefined {
  const code = e.code ?? ''
  const message = e.message ?? ''
  // pg says so in words only; mysql2 gives a code.
  if (code === 'HANDSHAKE_NO_SSL_SUPPORT' || /server does not support SSL/i.test(message)) return 'the server does not offer TLS'
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID' || /does not match certificate's altnames/i.test(message)) {
    return `the server's certificate does not name this host (${driverMessage(message)})`
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return `the server's certificate is not valid now (${code})`
  if (CERTIFICATE_UNTRUSTED.has(code) || UNTRUSTED_MESSAGE.test(message)) {
    return `the server's certificate is not signed by a trusted CA (${driverMessage(message)}); name its CA in the URL`
  }
  if (code === 'HANDSHAKE_SSL_ERROR') return `the TLS handshake failed (${driverMessage(message)})`
  return undefined
}

/** Driver codes of a statement that waited too long for, or deadlocked on, a lock another connection held. */
const LOCK_CONFLICT = /^(SQLITE_BUSY|SQLITE_LOCKED|ER_LOCK_WAIT_TIMEOUT$|ER_LOCK_DEADLOCK$|55P03$|40P01$)/

/**
 * A statement refused because another connection held a lock it needed (SQLite's write lock past the busy
 * wait, a MySQL lock wait timeout, a deadlock) as DB_BUSY: nothing was written and trying again is the fix.
 * The message is the same on every driver (it leaves the server); the driver's error stays on `cause`.
 * Undefined for any other error.
 */
export function describeLockConflict(err: unknown): GantryError | undefined {
  const e = (err ?? {}) as DriverError
  if (!LOCK_CONFLICT.test(e.code ?? '')) return undefined
  return new GantryError('DB_BUSY', 'The database was busy: another connection held a lock this change needed, and the change was not made.', { cause: err })
}

/** What Gantry can say about a query's failure in the database (a missing schema, a lock conflict), or undefined. */
export function describeQueryFailure(err: unknown, environmentName: string): GantryError | undefined {
  return describeMissingSchema(err, environmentName) ?? describeLockConflict(err)
}

/**
 * A driver's "no such table" for one of Gantry's own tables (its migrations have not run on this database,
 * or not all of them) as GANTRY_SCHEMA_MISSING, naming the command that creates them; undefined for any
 * other error, an app's missing table included.
 */
export function describeMissingSchema(err: unknown, environmentName: string): GantryError | undefined {
  const table = missingTable(err)
  if (table === undefined || !table.startsWith('gantry_')) return undefined
  return new GantryError(
    'GANTRY_SCHEMA_MISSING',
    `The database of environment "${environmentName}" has no table ${table}: Gantry's migrations have not run there.`,
    {
      cause: err,
      hint: `Run \`gantry migrate latest -e ${environmentName}\` to create Gantry's tables.`,
      details: { table },
    },
  )
}

/** A driver message without the SQL that knex puts in front of it. */
export function driverMessage(message: string | undefined): string {
  if (!message) return 'unknown error'
  const cut = message.lastIndexOf(' - ')
  return (cut >= 0 ? message.slice(cut + 3) : message).split('\n')[0] ?? message
}
