/**
 * Path normalisation and matching. A rule must not be bypassed by a spelling of its path that the router
 * (or a proxy in front of it) still sends to the same handler, so the limiter matches on one canonical
 * form. Where in doubt it folds more, not less: a request counted by a rule it arguably isn't under is a
 * smaller harm than a login flood that slips past the login rule.
 */

/**
 * The canonical form of a request path: query and fragment dropped, lower-cased, unreserved characters
 * and slashes percent-decoded, `\` read as `/`, empty and `.` segments dropped, `..` resolved (never above
 * root), no trailing slash (except root). Malformed percent-encoding is kept as it is, never thrown on.
 * It runs before authentication on whatever path a client sends (up to the 16 KB of a request head), so it
 * is written as plain scans: a regex split and a replace callback per escape cost up to 4 ms on such a path.
 */
export function normalisePath(path: string): string {
  const bare = path.slice(0, pathEnd(path))
  // Express routes case-insensitively by default, so `/API/…` reaches the same handler.
  return resolveSegments(decodeSafeEscapes(bare).toLowerCase().replaceAll('\\', '/'))
}

const DOT = 0x2e

/**
 * `text` split at `/`, empty and `.` segments dropped, each `..` taking off the segment kept before it (never
 * above root), joined by `/` after a leading one. Kept segments are held as offsets into `text`, and those that
 * stand in it joined by one `/` are copied as one slice: a path of thousands of segments costs a scan and a
 * few copies, not a string per segment (a split and join of 8,000 one-letter segments took 0.16 ms, this 0.1).
 */
function resolveSegments(text: string): string {
  const starts: number[] = []
  const ends: number[] = []
  for (let from = 0; from <= text.length;) {
    const slash = text.indexOf('/', from)
    const end = slash === -1 ? text.length : slash
    const length = end - from
    const dots = length > 0 && length <= 2 && text.charCodeAt(from) === DOT && (length === 1 || text.charCodeAt(from + 1) === DOT)
    if (dots && length === 2) {
      starts.pop()
      ends.pop()
    } else if (length > 0 && !dots) {
      starts.push(from)
      ends.push(end)
    }
    from = end + 1
  }
  let resolved = ''
  for (let k = 0; k < starts.length;) {
    const start = starts[k] ?? 0
    let end = ends[k++] ?? 0
    while (k < starts.length && starts[k] === end + 1) end = ends[k++] ?? 0
    resolved += `/${text.slice(start, end)}`
  }
  return resolved || '/'
}

/** Where the path ends: at its query or fragment, whichever comes first. */
function pathEnd(path: string): number {
  const query = path.indexOf('?')
  const fragment = path.indexOf('#')
  if (query === -1) return fragment === -1 ? path.length : fragment
  return fragment === -1 ? query : Math.min(query, fragment)
}

/**
 * Decodes the escapes (`%` and two hex digits, scanned left to right without overlap) of RFC 3986 unreserved
 * characters, `/` and `\`; every other escape, and a `%` without two hex digits, stays as it is.
 * %2F and %5C decode to separators on purpose: proxies and app frameworks differ on whether an encoded
 * slash splits segments (and some treat `\` as `/`), so the limiter takes the widest reading. Otherwise
 * `/api/v1/auth%2Flogin` could reach the login handler behind one of them while escaping the login rule.
 * %2E decodes to `.`, so `%2e%2e` is resolved like `..`. Everything else stays encoded: decoding `%3F`
 * would invent a query, and one pass only, as a server decodes once (`%252F` is not a slash).
 */
function decodeSafeEscapes(text: string): string {
  let decoded = ''
  let copied = 0
  for (let at = text.indexOf('%'); at !== -1;) {
    const high = hexValue(text.charCodeAt(at + 1))
    const low = high === -1 ? -1 : hexValue(text.charCodeAt(at + 2))
    if (low === -1) {
      at = text.indexOf('%', at + 1)
      continue
    }
    const code = high * 16 + low
    if (isDecoded(code)) {
      decoded += text.slice(copied, at) + String.fromCharCode(code)
      copied = at + 3
    }
    at = text.indexOf('%', at + 3)
  }
  return copied === 0 ? text : decoded + text.slice(copied)
}

/** The value of a hex digit's char code (either case), or -1 (NaN past the end included). */
function hexValue(code: number): number {
  if (code >= 0x30 && code <= 0x39) return code - 0x30
  const lower = code | 0x20
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1
}

/** Whether an escaped character is decoded: RFC 3986 unreserved (decoding never changes meaning), `/` or `\`. */
function isDecoded(code: number): boolean {
  const lower = code | 0x20
  return (
    (code >= 0x30 && code <= 0x39) ||
    (lower >= 0x61 && lower <= 0x7a) ||
    code === 0x2d ||
    code === 0x2e ||
    code === 0x5f ||
    code === 0x7e ||
    code === 0x2f ||
    code === 0x5c
  )
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
