import type { LoginTimer } from '../../src/core/users/login-floor.js'

/**
 * A login timer that moves only when told or slept on, and remembers every sleep: floors tested without
 * waiting. `wakeEarlyBy` makes a sleep end that much early, as a real timer may.
 */
export function fakeLoginTimer(): LoginTimer & { advance(ms: number): void; readonly slept: number[]; wakeEarlyBy: number } {
  let now = 0
  const slept: number[] = []
  return {
    now: () => now,
    sleep(ms) {
      slept.push(ms)
      now += ms > this.wakeEarlyBy ? ms - this.wakeEarlyBy : ms
      return Promise.resolve()
    },
    advance(ms) {
      now += ms
    },
    slept,
    wakeEarlyBy: 0,
  }
}
