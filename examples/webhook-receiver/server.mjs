/**
 * A receiver of Gantry's webhooks: checks each delivery's signature, drops repeats, and answers 2xx fast.
 *
 *   gantry webhooks create http://127.0.0.1:4100/hooks --events 'users.*'   # prints the secret once
 *   WEBHOOK_SECRET=whsec_… node path/to/examples/webhook-receiver/server.mjs  # PORT (default 4100)
 *   gantry webhooks test ep_…
 *
 * Deliveries are at least once: the same event can arrive again (a retry after a lost answer, a replay), always
 * with the same webhook-id. This keeps the ids it has seen in memory; keep them in your database instead,
 * in the transaction that acts on the event. Do the work after answering, or in a queue of your own: an answer
 * slower than the attempt timeout (15 s) counts as a failure and is retried.
 */
import { Buffer } from 'node:buffer'
import { createServer } from 'node:http'
import { verifyWebhook, WebhookVerificationError } from 'gantry'

const secret = process.env.WEBHOOK_SECRET
if (!secret?.startsWith('whsec_')) {
  console.error('Set WEBHOOK_SECRET to the whsec_… secret `gantry webhooks create` printed.')
  process.exit(2)
}
/** Events are small (Gantry caps an app's payloads at 256 KB); anything larger is not one of them. */
const MAX_BODY = 1024 * 1024
const seen = new Set()

const server = createServer((req, res) => {
  if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end()
  const chunks = []
  let size = 0
  req.on('data', (chunk) => {
    size += chunk.length
    if (size > MAX_BODY) req.destroy()
    else chunks.push(chunk)
  })
  req.on('end', () => {
    // The signature covers the exact bytes sent: verify the raw body, then parse it.
    const body = Buffer.concat(chunks)
    try {
      verifyWebhook(secret, req.headers, body)
    } catch (err) {
      if (!(err instanceof WebhookVerificationError)) throw err
      return void res.writeHead(400).end(err.message)
    }
    const id = req.headers['webhook-id']
    res.writeHead(204).end()
    if (seen.has(id)) return
    seen.add(id)
    const event = JSON.parse(body.toString('utf8'))
    console.log(JSON.stringify({ msg: 'event', id, type: event.type, environment: event.environment, target: event.data?.target ?? null }))
  })
})

const port = Number(process.env.PORT ?? 4100)
server.listen(port, process.env.HOST ?? '127.0.0.1', () => {
  console.log(JSON.stringify({ msg: 'listening', url: `http://127.0.0.1:${server.address().port}/hooks` }))
})
for (const signal of ['SIGTERM', 'SIGINT']) process.once(signal, () => server.close(() => process.exit(0)))
