/**
 * Path normalisation and matching. A rule must not be bypassed by a spelling of its path that the router
 * (or a proxy in front of it) still sends to the same handler, so the limiter matches on one canonical
 * form. Where in doubt it folds more, not less: a request counted by a rule it arguably isn't under is a
 * smaller harm than a login flood that slips past the login rule.
 */

// RFC 3986 unreserved characters: decoding them never changes what a URI means.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/
const PERCENT = /%([0-9A-Fa-f]{2})/g

/**
 * The canonical form of a request path: query and fragment dropped, lower-cased, unreserved characters
 * and slashes percent-decoded, `\` read as `/`, empty and `.` segments dropped, `..` resolved (never above
 * root), no trailing slash (except root). Malformed percent-encoding is kept as it is, never thrown on.
 */
export function normalisePath(path: string): string {
  const end = path.search(/[?#]/)
  const bare = end === -1 ? path : path.slice(0, end)
  // %2F and %5C decode to separators on purpose: proxies and app frameworks differ on whether an encoded
  // slash splits segments (and some treat `\` as `/`), so the limiter takes the widest reading. Otherwise
  // `/api/v1/auth%2Flogin` could reach the login handler behind one of them while escaping the login rule.
  // %2E decodes to `.`, so `%2e%2e` is resolved like `..`. Everything else stays encoded: decoding `%3F`
  // would invent a query, and one pass only, as a server decodes once (`%252F` is not a slash).
  const decoded = bare.replace(PERCENT, (match, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16))
    return UNRESERVED.test(char) || char === '/' || char === '\\' ? char : match
  })
  // Express routes case-insensitively by default, so `/API/…` reaches the same handler.
  const segments: string[] = []
  for (const segment of decoded.toLowerCase().split(/[/\\]/)) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') segments.pop()
    else segments.push(segment)
  }
  return `/${segments.join('/')}`
}

/** A matcher for one pattern, compiled once (the limiter compiles its rules' patterns up front). */
export function compilePattern(pattern: string): (normalisedPath: string) => boolean {
  const source = normalisePath(pattern)
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
    .join('.*')
  const regex = new RegExp(`^${source}$`, 's')
  return (normalisedPath) => regex.test(normalisedPath)
}

/**
 * Whether a normalised path matches a pattern. The pattern is normalised the same way; `*` stands for any
 * run of characters, `/` included, so `/api/*` covers everything below /api (not /api itself) and `/*`
 * covers every path, root included.
 */
export function matchesPath(pattern: string, normalisedPath: string): boolean {
  return compilePattern(pattern)(normalisedPath)
}
