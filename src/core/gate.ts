import { GantryError } from './errors.js'

/** A bounded semaphore: at most `concurrency` tasks run, at most `queue` wait; more are refused at once. */
export interface Gate {
  run<T>(task: () => Promise<T>): Promise<T>
}

/** Builds a gate; a refusal is RATE_LIMITED (429, Retry-After 1). */
export function createGate(concurrency: number, queue: number): Gate {
  let running = 0
  const waiting: (() => void)[] = []
  const release = (): void => {
    running -= 1
    const next = waiting.shift()
    if (next) {
      running += 1
      next()
    }
  }
  return {
    async run(task) {
      if (running >= concurrency) {
        if (waiting.length >= queue)
          throw new GantryError('RATE_LIMITED', 'The server is busy with other logins; try again in a second.', { details: { retryAfterSeconds: 1 } })
        await new Promise<void>((resolve) => waiting.push(resolve))
      } else {
        running += 1
      }
      try {
        return await task()
      } finally {
        release()
      }
    },
  }
}
