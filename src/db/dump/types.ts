import type { ContentFormat } from '../../core/backups/backup.schema.js'
import type { DumpProgram } from './programs.js'

/** What a dump wrote, for the manifest. */
export interface DumpResult {
  /** The tool that wrote it, with its version (`pg_dump (PostgreSQL) 15.6 (…)`, `VACUUM INTO (libsql)`). */
  readonly tool: string
  /** The server's own version string (`select version()`, `sqlite_version()`). */
  readonly serverVersion: string
  /** Rows per table in the dump's own snapshot (see each dialect's module for what is guaranteed). */
  readonly rowCounts: Record<string, number>
  readonly format: ContentFormat
}

export interface DumpOptions {
  /** Absolute paths of the programs to run instead of looking them up on PATH (the config's choice). */
  readonly programs?: Partial<Record<DumpProgram, string>>
}
