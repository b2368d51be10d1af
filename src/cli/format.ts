/**
 * Counts as people read them: `50,000`, the same on every machine. Not toLocaleString(): its separator
 * follows the locale (and the ICU Node was built with), so one command printed `49996` beside `50,000`.
 */
export function formatCount(n: number): string {
  const rounded = Math.round(n)
  const digits = String(Math.abs(rounded)).replace(/\B(?=(\d{3})+$)/g, ',')
  return rounded < 0 ? `-${digits}` : digits
}
