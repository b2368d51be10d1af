/**
 * Counts as people read them: `50,000`, the same on every machine. Not toLocaleString(): its separator
 * follows the locale (and the ICU Node was built with), so one command printed `49996` beside `50,000`.
 */
export function formatCount(n: number): string {
  const rounded = Math.round(n)
  const digits = String(Math.abs(rounded)).replace(/\B(?=(\d{3})+$)/g, ',')
  return rounded < 0 ? `-${digits}` : digits
}

/** A size as people read it: `812 B`, `3.4 MB` (powers of 1000, one decimal from KB on). */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB']
  let value = bytes
  let unit = 0
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000
    unit++
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(1)} ${units[unit]}`
}
