/**
 * The dialects' own client programs (pg_dump, pg_restore, mariadb-dump, mariadb): where they are, which
 * version, and running one with its output kept bounded in memory and its failure reported as a catalogued
 * error that quotes the tool's last lines of stderr (never a credential: those travel in the environment or
 * in an option file, never on the command line, and are masked in any text shown).
 */
import { spawn } from 'node:child_process'
import { accessSync, constants, createReadStream, readdirSync } from 'node:fs'
import { delimiter, isAbsolute, join } from 'node:path'
import { Transform, type Writable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { GantryError } from '../../core/errors.js'

/** The programs a dump tool runs, as options name them. */
export type DumpProgram = 'pg_dump' | 'pg_restore' | 'mariadb-dump' | 'mariadb'

/** The Debian package of each (Debian 12). */
export const DUMP_PROGRAM_PACKAGES: Record<DumpProgram, string> = {
  pg_dump: 'postgresql-client',
  pg_restore: 'postgresql-client',
  'mariadb-dump': 'mariadb-client',
  mariadb: 'mariadb-client',
}

/** Other names of the same program, tried after it: MySQL's own client, older MariaDB packages. */
const ALIASES: Record<DumpProgram, readonly string[]> = { pg_dump: [], pg_restore: [], 'mariadb-dump': ['mysqldump'], mariadb: ['mysql'] }

const FIXED_FOLDERS = ['/usr/local/bin', '/usr/bin', '/bin']

/** PostgreSQL's per-version folders (Debian's /usr/lib/postgresql/N/bin), the newest first. */
function postgresFolders(): string[] {
  let versions: string[] = []
  try {
    versions = readdirSync('/usr/lib/postgresql').filter((v) => /^\d+$/.test(v))
  } catch {
    // No PostgreSQL packages there.
  }
  return versions.sort((a, b) => Number(b) - Number(a)).map((v) => `/usr/lib/postgresql/${v}/bin`)
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Every installed copy of `program` (or of its aliases), in the order to try them: PATH, the usual folders,
 * then PostgreSQL's versioned folders (where a newer pg_dump than PATH's may live). A configured path is the
 * only candidate: asked for one program, Gantry never runs another.
 */
export function locatePrograms(program: DumpProgram, configured: string | undefined, env: NodeJS.ProcessEnv = process.env): string[] {
  if (configured !== undefined) {
    if (isAbsolute(configured) ? executable(configured) : false) return [configured]
    throw missingProgram(program, `${program} is configured as ${JSON.stringify(configured)}, which is not an executable file (an absolute path is needed).`)
  }
  const folders = [...new Set([...(env.PATH ?? '').split(delimiter).filter((f) => isAbsolute(f)), ...FIXED_FOLDERS, ...postgresFolders()])]
  const found: string[] = []
  for (const name of [program, ...ALIASES[program]]) {
    for (const folder of folders) {
      const path = join(folder, name)
      if (executable(path) && !found.includes(path)) found.push(path)
    }
  }
  if (found.length === 0) {
    const names = [program, ...ALIASES[program]].join(' or ')
    throw missingProgram(program, `${names} is not installed: not found on PATH nor in ${FIXED_FOLDERS.join(', ')}.`)
  }
  return found
}

export function missingProgram(program: DumpProgram, message: string): GantryError {
  const pkg = DUMP_PROGRAM_PACKAGES[program]
  return new GantryError('DUMP_TOOL_MISSING', message, {
    hint: `Install ${program} (Debian/Ubuntu: apt-get install ${pkg}), or name its absolute path in backups.programs.${program}.`,
    details: { program, package: pkg },
  })
}

/** How much of a child's stderr (its last bytes) is kept for an error message. */
const STDERR_KEPT = 16 * 1024
/** How much of a child's stdout is kept when it is not streamed elsewhere (a version line). */
const STDOUT_KEPT = 16 * 1024

/** The last `limit` bytes of what a stream wrote. */
class Tail {
  private chunks: Buffer[] = []
  private size = 0
  constructor(private readonly limit: number) {}
  push(chunk: Buffer): void {
    this.chunks.push(chunk)
    this.size += chunk.length
    while (this.size - (this.chunks[0]?.length ?? 0) >= this.limit) this.size -= this.chunks.shift()?.length ?? 0
  }
  text(): string {
    const all = Buffer.concat(this.chunks)
    return all.subarray(Math.max(0, all.length - this.limit)).toString('utf8')
  }
}

export interface RunOptions {
  readonly env: NodeJS.ProcessEnv
  /** A file streamed into the program's stdin. */
  readonly stdinFile?: string
  /** Where the program's stdout goes, through `inspect` when given; otherwise its last bytes are kept and returned. */
  readonly stdout?: Writable
  readonly inspect?: (chunk: Buffer) => void
  /** Texts masked wherever the program's output is quoted (the password). */
  readonly secrets?: readonly string[]
  /** What the run is, for the error message ("pg_dump of app at db:5432"). */
  readonly what: string
  readonly timeoutMs?: number
}

/**
 * Runs `path` with `args` (never a shell) and resolves with its kept stdout when it exits 0. Otherwise it
 * throws DUMP_TOOL_FAILED with the exit status and the last lines of stderr; a program that cannot be
 * started throws DUMP_TOOL_MISSING.
 */
export async function runProgram(program: DumpProgram, path: string, args: readonly string[], options: RunOptions): Promise<string> {
  const child = spawn(path, args, {
    env: options.env,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.timeoutMs === undefined ? {} : { timeout: options.timeoutMs, killSignal: 'SIGKILL' }),
  })
  const stderr = new Tail(STDERR_KEPT)
  const stdout = new Tail(STDOUT_KEPT)
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk))
  // A program that exits without reading its stdin makes writing to it fail (EPIPE): its exit status tells.
  child.stdin.on('error', () => undefined)
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve, reject) => {
    child.once('error', reject)
    child.once('close', (code, signal) => resolve({ code, signal }))
  })
  // Each stream's failure is awaited below; a program that stops reading its stdin early (it failed) is not
  // a second failure: its exit status says what happened.
  const feeding =
    options.stdinFile === undefined
      ? Promise.resolve(child.stdin.end())
      : pipeline(createReadStream(options.stdinFile), child.stdin).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_PREMATURE_CLOSE') throw err
        })
  const draining = options.stdout
    ? pipeline(
        child.stdout,
        new Transform({
          transform(chunk: Buffer, _encoding, done) {
            try {
              options.inspect?.(chunk)
              done(null, chunk)
            } catch (err) {
              done(err as Error)
            }
          },
        }),
        options.stdout,
      )
    : new Promise<void>((resolve) => {
        child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk))
        child.stdout.once('end', resolve)
        child.stdout.once('error', () => resolve())
      })
  let result: { code: number | null; signal: NodeJS.Signals | null }
  try {
    ;[result] = await Promise.all([
      exited,
      feeding,
      draining.catch((err: unknown) => {
        // The file cannot be written (disk full): the dump cannot succeed, so it stops here.
        child.kill('SIGKILL')
        throw err
      }),
    ])
  } catch (err) {
    child.kill('SIGKILL')
    const e = err as NodeJS.ErrnoException
    if (e.syscall?.startsWith('spawn') && (e.code === 'ENOENT' || e.code === 'EACCES')) {
      throw missingProgram(program, `Cannot start ${path}: ${e.code === 'ENOENT' ? 'no such file' : 'permission denied'}.`)
    }
    if (err instanceof GantryError) throw err
    throw new GantryError('DUMP_TOOL_FAILED', `${options.what} failed: ${e.message}`, { cause: err })
  }
  if (result.code === 0) return stdout.text()
  const status = result.signal ? `was killed (${result.signal})` : `exited with status ${result.code}`
  const said = lastLines(mask(stderr.text(), options.secrets ?? []), 12)
  throw new GantryError('DUMP_TOOL_FAILED', `${options.what} ${status}${said ? `:\n${said}` : ' without a message.'}`, {
    details: { program, exitCode: result.code, signal: result.signal },
  })
}

/** The program's version line (`pg_dump (PostgreSQL) 15.6 (Debian 15.6-0+deb12u1)`), whitespace collapsed. */
export async function programVersion(program: DumpProgram, path: string, env: NodeJS.ProcessEnv): Promise<string> {
  const out = await runProgram(program, path, ['--version'], { env, what: `${path} --version`, timeoutMs: 15_000 })
  return (out.split('\n').find((line) => line.trim() !== '') ?? '').replace(/\s+/g, ' ').trim()
}

/** `text` with every occurrence of each non-empty secret replaced by ***. */
export function mask(text: string, secrets: readonly string[]): string {
  let out = text
  for (const secret of secrets) if (secret !== '') out = out.split(secret).join('***')
  return out
}

function lastLines(text: string, lines: number): string {
  const all = text.trimEnd().split('\n')
  return (all.length > lines ? ['…', ...all.slice(-lines)] : all).join('\n')
}

/**
 * The process environment without the variables a client would read instead of what Gantry passes (a
 * stray PGSERVICE, PGOPTIONS or MYSQL_PWD in the operator's shell must not redirect or alter a backup).
 */
export function cleanEnvironment(prefixes: readonly string[], env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {}
  for (const [key, value] of Object.entries(env)) if (!prefixes.some((p) => key.startsWith(p))) out[key] = value
  return out
}
