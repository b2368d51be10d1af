/** Base62 (digits, upper case, lower case): URL-safe, double-click selectable, no separators to confuse. */

/** The 62 characters, in digit order. */
export const BASE62_ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'

/** A regular-expression character class matching one base62 character. */
export const BASE62_CLASS = '[0-9A-Za-z]'

/** Encodes a non-negative safe integer in base62, left-padded with '0' to `width` characters. */
export function encodeBase62(value: number, width: number): string {
  if (!Number.isSafeInteger(value) || value < 0) throw new RangeError('encodeBase62 takes a non-negative safe integer')
  let out = ''
  let rest = value
  do {
    out = BASE62_ALPHABET[rest % 62] + out
    rest = Math.floor(rest / 62)
  } while (rest > 0)
  return out.padStart(width, '0')
}
