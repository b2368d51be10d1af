/**
 * The toolchain: the Node version Gantry's package.json asks for, and the two native modules it loads (the
 * SQLite driver and argon2). A native module that was not built or whose prebuilt binary is missing fails
 * only when first used, deep inside some command; here it fails up front with the reinstall that fixes it.
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { satisfies, validRange } from 'semver'
import { isGantryError } from '../core/errors.js'
import { chooseSqliteDriver, SQLITE_DRIVER_VARIABLE, type DriverLoader } from '../db/sqlite-driver.js'
import { packageRoot } from '../package-root.js'
import { check, firstLine, type DoctorCheck } from './check.js'

/** The `engines.node` range of Gantry's own package.json. */
export function enginesRange(): string {
  const manifest = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { engines?: { node?: string } }
  return manifest.engines?.node ?? '*'
}

/** Node's version against package.json's engines: Gantry is tested only on those, and some APIs it uses are newer. */
export function nodeCheck(version = process.versions.node, range = enginesRange()): DoctorCheck {
  if (validRange(range) === null) return check('toolchain', 'node', 'warn', `Node ${version}: cannot read the engines range "${range}".`, 'Check it by hand.')
  if (satisfies(version, range)) return check('toolchain', 'node', 'ok', `Node ${version} satisfies ${range}.`)
  return check('toolchain', 'node', 'fail', `Node ${version} does not satisfy ${range}.`, 'Install a Node version in that range, e.g. `nvm install --lts`.')
}

/** The SQLite driver: the same choice (and probe: an in-memory database opened) that opening a sqlite: URL makes. */
export function sqliteDriverCheck(requested = process.env[SQLITE_DRIVER_VARIABLE], load?: DriverLoader): DoctorCheck {
  try {
    const driver = chooseSqliteDriver(requested, load)
    const why = requested?.trim() ? `named by ${SQLITE_DRIVER_VARIABLE}` : 'the first that loads'
    return check('toolchain', 'sqlite-driver', 'ok', `SQLite driver ${driver.name} loads (${why}).`)
  } catch (err) {
    if (!isGantryError(err)) throw err
    return check('toolchain', 'sqlite-driver', 'fail', err.message, err.hint)
  }
}

/** The smallest argon2 work that proves the binary runs: hashing is what users create and set-password do. */
const PROBE_PARAMS = { memoryCost: 8, timeCost: 1, parallelism: 1 }

/** argon2 (@node-rs/argon2): its binary comes in an optional per-platform package that an install may leave out. */
export async function argon2Check(): Promise<DoctorCheck> {
  try {
    // Imported here, not at the top: a binary that does not load must fail this check, not the whole doctor.
    const { argon2Hasher } = await import('../core/users/passwords.js')
    await argon2Hasher(PROBE_PARAMS).hash('gantry doctor')
    return check('toolchain', 'argon2', 'ok', 'argon2 (@node-rs/argon2) loads and hashes.')
  } catch (err) {
    return check(
      'toolchain',
      'argon2',
      'fail',
      `argon2 (@node-rs/argon2) does not load: ${firstLine(err)}`,
      'Reinstall with optional dependencies (`npm ci`, without --omit=optional): the binary for this platform comes in one.',
    )
  }
}
