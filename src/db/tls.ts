/**
 * TLS to a database server, from the URL's own parameters under the names each database's own client uses
 * (issue 26): PostgreSQL's `sslmode` and `sslrootcert` (libpq), MySQL/MariaDB's `ssl-mode` and `ssl-ca`
 * (the mysql client). Verification follows those clients: `require`/`REQUIRED` encrypt without checking
 * the certificate, unless a CA file is given, which makes them check the chain (as libpq and the mysql
 * client do); `verify-ca`/`VERIFY_CA` check the chain; `verify-full`/`VERIFY_IDENTITY` check the chain and
 * that the certificate names the host. The modes that fall back to plain text (`allow`, `prefer`,
 * `PREFERRED`) are refused: a connection that may or may not be encrypted is not one to trust.
 */
import { readFileSync } from 'node:fs'
import { isIP } from 'node:net'
import { isAbsolute, resolve } from 'node:path'
import { GantryError } from '../core/errors.js'

/** What the URL asks of the connection: plain, encrypted, encrypted with the chain checked, or with the host too. */
export type TlsMode = 'disable' | 'require' | 'verify-ca' | 'verify-full'

export interface TlsSettings {
  readonly mode: TlsMode
  /** The CA file's path (absolute), when the URL names one. */
  readonly caFile: string | undefined
}

const POSTGRES_MODES: Record<string, TlsMode> = { disable: 'disable', require: 'require', 'verify-ca': 'verify-ca', 'verify-full': 'verify-full' }
const MYSQL_MODES: Record<string, TlsMode> = { DISABLED: 'disable', REQUIRED: 'require', VERIFY_CA: 'verify-ca', VERIFY_IDENTITY: 'verify-full' }
const FALLBACK_MODES = new Set(['allow', 'prefer', 'PREFERRED'])

/**
 * The TLS a server URL's parameters ask for. A CA file resolves from the workspace root (like a SQLite
 * path), is read when the connection is configured, and upgrades `require` to `verify-ca`.
 */
export function tlsSettings(dialect: 'mysql' | 'postgres', params: URLSearchParams, root: string, host: string): TlsSettings {
  const [modeName, caName, modes, example] =
    dialect === 'postgres'
      ? (['sslmode', 'sslrootcert', POSTGRES_MODES, 'sslmode=verify-full&sslrootcert=./ca.pem'] as const)
      : (['ssl-mode', 'ssl-ca', MYSQL_MODES, 'ssl-mode=VERIFY_IDENTITY&ssl-ca=./ca.pem'] as const)
  const given = params.get(modeName)
  const ca = params.get(caName) || undefined
  const caFile = ca === undefined ? undefined : isAbsolute(ca) ? ca : resolve(root, ca)
  if (given === null) return { mode: caFile === undefined ? 'disable' : 'verify-ca', caFile }
  if (FALLBACK_MODES.has(given)) {
    throw new GantryError(
      'DB_URL_INVALID',
      `${modeName}=${given} may fall back to an unencrypted connection, which Gantry does not do: choose one of ${Object.keys(modes).join(', ')}.`,
      { hint: `For an encrypted, verified connection: ${example}` },
    )
  }
  const mode = modes[given]
  if (mode === undefined) {
    throw new GantryError('DB_URL_INVALID', `Unknown ${modeName}=${JSON.stringify(given)}: expected one of ${Object.keys(modes).join(', ')}.`, {
      hint: `For an encrypted, verified connection: ${example}`,
    })
  }
  if (mode === 'disable' && caFile !== undefined) {
    throw new GantryError('DB_URL_INVALID', `${caName} is set but ${modeName}=${given} turns TLS off: drop one of them.`)
  }
  // mysql2 checks the certificate against a host name only: for an address it would check "localhost".
  if (dialect === 'mysql' && mode === 'verify-full' && isIP(host) !== 0) {
    throw new GantryError(
      'DB_URL_INVALID',
      `ssl-mode=VERIFY_IDENTITY needs a host name in the URL, not the address ${host}: the name the certificate carries.`,
      {
        hint: 'Put the server name in the URL, or use ssl-mode=VERIFY_CA to check the CA alone.',
      },
    )
  }
  return { mode: mode === 'require' && caFile !== undefined ? 'verify-ca' : mode, caFile }
}

/** The `tls.connect` options both drivers pass through for these settings, or undefined for a plain connection. */
export function tlsConnectOptions(settings: TlsSettings): TlsConnectOptions | undefined {
  if (settings.mode === 'disable') return undefined
  const ca = settings.caFile === undefined ? undefined : readCa(settings.caFile)
  if (settings.mode === 'require') return { rejectUnauthorized: false }
  return {
    rejectUnauthorized: true,
    ...(ca === undefined ? {} : { ca }),
    // verify-ca checks who signed the certificate, not which host it names.
    ...(settings.mode === 'verify-ca' ? { checkServerIdentity: () => undefined } : {}),
  }
}

export interface TlsConnectOptions {
  readonly rejectUnauthorized: boolean
  readonly ca?: string
  readonly checkServerIdentity?: () => undefined
}

function readCa(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (err) {
    throw new GantryError('DB_URL_INVALID', `Cannot read the CA file ${path} the database URL names: ${(err as NodeJS.ErrnoException).code ?? 'unreadable'}.`, {
      cause: err,
      hint: 'Give a path to the PEM file, absolute or relative to the workspace root.',
    })
  }
}
