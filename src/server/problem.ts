/**
 * RFC 9457 problem details: the one shape of every error the server answers. The catalog code names the
 * problem; the message is the same one line the CLI prints; the raw cause never leaves the process.
 */
import type { Response } from 'express'
import { GantryError, isGantryError, wordedHint, type ErrorCode } from '../core/errors.js'
import { HTTP_HINTS } from './hints.js'

export const PROBLEM_TYPE = 'application/problem+json'

/** The body of a problem answer. */
export interface Problem {
  type: string
  title: ErrorCode
  status: number
  detail: string
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
export function toProblem(err: unknown, requestId: string | undefined): Problem {
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
    type: `https://gantry.dev/problems/${failure.code.toLowerCase().replaceAll('_', '-')}`,
    title: failure.code,
    status: failure.status,
    detail: failure.message,
    code: failure.code,
    hint: hint || undefined,
    requestId,
    errors: Array.isArray(issues) ? (issues as Problem['errors']) : undefined,
    // A 403 names the permission that was missing, so a client can ask for the right role or scope.
    required: typeof failure.details?.required === 'string' ? failure.details.required : undefined,
    input: failure.status < 500 && typeof failure.details?.reason === 'string' ? failure.details : undefined,
  }
}

/** Sends a problem answer (status, content type, body). */
export function sendProblem(res: Response, problem: Problem): void {
  res.status(problem.status).type(PROBLEM_TYPE).send(JSON.stringify(problem))
}
