/**
 * This instance's traffic over the last hour, minute by minute: requests answered and how many of them
 * were 429s. A fixed ring of per-minute buckets kept in memory (each process counts its own; nothing is
 * shared or stored), for the admin console's chart. Counting is O(1) and allocates nothing, since it runs
 * on every answer; a bucket is reset only when its slot comes round again, and one whose minute has left
 * the window reads as zero, so an idle gap shows as zeros, never as the counts of an hour before.
 */
import { hostname } from 'node:os'
import { z } from 'zod'
import type { Clock } from '../core/clock.js'

const MINUTE_MS = 60_000

export const trafficSnapshotSchema = z.object({
  instance: z.string().describe('the process that counted: host and process id (each instance, and each worker of `serve --workers`, counts its own)'),
  windowMinutes: z.number().int().describe('how many minutes `minutes` covers, the current one included'),
  minutes: z
    .array(
      z.object({
        at: z.string().describe('ISO 8601: the start of the minute'),
        requests: z.number().int().describe('requests answered in that minute, refusals included'),
        refused: z.number().int().describe('of those, answered 429 (a rate limit or the login gate)'),
      }),
    )
    .describe('oldest first, one per minute up to the current one; zeros where nothing was answered'),
})
export type TrafficSnapshot = z.infer<typeof trafficSnapshotSchema>

export interface TrafficRing {
  /** Counts one answered request by its status (429: refused too). */
  observe(status: number): void
  /** The last `windowMinutes` minutes, oldest first, the current one last. */
  snapshot(): TrafficSnapshot
}

/** This process, as the snapshot names it: its host and process id. */
export function instanceName(): string {
  return `${hostname()}:${process.pid}`
}

/** A ring of `minutes` per-minute buckets over `clock`. */
export function createTrafficRing(clock: Clock, minutes = 60): TrafficRing {
  if (!Number.isInteger(minutes) || minutes < 1) throw new RangeError(`a traffic ring needs a whole number of minutes (>= 1), not ${minutes}`)
  const instance = instanceName()
  // Slot i holds the counts of minute `minuteOf[i]` (epoch minutes); -1: never used.
  const minuteOf = new Float64Array(minutes).fill(-1)
  const requests = new Float64Array(minutes)
  const refused = new Float64Array(minutes)
  const slotOf = (minute: number): number => ((minute % minutes) + minutes) % minutes

  return {
    observe(status) {
      const minute = Math.floor(clock.now() / MINUTE_MS)
      const slot = slotOf(minute)
      if (minuteOf[slot] !== minute) {
        minuteOf[slot] = minute
        requests[slot] = 0
        refused[slot] = 0
      }
      requests[slot]! += 1
      if (status === 429) refused[slot]! += 1
    },
    snapshot() {
      const current = Math.floor(clock.now() / MINUTE_MS)
      const window: TrafficSnapshot['minutes'] = []
      for (let minute = current - minutes + 1; minute <= current; minute++) {
        const slot = slotOf(minute)
        const live = minuteOf[slot] === minute
        window.push({ at: new Date(minute * MINUTE_MS).toISOString(), requests: live ? requests[slot]! : 0, refused: live ? refused[slot]! : 0 })
      }
      return { instance, windowMinutes: minutes, minutes: window }
    },
  }
}
