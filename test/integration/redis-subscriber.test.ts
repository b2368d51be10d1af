import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { expect } from 'chai'
import pino from 'pino'
import { Writable } from 'node:stream'
import { loadWorkspace, resolveEnvironment } from '../../src/config/workspace.js'
import { openRuntime, type Runtime } from '../../src/runtime.js'

/**
 * A Redis that stalls at the worst moment: it answers the ready check (INFO) on every connection and the
 * first SUBSCRIBE, then drops the subscribed connection and, on the next one, never answers SUBSCRIBE,
 * as a Redis paused (SIGSTOP) right after a reconnect does. A real server can't be paused between two
 * commands of one client on cue; this fake can, and it only has to recognise a few command names.
 */
function stallingRedis(): { server: Server; subscribes: Array<{ connection: number }>; dropSubscribed: () => void } {
  const subscribes: Array<{ connection: number }> = []
  let connections = 0
  let subscribed: Socket | undefined
  const bulk = (text: string): string => `$${Buffer.byteLength(text)}\r\n${text}\r\n`
  const server = createServer((socket) => {
    const connection = ++connections
    socket.on('error', () => undefined)
    socket.on('data', (chunk) => {
      // Each command is an array whose first element is its name; answered in order, as Redis does.
      for (const [, name = '', channel = ''] of chunk.toString('latin1').matchAll(/\*\d+\r\n\$\d+\r\n([A-Za-z]+)\r\n(?:\$\d+\r\n([^\r]*)\r\n)?/g)) {
        const command = name.toLowerCase()
        if (command === 'hello')
          socket.write("-ERR unknown command 'hello'\r\n") // so the client speaks RESP2
        else if (command === 'info') socket.write(bulk('# Server\r\nloading:0\r\n'))
        else if (command === 'subscribe') {
          subscribes.push({ connection })
          if (subscribed !== undefined) continue // the stall: never answered
          subscribed = socket
          socket.write(`*3\r\n${bulk('subscribe')}${bulk(channel)}:1\r\n`)
        } else socket.write('+OK\r\n')
      }
    })
  })
  return { server, subscribes, dropSubscribed: () => subscribed?.destroy() }
}

async function until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 10))
  }
}

describe('runtime: a Redis subscription across a reconnect to a Redis that stalls', function () {
  this.timeout(20_000)
  let root: string
  let runtime: Runtime | undefined
  let fake: ReturnType<typeof stallingRedis>
  const unhandled: unknown[] = []
  const onUnhandled = (reason: unknown): void => void unhandled.push(reason)
  beforeEach(async () => {
    root = mkdtempSync(join(tmpdir(), 'gantry-subscriber-'))
    fake = stallingRedis()
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve))
    process.on('unhandledRejection', onUnhandled)
  })
  afterEach(async () => {
    process.off('unhandledRejection', onUnhandled)
    await runtime?.close()
    fake.server.close()
    rmSync(root, { recursive: true, force: true })
  })

  it('sends one SUBSCRIBE per connection and handles its timeout: no unhandled rejection ends the server', async () => {
    const port = (fake.server.address() as { port: number }).port
    writeFileSync(
      join(root, 'gantry.config.json'),
      JSON.stringify({ environments: { development: { database: 'sqlite:./db.sqlite3', redis: `redis://127.0.0.1:${port}` } } }),
    )
    const lines: Array<{ msg?: string }> = []
    const sink = new Writable({ write: (chunk: Buffer, _encoding, done) => (lines.push(JSON.parse(chunk.toString()) as { msg?: string }), done()) })
    const workspace = loadWorkspace({ cwd: root })
    runtime = await openRuntime({ workspace, environment: resolveEnvironment(workspace, 'development', {}), logger: pino({ level: 'debug' }, sink) })
    await runtime.subscribeAccessChanges(() => undefined)
    await until(() => fake.subscribes.length === 1, 'the first SUBSCRIBE')
    const first = fake.subscribes[0]!.connection

    fake.dropSubscribed()
    await until(() => fake.subscribes.some((s) => s.connection !== first), 'the SUBSCRIBE after the reconnect')
    // The command times out after the client's backstop: its failure is logged, or left unhandled.
    await until(() => unhandled.length > 0 || lines.some((line) => line.msg?.startsWith('subscribing failed')), 'the SUBSCRIBE to time out')
    await new Promise((resolve) => setImmediate(resolve))

    expect(unhandled.map(String)).to.deep.equal([])
    expect(fake.subscribes.filter((s) => s.connection !== first)).to.have.length(1)
  })
})
