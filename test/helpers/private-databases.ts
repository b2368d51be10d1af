/**
 * Private MariaDB and PostgreSQL servers for fault and reliability tests (DESIGN.md "Testing"): each with
 * its own data directory under a temporary folder and its own free loopback port, started here, paused,
 * killed and stopped by PID — never the machine's shared services (3306, 5432 are refused). Durability is
 * switched off (fsync, flush at commit): these instances hold test data for one run only.
 */
import { PortTakenError, startOnFreePorts, watchProcess, type WatchedProcess } from './watched-process.js'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { chmodSync, chownSync, copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { findProgram, tail } from './binaries.js'
import { adminKnex, createDatabaseOn, type TestDatabase } from './services.js'
import { tempDir } from './cli.js'
import { until, within } from './serve-process.js'
import { closedPort } from './tcp-proxy.js'

const SHARED_PORTS = new Set([3306, 5432])
/** PostgreSQL refuses to run as root: its data directory and processes belong to this account. */
const POSTGRES_ACCOUNT = 'postgres'

export type PrivateDialect = 'mysql' | 'postgres'

export interface PrivateDatabaseServer {
  readonly dialect: PrivateDialect
  readonly port: number
  /** The server's admin URL (root / postgres, no password) on its default database. */
  readonly url: string
  /** The process id of the server (the postmaster for PostgreSQL; its backends are its children). */
  readonly pid: number
  /** A fresh database on this server, and how to drop it. */
  createDatabase(): Promise<TestDatabase>
  /** SIGSTOP to the server and every process it started: connections stay open and nothing answers. */
  pause(): void
  /** SIGCONT after pause(). */
  resume(): void
  /** SIGKILL to every process of the server, then waits for the exit. */
  kill(): Promise<void>
  /** Starts the server again on the same port and data directory and waits until it answers. */
  restart(): Promise<void>
  /** Kills it (resumed first) and removes its data directory. */
  stop(): Promise<void>
  /** The server's log so far. */
  log(): string
}

const started = new Set<PrivateDatabaseServer>()

async function freePort(): Promise<number> {
  for (;;) {
    const port = await closedPort()
    if (!SHARED_PORTS.has(port)) return port
  }
}

function run(command: string, args: readonly string[], options: { uid?: number; gid?: number } = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(command, args, { timeout: 60_000, ...options }, (error, _stdout, stderr) => {
      if (error) reject(new Error(`${command} ${args.join(' ')}: ${stderr || error.message}`))
      else resolve()
    })
  })
}

function accountIds(name: string): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${name}:`))
  if (!line) throw new Error(`running as root, PostgreSQL needs the '${name}' account, which this machine lacks`)
  const [, , uid, gid] = line.split(':')
  return { uid: Number(uid), gid: Number(gid) }
}

/** A server certificate and key (PEM files), and the CA that signed it, for a server that offers TLS. */
export interface ServerTls {
  readonly certFile: string
  readonly keyFile: string
  readonly caFile: string
}

/**
 * The server's own copy of its certificate files, readable by its account: PostgreSQL runs as `postgres`
 * and refuses a key file that others may read.
 */
function serverCopy(tls: ServerTls, dir: string, ids: { uid: number; gid: number } | undefined): ServerTls {
  mkdirSync(dir, { mode: 0o700 })
  const copy = (from: string, name: string): string => {
    const to = join(dir, name)
    copyFileSync(from, to)
    chmodSync(to, 0o600)
    if (ids) chownSync(to, ids.uid, ids.gid)
    return to
  }
  if (ids) chownSync(dir, ids.uid, ids.gid)
  return { certFile: copy(tls.certFile, 'server.pem'), keyFile: copy(tls.keyFile, 'server.key'), caFile: copy(tls.caFile, 'ca.pem') }
}

/** Starts a private server of `dialect` (offering TLS with `options.tls`) and waits until it accepts a query. */
export function startPrivateDatabase(dialect: PrivateDialect, options: { tls?: ServerTls } = {}): Promise<PrivateDatabaseServer> {
  return startOnFreePorts(() => startPrivateDatabaseOnce(dialect, options.tls))
}

async function startPrivateDatabaseOnce(dialect: PrivateDialect, tls: ServerTls | undefined): Promise<PrivateDatabaseServer> {
  const root = tempDir(`gantry-${dialect}-`)
  const port = await freePort()
  const dataDir = join(root, 'data')
  const logFile = join(root, 'server.log')
  const ids = dialect === 'postgres' ? accountIds(POSTGRES_ACCOUNT) : undefined
  if (ids) chownSync(root, ids.uid, ids.gid)
  if (tls) tls = serverCopy(tls, join(root, 'tls'), ids)

  let command: string
  let args: string[]
  if (dialect === 'postgres') {
    await run(findProgram('initdb'), ['-D', dataDir, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8'], ids ?? {})
    command = findProgram('postgres')
    args = [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-k',
      root,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=off',
      '-c',
      'synchronous_commit=off',
      '-c',
      'full_page_writes=off',
      ...(tls ? ['-c', 'ssl=on', '-c', `ssl_cert_file=${tls.certFile}`, '-c', `ssl_key_file=${tls.keyFile}`, '-c', `ssl_ca_file=${tls.caFile}`] : []),
    ]
  } else {
    mkdirSync(dataDir)
    // Its own temporary folder: in the shared /tmp, bootstrap's temporary tables were once removed under it
    // ("Could not remove temporary table … Unknown table 'mysql.tmp_user_sys'", CI of 2026-12-04).
    const tmpDir = join(root, 'tmp')
    mkdirSync(tmpDir)
    // Found before anything runs: without /usr/sbin on PATH (a non-root Debian account) mariadbd is still there.
    command = findProgram('mariadbd')
    await run(findProgram('mariadb-install-db'), [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--tmpdir=${tmpDir}`,
      '--auth-root-authentication-method=normal',
      '--skip-test-db',
      '--user=root',
    ])
    args = [
      '--no-defaults',
      `--datadir=${dataDir}`,
      `--tmpdir=${tmpDir}`,
      `--port=${port}`,
      '--bind-address=127.0.0.1',
      `--socket=${join(root, 'mysqld.sock')}`,
      `--pid-file=${join(root, 'mysqld.pid')}`,
      '--user=root',
      '--skip-log-bin',
      '--innodb-flush-log-at-trx-commit=0',
      `--log-error=${logFile}`,
      ...(tls ? [`--ssl-cert=${tls.certFile}`, `--ssl-key=${tls.keyFile}`, `--ssl-ca=${tls.caFile}`] : []),
    ]
  }
  const url = dialect === 'postgres' ? `postgres://postgres@127.0.0.1:${port}/postgres` : `mysql://root@127.0.0.1:${port}/mysql`

  let child!: ChildProcess
  let exited!: Promise<void>
  let watched!: WatchedProcess
  const launch = async (): Promise<void> => {
    child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(ids ?? {}) })
    watched = watchProcess(child, command)
    exited = watched.exited
    const state = await until(async () => (watched.gone() ? 'exited' : (await ping()) ? 'up' : undefined), `private ${dialect} on port ${port} answering`, {
      timeoutMs: 30_000,
      intervalMs: 50,
    }).catch((err: Error) => {
      signal('SIGKILL')
      throw err
    })
    if (state === 'exited') {
      // The last of its stderr, unless something it started holds the pipe open.
      await Promise.race([watched.closed, new Promise((resolve) => setTimeout(resolve, 2000))])
      const said = server.log()
      const message = `private ${dialect} on ${port} exited at start (${watched.ending()}):\n${tail(said) || '(it wrote nothing)'}`
      // Only a fresh start may move (restart() keeps its port, which clients know); its folder goes with it.
      if (starting && said.includes('Address already in use')) {
        rmSync(root, { recursive: true, force: true })
        throw new PortTakenError(message)
      }
      throw new Error(message)
    }
  }
  const signal = (name: NodeJS.Signals): void => {
    if (child.pid === undefined) return
    // Until no new process turns up: a backend forked while /proc was read (a client connecting just then)
    // is missed by one reading of the tree, and a SIGSTOP that missed it leaves the database answering on
    // that connection (issue 15: "database:responseTime pass, not fail" in the health matrix). Once the
    // postmaster has stopped it forks no more (kill() returns before the signal is acted on: for SIGSTOP the
    // reading after that waits until /proc shows the postmaster stopped), so a later reading finds the rest.
    const root = child.pid
    const signalled = new Set<number>()
    for (;;) {
      const fresh = processTree(root).filter((pid) => !signalled.has(pid))
      if (fresh.length === 0) return
      for (const pid of fresh) {
        signalled.add(pid)
        try {
          process.kill(pid, name)
        } catch {
          // Already gone: nothing to signal.
        }
      }
      if (name === 'SIGSTOP') waitForState(root, 'T', 5000)
    }
  }
  const ping = async (): Promise<boolean> => {
    const db = adminKnex(dialect, url)
    try {
      await db.raw('select 1')
      return true
    } catch {
      return false
    } finally {
      await db.destroy()
    }
  }

  const server: PrivateDatabaseServer = {
    dialect,
    port,
    url,
    get pid() {
      return child.pid ?? -1
    },
    createDatabase: () => createDatabaseOn(dialect, url),
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    async kill() {
      signal('SIGCONT')
      signal('SIGKILL')
      await within(exited, 10_000, `private ${dialect} on ${port} exits after SIGKILL`)
    },
    restart: launch,
    async stop() {
      started.delete(server)
      if (child.exitCode === null && child.signalCode === null) await server.kill()
      rmSync(root, { recursive: true, force: true })
    },
    log: () => {
      try {
        return watched.output() + readFileSync(logFile, 'utf8')
      } catch {
        return watched.output()
      }
    },
  }
  let starting = true
  await launch()
  starting = false
  started.add(server)
  return server
}

/**
 * `pid` and every process descended from it, read from /proc. PostgreSQL's backends each start a session
 * of their own, so a process group would miss them; the parent links do not.
 */
function processTree(pid: number): number[] {
  const parents = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    try {
      // Field 4 of /proc/PID/stat, after the parenthesised command name (which may hold spaces).
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      parents.set(ppid, [...(parents.get(ppid) ?? []), Number(entry)])
    } catch {
      // The process ended while the table was read.
    }
  }
  const tree = [pid]
  for (let i = 0; i < tree.length; i++) tree.push(...(parents.get(tree[i] ?? -1) ?? []))
  return tree
}

/** The state letter of /proc/PID/stat (R, S, D, T, Z…), or undefined when the process is gone. */
export function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]
  } catch {
    return undefined
  }
}

/**
 * Waits (synchronously: pause() is) until `pid` is in `state` or gone. A stop takes effect when the process
 * is next scheduled, within a scheduler tick even on a busy machine; `deadlineMs` only bounds a bug.
 */
function waitForState(pid: number, state: string, deadlineMs: number): void {
  const until = Date.now() + deadlineMs
  for (;;) {
    const now = processState(pid)
    if (now === undefined || now === state) return
    if (Date.now() > until) throw new Error(`process ${pid} still in state ${now}, not ${state}, ${deadlineMs} ms after the signal`)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1)
  }
}

/** `pid` and its descendants (see processTree), for tests of pause() itself. */
export function serverProcesses(pid: number): number[] {
  return processTree(pid)
}

/** Kills every private database server still running and removes its data (after). */
export async function stopAllPrivateDatabases(): Promise<void> {
  await Promise.all([...started].map((s) => s.stop().catch(() => undefined)))
}
