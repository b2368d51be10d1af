import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'

/** sha256 (hex) of a text with CRLF line ends normalised to LF, so a checkout on Windows keeps its checksum. */
export function checksumOf(text: string): string {
  return createHash('sha256').update(text.replace(/\r\n/g, '\n')).digest('hex')
}

/** The checksum of a migration file's content. */
export function fileChecksum(path: string): string {
  return checksumOf(readFileSync(path, 'utf8'))
}
