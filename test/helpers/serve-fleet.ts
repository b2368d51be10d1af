/**
 * Several `gantry serve` processes over one workspace (one database), for the tests of what instances
 * share: rate-limit budgets on one Redis, a database behind a load balancer.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { createServeWorkspace, listeningUrl, startServe, type ServeProcess, type ServeWorkspace, type ServeWorkspaceOptions } from './serve-process.js'

/**
 * A serve workspace whose development environment takes Redis from REDIS_URL, and requires it: a run that
 * forgot to pass it fails instead of quietly deciding rate limits in each instance's memory.
 */
export async function createRedisWorkspace(options: ServeWorkspaceOptions = {}): Promise<ServeWorkspace> {
  const ws = await createServeWorkspace(options)
  const configPath = join(ws.root, 'gantry.config.json')
  const config = JSON.parse(readFileSync(configPath, 'utf8')) as { environments: { development: Record<string, unknown> } }
  config.environments.development.redis = '${REDIS_URL}'
  writeFileSync(configPath, JSON.stringify(config, null, 2))
  return ws
}

export interface Fleet {
  readonly serves: ServeProcess[]
  readonly urls: string[]
  /** SIGTERM to each instance still running, then every exit awaited (SIGKILL after 10 s). */
  stop(): Promise<void>
}

/** `count` instances of `gantry serve` in `ws` with `env` added, each on its own port; resolves once all listen. */
export async function startFleet(ws: ServeWorkspace, env: NodeJS.ProcessEnv, count: number): Promise<Fleet> {
  const serves = Array.from({ length: count }, () => startServe({ ...ws, env: { ...ws.env, ...env } }))
  const stop = (): Promise<void> => stopAll(serves)
  const urls = await Promise.all(serves.map((s) => listeningUrl(s))).catch(async (err: unknown) => {
    await stop()
    throw err
  })
  expect(new Set(urls).size).to.equal(count)
  return { serves, urls, stop }
}

/** SIGTERM to each instance still running, then waits for every exit (bounded: SIGKILL after 10 s). */
export async function stopAll(serves: readonly ServeProcess[]): Promise<void> {
  await Promise.all(
    serves.map(async (serve) => {
      if (serve.child.exitCode !== null || serve.child.signalCode !== null) return
      serve.child.kill('SIGTERM')
      const timer = setTimeout(() => serve.child.kill('SIGKILL'), 10_000)
      await serve.exited
      clearTimeout(timer)
    }),
  )
}
