/**
 * The credentials file (CredentialsStore in types.ts): one entry per normalised server URL, mode 0600 in a
 * 0700 directory. Modes are set explicitly after creation (open with the mode, then fchmod; mkdir, then
 * chmod), so a umask of 000 changes nothing. Every write goes to a temp file in the same directory that is
 * renamed over the file, so a reader sees the old file or the new one, never a part. A file or directory
 * that others may read or write is refused, with the chmod that fixes it. Nothing here logs anything.
 */
import { randomUUID } from 'node:crypto'
import { chmod, mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import { homedir } from 'node:os'
import { dirname, join } from 'node:path'
import { z } from 'zod'
import { GantryError } from '../core/errors.js'
import { fileLock, type FileLockOptions } from './file-lock.js'
import { normaliseServerUrl } from './server-url.js'
import type { CredentialsStore, StoredCredential } from './types.js'

export const CREDENTIALS_FILE = 'credentials.json'
const FILE_MODE = 0o600
const DIR_MODE = 0o700
/** Bits that let anyone but the owner in. */
const OTHERS = 0o077

const storedCredentialSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('session'), email: z.string(), accessToken: z.string(), accessExpiresAt: z.string(), refreshToken: z.string() }),
  z.object({ kind: z.literal('apiKey'), apiKey: z.string() }),
])

/** The file: entries this CLI cannot read (a newer one wrote them) are kept as they are. */
const fileSchema = z.object({ version: z.literal(1), servers: z.record(z.string(), z.unknown()) })
type CredentialsFile = z.infer<typeof fileSchema>

export interface CredentialsStoreOptions {
  readonly env?: NodeJS.ProcessEnv | undefined
  readonly platform?: NodeJS.Platform | undefined
  readonly home?: string | undefined
  /** The lock's timings (tests shorten them). */
  readonly lock?: FileLockOptions | undefined
}

/** The user's config directory for gantry: $XDG_CONFIG_HOME/gantry, ~/Library/Application Support/gantry, %APPDATA%\gantry. */
export function configDirectory(options: Omit<CredentialsStoreOptions, 'lock'> = {}): string {
  const env = options.env ?? process.env
  const platform = options.platform ?? process.platform
  const home = options.home ?? homedir()
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), 'gantry')
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', 'gantry')
  const xdg = env.XDG_CONFIG_HOME
  // The XDG spec: a relative XDG_CONFIG_HOME is invalid and ignored.
  return join(xdg && xdg.startsWith('/') ? xdg : join(home, '.config'), 'gantry')
}

/** The credentials store in the user's config directory; nothing is read or created until it is used. */
export function openCredentialsStore(options: CredentialsStoreOptions = {}): CredentialsStore {
  const dir = configDirectory(options)
  const path = join(dir, CREDENTIALS_FILE)
  const checkModes = (options.platform ?? process.platform) !== 'win32'
  const lock = fileLock(path, options.lock)

  const ensureDirectory = async (): Promise<void> => {
    await mkdir(dirname(dir), { recursive: true })
    try {
      await mkdir(dir, { mode: DIR_MODE })
      if (checkModes) await chmod(dir, DIR_MODE)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    await checkDirectory(dir, checkModes)
  }

  const read = async (): Promise<CredentialsFile> => {
    const text = await readSecure(path, dir, checkModes)
    if (text === undefined) return { version: 1, servers: {} }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch {
      throw corrupt(path)
    }
    const file = fileSchema.safeParse(parsed)
    if (!file.success) throw corrupt(path)
    return file.data
  }

  const write = async (file: CredentialsFile): Promise<void> => {
    await ensureDirectory()
    const temp = join(dir, `.${CREDENTIALS_FILE}.${process.pid}.${randomUUID()}.tmp`)
    const handle = await open(temp, 'wx', FILE_MODE)
    try {
      if (checkModes) await handle.chmod(FILE_MODE)
      await handle.writeFile(`${JSON.stringify(file, null, 2)}\n`)
      await handle.sync()
      await handle.close()
      await rename(temp, path)
    } catch (err) {
      await handle.close().catch(() => undefined)
      await unlink(temp).catch(() => undefined)
      throw err
    }
  }

  /** Holds the lock, whose file needs the directory (created 0700 when missing). */
  const locked = async <T>(work: () => Promise<T>): Promise<T> => {
    await ensureDirectory()
    return lock.run(work)
  }

  const update = <T>(change: (file: CredentialsFile) => T): Promise<T> =>
    locked(async () => {
      const file = await read()
      const result = change(file)
      await write(file)
      return result
    })

  const readable = (entry: unknown): StoredCredential | undefined => {
    const parsed = storedCredentialSchema.safeParse(entry)
    return parsed.success ? (parsed.data as StoredCredential) : undefined
  }

  return {
    path,
    async get(url) {
      return readable((await read()).servers[normaliseServerUrl(url)])
    },
    async entries() {
      return Object.entries((await read()).servers).map(([url, entry]) => ({ url, credential: readable(entry) }))
    },
    async set(url, credential) {
      const key = normaliseServerUrl(url)
      const valid = storedCredentialSchema.parse(credential)
      await update((file) => {
        file.servers[key] = valid
      })
    },
    async delete(url) {
      const key = normaliseServerUrl(url)
      if ((await read()).servers[key] === undefined) return false
      return update((file) => {
        const had = file.servers[key] !== undefined
        delete file.servers[key]
        return had
      })
    },
    withLock: locked,
  }
}

/** The file's text, or undefined when there is none; refuses a file or directory others may use. */
async function readSecure(path: string, dir: string, checkModes: boolean): Promise<string | undefined> {
  let handle
  try {
    handle = await open(path, 'r')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      await checkDirectory(dir, checkModes, true)
      return undefined
    }
    throw err
  }
  try {
    await checkDirectory(dir, checkModes)
    // The mode of what was opened, not of whatever the name points at by now.
    const info = await handle.stat()
    if (checkModes && (info.mode & OTHERS) !== 0) {
      throw new GantryError('CREDENTIALS_INSECURE', `The credentials file ${path} is accessible by other users (mode ${octal(info.mode)}).`, {
        hint: `Run: chmod 600 ${path} — and log in again if someone else could have read it.`,
        details: { path, mode: octal(info.mode) },
      })
    }
    return await handle.readFile('utf8')
  } finally {
    await handle.close()
  }
}

async function checkDirectory(dir: string, checkModes: boolean, mayBeMissing = false): Promise<void> {
  if (!checkModes) return
  let mode: number
  try {
    mode = (await stat(dir)).mode
  } catch (err) {
    if (mayBeMissing && (err as NodeJS.ErrnoException).code === 'ENOENT') return
    throw err
  }
  if ((mode & OTHERS) !== 0) {
    throw new GantryError('CREDENTIALS_INSECURE', `The credentials directory ${dir} is accessible by other users (mode ${octal(mode)}).`, {
      hint: `Run: chmod 700 ${dir}`,
      details: { path: dir, mode: octal(mode) },
    })
  }
}

function corrupt(path: string): GantryError {
  return new GantryError('CONFIG_INVALID', `The credentials file ${path} is not one this CLI can read.`, {
    hint: `Move it away (mv ${path} ${path}.bak) and run \`gantry login\` again.`,
    details: { path },
  })
}

function octal(mode: number): string {
  return (mode & 0o777).toString(8).padStart(4, '0')
}
