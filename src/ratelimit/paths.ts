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

/**
 * A matcher for one pattern, compiled once (the limiter compiles its rules' patterns up front). It runs
 * in time linear in the path, whatever the pattern: rules keyed by address are matched before
 * authentication, and the regex this replaces (each `*` a backtracking `.*`) held the event loop for
 * seconds on a pattern with 8 `*` and a 41-character path. The pattern splits at its `*` into literal
 * parts: the first must start the path, the last end it, and each one between is taken at its leftmost
 * place after the one before. For a pattern whose only wildcard is `*`, leftmost never loses a match (any
 * later place leaves less room for the rest), so nothing is ever tried twice.
 */
export function compilePattern(pattern: string): (normalisedPath: string) => boolean {
  const parts = normalisePath(pattern).split('*')
  const head = parts[0] ?? ''
  if (parts.length === 1) return (normalisedPath) => normalisedPath === head
  const tail = parts[parts.length - 1] ?? ''
  const middle = parts
    .slice(1, -1)
    .filter((part) => part !== '')
    .map(leftmostEnd)
  return (normalisedPath) => {
    const end = normalisedPath.length - tail.length
    if (end < head.length || !normalisedPath.startsWith(head) || !normalisedPath.endsWith(tail)) return false
    let at = head.length
    for (const find of middle) {
      at = find(normalisedPath, at, end)
      if (at === -1) return false
    }
    return true
  }
}

/**
 * A search for `needle` within text[from, to) that returns the index just past its leftmost occurrence,
 * or -1: Knuth–Morris–Pratt, which reads each character of the text once and never steps back, so its
 * time is bounded by construction rather than by the engine's choice of string search.
 */
function leftmostEnd(needle: string): (text: string, from: number, to: number) => number {
  // border[i]: the length of the longest proper prefix of needle[0..i] that is also its suffix.
  const border = new Int32Array(needle.length)
  for (let i = 1, k = 0; i < needle.length; i++) {
    while (k > 0 && needle.charCodeAt(i) !== needle.charCodeAt(k)) k = border[k - 1] ?? 0
    if (needle.charCodeAt(i) === needle.charCodeAt(k)) k++
    border[i] = k
  }
  return (text, from, to) => {
    for (let i = from, k = 0; i < to; i++) {
      const c = text.charCodeAt(i)
      while (k > 0 && c !== needle.charCodeAt(k)) k = border[k - 1] ?? 0
      if (c === needle.charCodeAt(k)) k++
      if (k === needle.length) return i + 1
    }
    return -1
  }
}

/**
 * Whether a normalised path matches a pattern. The pattern is normalised the same way; `*` stands for any
 * run of characters, `/` included, so `/api/*` covers everything below /api (not /api itself) and `/*`
 * covers every path, root included.
 */
export function matchesPath(pattern: string, normalisedPath: string): boolean {
  return compilePattern(pattern)(normalisedPath)
}
