/**
 * What a newer JSON document lost or changed against an older one, ignoring key order: the check that an
 * API description only grew. Objects may gain keys; arrays may gain elements (compared as sets of
 * canonical JSON) except `required` lists of what clients send, where a new entry breaks every client that
 * leaves it out. Under `responses` a new required entry is a promise more, which breaks no client.
 */
export function lostOrChanged(before: unknown, after: unknown, at = '$'): string[] {
  if (Array.isArray(before)) {
    if (!Array.isArray(after)) return [`${at}: was an array`]
    const now = new Set(after.map(canonical))
    const lost = before.filter((item) => !now.has(canonical(item))).map((item) => `${at}: lost ${canonical(item)}`)
    const then = new Set(before.map(canonical))
    const added =
      at.endsWith('.required') && !at.includes('.responses.')
        ? after.filter((item) => !then.has(canonical(item))).map((item) => `${at}: now requires ${canonical(item)}`)
        : []
    return [...lost, ...added]
  }
  if (before !== null && typeof before === 'object') {
    if (after === null || typeof after !== 'object' || Array.isArray(after)) return [`${at}: was an object`]
    return Object.entries(before).flatMap(([key, value]) =>
      key in after ? lostOrChanged(value, (after as Record<string, unknown>)[key], `${at}.${key}`) : [`${at}.${key}: removed`],
    )
  }
  return Object.is(before, after) ? [] : [`${at}: ${JSON.stringify(before)} became ${JSON.stringify(after)}`]
}

/** JSON with object keys sorted, so equal values print the same. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`
  if (value !== null && typeof value === 'object')
    return `{${Object.keys(value)
      .sort()
      .map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`)
      .join(',')}}`
  return JSON.stringify(value)
}
