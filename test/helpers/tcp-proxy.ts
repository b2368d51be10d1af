/**
 * A TCP proxy of the test's own in front of a shared service, for fault tests that must never stop, pause
 * or flush the service itself (DESIGN.md "Testing"): the test cuts or silences the proxy instead.
 */
import { connect, createServer, type AddressInfo, type Socket } from 'node:net'

export interface TcpProxy {
  /** The loopback port the proxy listens on. */
  readonly port: number
  /** `url` with its host and port replaced by the proxy's. */
  via(url: string): string
  /**
   * From now on no byte passes in either direction: open connections stay open and silent, new ones are
   * accepted and never answered (a database that hangs instead of refusing).
   */
  silence(): void
  /** Closes the listener and cuts every connection: the service is unreachable (refused) from now on. */
  stop(): Promise<void>
}

/** Starts forwarding a loopback port to `target` (`host:port` taken from a URL). */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const { hostname, port } = new URL(target)
  const sockets = new Set<Socket>()
  const pairs = new Set<[Socket, Socket]>()
  let silent = false
  const track = (socket: Socket): void => {
    sockets.add(socket)
    socket.once('close', () => sockets.delete(socket))
    // A cut connection is what the test asked for, not a failure of the proxy.
    socket.on('error', () => socket.destroy())
  }
  const server = createServer((client) => {
    track(client)
    if (silent) return void client.pause()
    const upstream = connect({ host: hostname, port: Number(port) })
    track(upstream)
    client.pipe(upstream)
    upstream.pipe(client)
    const pair: [Socket, Socket] = [client, upstream]
    pairs.add(pair)
    const end = (): void => {
      pairs.delete(pair)
      client.destroy()
      upstream.destroy()
    }
    client.once('close', end)
    upstream.once('close', end)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve())
  })
  const proxyPort = (server.address() as AddressInfo).port
  return {
    port: proxyPort,
    via(url) {
      const proxied = new URL(url)
      proxied.hostname = '127.0.0.1'
      proxied.port = String(proxyPort)
      return proxied.toString()
    },
    silence() {
      silent = true
      for (const [client, upstream] of pairs) {
        client.unpipe(upstream)
        upstream.unpipe(client)
        client.pause()
        upstream.pause()
      }
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
}

/** A loopback port nothing listens on (bound once, then released): connecting to it is refused. */
export async function closedPort(): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.address() as AddressInfo
  await new Promise<void>((resolve) => server.close(() => resolve()))
  return port
}
