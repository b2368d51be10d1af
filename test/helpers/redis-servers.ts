/**
 * Private redis-server instances for fault tests (DESIGN.md "Testing"): each on a free loopback port with
 * its own --dir under a temporary folder, no persistence, started and stopped by the test alone. The
 * machine's shared Redis is never named here: every port comes from the kernel's free ones. Also a 3-node
 * Redis Cluster (no replicas) made of such instances.
 */
import { PortTakenError, startOnFreePorts, watchProcess, type WatchedProcess } from './watched-process.js'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { mkdirSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { findProgram, tail } from './binaries.js'
import { tempDir } from './cli.js'
import { until, within } from './serve-process.js'
import { closedPort } from './tcp-proxy.js'

/** The port of the machine's shared Redis: a private instance never listens there, nor is it ever sent a command. */
const SHARED_REDIS_PORT = 6379

export interface RedisServer {
  readonly port: number
  /** `redis://127.0.0.1:PORT` */
  readonly url: string
  /** The running redis-server (a new one after restart()). */
  readonly child: ChildProcess
  /** `redis-cli -p PORT ARGS`: its stdout, trimmed (an error reply is stdout too, e.g. "MOVED …"). */
  cli(args: readonly string[]): Promise<string>
  /** SIGSTOP: the process holds its connections and answers nothing. */
  pause(): void
  /** SIGCONT after pause(). */
  resume(): void
  /** SIGKILL, then waits for the exit: connections are cut, the port refuses. */
  kill(): Promise<void>
  /** Starts redis-server again on the same port (empty: nothing persists) and waits until it answers. */
  restart(): Promise<void>
  /** Kills it (resumed first) and forgets it. */
  stop(): Promise<void>
  /** The server's log so far. */
  log(): string
}

export interface RedisClusterServers {
  readonly nodes: readonly RedisServer[]
  /** `redis+cluster://127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3` */
  readonly url: string
  stop(): Promise<void>
}

const started = new Set<RedisServer>()
const dirs = new Set<string>()

/** `redis-cli -p PORT ARGS` (loopback); rejects when redis-cli fails to connect. */
export function redisCli(port: number, args: readonly string[], timeoutMs = 5000): Promise<string> {
  if (port === SHARED_REDIS_PORT) return Promise.reject(new Error('refusing to talk to the shared Redis'))
  return new Promise((resolve, reject) => {
    execFile(findProgram('redis-cli'), ['-h', '127.0.0.1', '-p', String(port), ...args], { timeout: timeoutMs }, (error, stdout, stderr) => {
      if (error) reject(new Error(`redis-cli -p ${port} ${args.join(' ')}: ${stderr || error.message}`))
      else resolve(stdout.trim())
    })
  })
}

/** A free loopback port other than the shared Redis's (and, for a cluster node, whose bus port is free too). */
async function freePort(): Promise<number> {
  for (;;) {
    const port = await closedPort()
    if (port !== SHARED_REDIS_PORT) return port
  }
}

interface StartOptions {
  readonly cluster?: boolean
  readonly root?: string
  /** Where ports come from (tests of the retry give a taken one first); free loopback ports by default. */
  readonly ports?: () => Promise<number>
}

/** Starts a private redis-server; `cluster` makes it a cluster node (its bus on a second free port). */
export function startRedisServer(options: StartOptions = {}): Promise<RedisServer> {
  return startOnFreePorts(() => startRedisServerOnce(options))
}

async function startRedisServerOnce(options: StartOptions): Promise<RedisServer> {
  const root = options.root ?? tempDir('gantry-redis-')
  if (!options.root) dirs.add(root)
  const nextPort = options.ports ?? freePort
  const port = await nextPort()
  const busPort = options.cluster ? await nextPort() : undefined
  const dir = join(root, `redis-${port}`)
  mkdirSync(dir, { recursive: true })
  const logFile = join(dir, 'redis.log')
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--logfile', logFile, '--protected-mode', 'no']
  if (busPort !== undefined) args.push('--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-port', String(busPort))

  const command = findProgram('redis-server')
  let child!: ChildProcess
  let exited!: Promise<void>
  let watched!: WatchedProcess
  const launch = async (): Promise<void> => {
    child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    watched = watchProcess(child, command)
    exited = watched.exited
    // until() retries a probe that throws, so an early exit is reported through the value instead.
    const state = await until(
      async () => (watched.gone() ? 'exited' : (await redisCli(port, ['ping'], 1000)) === 'PONG' ? 'up' : undefined),
      `redis-server on port ${port} answering PING`,
      {
        timeoutMs: 10_000,
        intervalMs: 20,
      },
    ).catch((err: Error) => {
      child.kill('SIGKILL')
      throw err
    })
    if (state === 'exited') {
      // The last of its stderr, unless something it started holds the pipe open.
      await Promise.race([watched.closed, new Promise((resolve) => setTimeout(resolve, 2000))])
      const said = watched.output() + server.log()
      const message = `redis-server on ${port} exited at start (${watched.ending()}):\n${tail(said) || '(it wrote nothing)'}`
      // Only a fresh start may move: restart() keeps its port, which clients know.
      throw starting && said.includes('Address already in use') ? new PortTakenError(message) : new Error(message)
    }
  }

  const server: RedisServer = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get child() {
      return child
    },
    cli: (cliArgs) => redisCli(port, cliArgs),
    pause: () => void child.kill('SIGSTOP'),
    resume: () => void child.kill('SIGCONT'),
    async kill() {
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      await within(exited, 5000, `redis-server on ${port} exits after SIGKILL`)
    },
    restart: launch,
    async stop() {
      started.delete(server)
      if (child.exitCode === null && child.signalCode === null) await server.kill()
    },
    log: () => {
      try {
        return readFileSync(logFile, 'utf8')
      } catch {
        return ''
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
 * A Redis Cluster of `size` masters, no replicas, on loopback: the nodes started, joined with
 * `redis-cli --cluster create`, and each reporting cluster_state:ok.
 */
export async function startRedisCluster(size = 3): Promise<RedisClusterServers> {
  const root = tempDir('gantry-redis-cluster-')
  dirs.add(root)
  const nodes = await Promise.all(Array.from({ length: size }, () => startRedisServer({ cluster: true, root })))
  const stop = async (): Promise<void> => {
    await Promise.all(nodes.map((n) => n.stop()))
  }
  try {
    const hosts = nodes.map((n) => `127.0.0.1:${n.port}`)
    await new Promise<void>((resolve, reject) => {
      execFile(
        findProgram('redis-cli'),
        ['--cluster', 'create', ...hosts, '--cluster-replicas', '0', '--cluster-yes'],
        { timeout: 30_000 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`redis-cli --cluster create failed: ${stderr || error.message}\n${stdout}`))
          else resolve()
        },
      )
    })
    for (const node of nodes) {
      await until(async () => ((await node.cli(['cluster', 'info'])).includes('cluster_state:ok') ? true : undefined), `cluster_state:ok on ${node.port}`, {
        timeoutMs: 15_000,
        intervalMs: 50,
      })
    }
    return { nodes, url: `redis+cluster://${hosts.join(',')}`, stop }
  } catch (err) {
    await stop()
    throw err
  }
}

/** Kills every private redis-server still running and removes their folders (after). */
export async function stopAllRedis(): Promise<void> {
  await Promise.all([...started].map((s) => s.stop().catch(() => undefined)))
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
  dirs.clear()
}
