/**
 * The workspace: gantry.config.json found and valid (the loader every command uses decides), and the modes
 * of the `.env` files beside it, which hold the secrets the config references.
 */
import { readdirSync, statSync } from 'node:fs'
import { dirname, isAbsolute, join, relative } from 'node:path'
import { shellWord } from '../cli/hints.js'
import { environmentNames, loadWorkspace, locateConfig, CONFIG_FILE, type Workspace } from '../config/workspace.js'
import { isGantryError } from '../core/errors.js'
import { check, type DoctorCheck } from './check.js'

/** What the config check found: the loaded workspace when valid, its root whenever the file exists. */
export interface ConfigFinding {
  readonly check: DoctorCheck
  readonly workspace?: Workspace | undefined
  readonly root?: string | undefined
}

/**
 * The config: missing is a warning (the toolchain, credentials and server checks still mean something
 * outside a project: a CI runner, an operator's laptop), invalid is a failure with the loader's message.
 */
export function configCheck(options: { cwd: string; configPath?: string | undefined }): ConfigFinding {
  const located = locateConfig(options)
  if (!located) {
    const where = options.configPath ? `${options.configPath} does not exist` : `no ${CONFIG_FILE} in ${options.cwd} or any folder above it`
    return {
      check: check(
        'config',
        'config',
        'warn',
        `${where}: the workspace checks are skipped.`,
        "Run it in the project's folder, pass --config PATH, or run `gantry init`.",
      ),
    }
  }
  const root = dirname(located)
  try {
    const workspace = loadWorkspace({ cwd: options.cwd, configPath: located })
    const names = environmentNames(workspace)
    return { check: check('config', 'config', 'ok', `${located} is valid (environments: ${names.join(', ')}).`), workspace, root }
  } catch (err) {
    if (!isGantryError(err)) throw err
    return { check: check('config', 'config', 'fail', err.message, err.hint), root }
  }
}

/** Templates committed beside the real files: they hold no secrets, so their mode does not matter. */
const TEMPLATE_SUFFIX = /\.(example|sample|template)$/

/** Bits that let anyone but the owner read or write. */
const OTHERS = 0o077

/**
 * Every `.env` and `.env.*` in the workspace root: anything looser than 0600 warns, since any user of the
 * machine can then read the secrets. Windows has no POSIX mode bits to check.
 */
export function secretsFileChecks(root: string, options: { cwd: string; platform?: NodeJS.Platform | undefined }): DoctorCheck[] {
  if ((options.platform ?? process.platform) === 'win32') {
    return [check('secrets', 'secrets', 'skipped', 'not checked on Windows: its files have no POSIX modes.')]
  }
  const files = readdirSync(root)
    .filter((name) => (name === '.env' || name.startsWith('.env.')) && !TEMPLATE_SUFFIX.test(name))
    .sort()
    .flatMap((name) => {
      const path = join(root, name)
      // stat, not lstat: what matters is who can read the file a symlink points at.
      const info = statSync(path, { throwIfNoEntry: false })
      return info?.isFile() ? [{ name, path, mode: info.mode & 0o777 }] : []
    })
  if (files.length === 0) return [check('secrets', 'secrets', 'ok', `no .env files in ${root}.`)]
  return files.map(({ name, path, mode }) =>
    (mode & OTHERS) === 0
      ? check('secrets', `secrets:${name}`, 'ok', `${name} is private (mode ${octal(mode)}).`)
      : check(
          'secrets',
          `secrets:${name}`,
          'warn',
          `${name} has mode ${octal(mode)}: other users of this machine can read it.`,
          `chmod 600 ${shownPath(path, options.cwd)}`,
        ),
  )
}

/** A path as a command to paste should name it: relative to the current folder when under it. */
function shownPath(path: string, cwd: string): string {
  const rel = relative(cwd, path)
  return shellWord(rel && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path)
}

function octal(mode: number): string {
  return mode.toString(8).padStart(4, '0')
}
