/**
 * The login floor: a refused login answers no sooner than this after it began, so its timing tells nobody
 * whether the account exists, is locked, or holds a slow (imported bcrypt) hash. It is a timer, never dummy
 * hashing: a dummy verify as slow as the slowest hash would let a flood of unknown emails burn the CPU.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { familyProbe, generatePassword, hashFamily, type PasswordHasher } from './passwords.js'

/** Monotonic milliseconds and a way to wait, injected so that tests need no real sleeps. */
export interface LoginTimer {
  now(): number
  sleep(ms: number): Promise<void>
}

/** The process's monotonic clock and setTimeout. */
export const realTimer: LoginTimer = { now: () => performance.now(), sleep: (ms) => sleep(ms) }

/** How long a refused login takes at least. */
export interface LoginFloor {
  /** The floor in ms (the first call measures it, unless it was configured). */
  ms(): Promise<number>
  /** How long one verify of `stored` took: a hash family not measured yet raises the floor at once (an import). */
  observe(stored: string, ms: number): void
}

/**
 * Slowest verify × 1.5 + 50 ms: headroom for a busier moment than the one measured (one bcrypt cost-12 verify
 * took 0.34–0.47 s on one machine), and for what a refusal does besides the verify (counting the failure).
 */
const MARGIN_FACTOR = 1.5
const MARGIN_MS = 50
/** Families also vanish (an imported hash is re-hashed at its first login): measuring again lets the floor come down. */
const REMEASURE_MS = 60 * 60_000

/** The floor set in the config (`auth.loginFloor`). */
export function fixedLoginFloor(ms: number): LoginFloor {
  return { ms: () => Promise.resolve(ms), observe: () => undefined }
}

/**
 * The floor measured from the database: one verify per hash family present (`families`), and of the hasher's
 * own family, which every new password gets; lazily, once, then again every hour.
 */
export function measuredLoginFloor(deps: { families: () => Promise<string[]>; hasher: PasswordHasher; timer: LoginTimer }): LoginFloor {
  const { families, hasher, timer } = deps
  /** ms of one verify, per hash family. */
  let costs = new Map<string, number>()
  let measuredAt: number | undefined
  let measuring: Promise<void> | undefined

  const measure = async (): Promise<void> => {
    const password = generatePassword()
    const fresh = new Map<string, number>()
    for (const family of new Set([hashFamily(await hasher.hash(password)), ...(await families())])) {
      // A malformed hash in the table makes no family: verify refuses it without hashing.
      if (family === undefined || hashFamily(familyProbe(family)) !== family) continue
      const started = timer.now()
      await hasher.verify(familyProbe(family), password)
      fresh.set(family, timer.now() - started)
    }
    costs = fresh
    measuredAt = timer.now()
  }
  const remeasure = (): Promise<void> => (measuring ??= measure().finally(() => (measuring = undefined)))

  return {
    async ms() {
      if (measuredAt === undefined) await remeasure()
      // In the background: this login keeps the current floor; a failure keeps it too, and the next login tries again.
      else if (timer.now() - measuredAt >= REMEASURE_MS) remeasure().catch(() => undefined)
      return Math.max(0, ...costs.values()) * MARGIN_FACTOR + MARGIN_MS
    },
    observe(stored, ms) {
      const family = hashFamily(stored)
      if (family !== undefined && !costs.has(family)) costs.set(family, ms)
    },
  }
}
