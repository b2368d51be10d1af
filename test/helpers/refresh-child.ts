/**
 * One CLI process as the concurrency test runs it (node --import tsx refresh-child.ts URL CONFIG_HOME BARRIER N):
 * writes BARRIER/ready-<pid> and waits until N such files exist, so that all siblings go at the same
 * moment; asks the credential source for the Authorization (which refreshes the almost-expired stored
 * session) and prints what it got as JSON.
 */
import { readdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { createApiClient, credentialSource, openCredentialsStore } from '../../src/client/index.js'
import { sessionTokensSchema } from '../../src/core/sessions/sessions.schema.js'

const [url, configHome, barrier, count] = process.argv.slice(2)
if (!url || !configHome || !barrier || !count) throw new Error('usage: refresh-child.ts URL CONFIG_HOME BARRIER N')

const api = await createApiClient({ baseUrl: url, retries: 0 })
let refreshes = 0
const source = credentialSource({
  url,
  store: openCredentialsStore({ env: { XDG_CONFIG_HOME: configHome }, platform: 'linux' }),
  env: {},
  refresh: async (refreshToken) => {
    refreshes++
    // Holds the lock a while, so that the sibling surely finds it taken.
    await new Promise((resolve) => setTimeout(resolve, 200))
    return api.request({ method: 'POST', path: '/api/v1/auth/refresh', body: { refreshToken }, schema: sessionTokensSchema, authenticate: false })
  },
})
writeFileSync(join(barrier, `ready-${process.pid}`), '')
while (readdirSync(barrier).filter((f) => f.startsWith('ready-')).length < Number(count)) await new Promise((resolve) => setTimeout(resolve, 5))
try {
  const authorization = await source.authorization()
  process.stdout.write(JSON.stringify({ authorization, refreshes }))
} catch (err) {
  const e = err as { code?: string; message?: string }
  process.stdout.write(JSON.stringify({ error: e.code ?? 'UNKNOWN', message: e.message, refreshes }))
  process.exitCode = 1
}
