/**
 * RFC 9457 problem details: the one shape of every error the server answers, the HTTP parser's refusals
 * included. The catalog code names the problem (`type` and `code`), its title says it for people; the
 * message is the same one line the CLI prints; the raw cause never leaves the process.
 */
import type { Response } from 'express'
import { GantryError, isGantryError, wordedHint, type ErrorCode } from '../core/errors.js'
import { HTTP_HINTS } from './hints.js'
import { problemAnchor } from './problems-page.js'

export const PROBLEM_TYPE = 'application/problem+json'

/**
 * Where a person looks a problem type up: the page this server serves at /api/problems (problems-page.ts),
 * one anchor per code, built from the catalog. A relative reference (RFC 9457 allows one; it resolves
 * against the URL the answer came from): every Gantry server serves the page, while an absolute URL would
 * name a host nobody serves (Gantry is on no registry and has no public home). docs/errors.md holds the
 * same table for readers of the repository.
 */
export const PROBLEM_DOCS_PATH = '/api/problems'

/** The `type` URI of a code: its row of the problem types page. */
export function problemTypeUri(code: ErrorCode): string {
  return `${PROBLEM_DOCS_PATH}#${problemAnchor(code)}`
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i

/**
 * The `instance` URI: which occurrence this was. It is the request id, which the answer's X-Request-Id
 * header and the server's log lines carry too, so the instance is what finds the occurrence in the log.
 * The server's own ids are UUIDs, written as RFC 9562 URNs (`urn:uuid:…`), a standard form that needs no
 * resolver. A caller may bring its own id (any short plain token, kept so traces join up across services);
 * one that is not a UUID is written `urn:gantry:request:<id>` (its characters are all valid in a URN).
 * Without a request id (an app using the library's middleware without Gantry's request-id step), the
 * request path, as a relative reference, is the best the answer can say.
 */
export function problemInstance(requestId: string | undefined, path: string): string {
  if (requestId === undefined) return path
  return UUID.test(requestId) ? `urn:uuid:${requestId}` : `urn:gantry:request:${requestId}`
}
/** The body of a problem answer. */
export interface Problem {
  /** The README's row for the code (problemTypeUri). */
  type: string
  /** The catalog's title of the code, for people; `code` is for programs. */
  title: string
  status: number
  detail: string
  /** This occurrence (problemInstance). */
  instance: string
  code: ErrorCode
  hint?: string | undefined
  requestId?: string | undefined
  /** For 400s: which fields failed and why (from the zod issues). */
  errors?: readonly { path: string; message: string }[] | undefined
  /** An input problem (a core error's InputProblem details): the fields and the reason, so a client can word its own hint. */
  input?: Readonly<Record<string, unknown>> | undefined
  [extra: string]: unknown
}

/**
 * Server-side failures whose message and hint are written for the caller (the rest may name hosts, files or
 * driver errors). GANTRY_SCHEMA_MISSING names only the environment and a gantry_ table, and its hint is the
 * one command that fixes it.
 */
const TOLD_5XX: ReadonlySet<ErrorCode> = new Set(['MAINTENANCE', 'GANTRY_SCHEMA_MISSING'])

/**
 * Builds the problem for an error. A 4xx says what the caller got wrong. A 5xx says nothing about its
 * cause, whose message is for the operator (a database host, a file path, a driver's error): a 500 becomes
 * INTERNAL, a 503 keeps its code (a client may wait and retry on it), and both carry the request id, which
 * finds the cause in the log.
 */
export function toProblem(err: unknown, requestId: string | undefined, path: string): Problem {
  const given = isGantryError(err) ? err : undefined
  const failure =
    given && (given.status < 500 || TOLD_5XX.has(given.code))
      ? given
      : given?.status === 503
        ? new GantryError(given.code, 'A service the server depends on is unavailable; try again later.')
        : new GantryError('INTERNAL', 'Something went wrong on the server.')
  const issues = failure.details?.issues
  const hint =
    failure.status >= 500 && failure !== given
      ? `Quote request id ${requestId ?? 'unknown'} to the operator; the server log has the cause.`
      : (wordedHint(failure, HTTP_HINTS) ?? failure.hint)
  return {
    type: problemTypeUri(failure.code),
    title: failure.title,
    status: failure.status,
    detail: failure.message,
    instance: problemInstance(requestId, path),
    code: failure.code,
    hint: hint || undefined,
    requestId,
    errors: Array.isArray(issues) ? (issues as Problem['errors']) : undefined,
    // A 403 names the permission that was missing, so a client can ask for the right role or scope.
    required: typeof failure.details?.required === 'string' ? failure.details.required : undefined,
    input: failure.status < 500 && typeof failure.details?.reason === 'string' ? inputOf(failure.details) : undefined,
  }
}

/** An input problem's facts, without the zod issues (those are the problem's `errors`). */
function inputOf(details: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> {
  return Object.fromEntries(Object.entries(details).filter(([name]) => name !== 'issues'))
}

/** Sends a problem answer (status, content type, body). */
export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type(PROBLEM_TYPE).send(JSON.stringify(problem))
}
