/**
 * The two admin operations that stream a file (users import and export, declared in src/admin/operations/
 * users.ts like every other): the route around each is written here, where the request and the answer are.
 */
import { createReadStream, createWriteStream } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Transform } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { Request, Response } from 'express'
import { z } from 'zod'
import { OPERATIONS } from '../../admin/operations/index.js'
import { USER_FILE_TYPES } from '../../admin/operations/users.js'
import { GantryError } from '../../core/errors.js'
import type { Services } from '../../core/services.js'
import { importUsersInputSchema, type ImportSource, type UserFileFormat } from '../../core/users/import.js'
import { exportUsersInputSchema } from '../../core/users/export.js'
import { routeBasics } from './operation.routes.js'
import { route, type RouteSpec } from './route.js'

/** The import's options from the query; the format defaults to the body's Content-Type. */
const importQuerySchema = queryOf(importUsersInputSchema).extend({ format: importUsersInputSchema.shape.format.optional() })

/** Export and import. */
export function userFileRoutes(services: Services): RouteSpec[] {
  const { 'users.export': exportOp, 'users.import': importOp } = OPERATIONS
  return [
    route({
      ...routeBasics('users.export', exportOp),
      query: queryOf(exportUsersInputSchema),
      handler: ({ ctx, query, res }) => sendExport(res, query.format, services.userExport.exportUsers(ctx, query)),
    }),
    route({
      ...routeBasics('users.import', importOp),
      stream: importOp.mediaTypes,
      query: importQuerySchema,
      response: importOp.output,
      handler: ({ ctx, query, req }) => {
        const input = { ...query, format: bodyFormat(req, query.format) }
        return withSpooledBody(req, (source) => services.userImport.importUsers(ctx, source, input))
      },
    }),
  ]
}

/** The largest import body: about a million rows with password hashes. */
const MAX_IMPORT_BYTES = 100 * 1024 * 1024
/** Each users file format with its media type, to tell an import body's format from its Content-Type. */
const FORMATS = Object.entries(USER_FILE_TYPES) as Array<[UserFileFormat, string]>

/**
 * A service's input schema read from a query string, where numbers and booleans arrive as text: those
 * fields are converted first, then checked by the service's own rules (which OpenAPI still shows).
 */
function queryOf<S extends z.ZodObject>(schema: S): S {
  const shape: Record<string, z.ZodType> = {}
  for (const [key, field] of Object.entries(schema.shape as Record<string, z.ZodType>)) {
    const read = textReader(field)
    if (read) shape[key] = z.preprocess((value) => (typeof value === 'string' ? read(value) : value), field)
  }
  return schema.extend(shape) as unknown as S
}

function textReader(field: z.ZodType): ((text: string) => unknown) | undefined {
  let inner: z.ZodType = field
  while (inner instanceof z.ZodOptional || inner instanceof z.ZodDefault) inner = inner.unwrap() as z.ZodType
  if (inner instanceof z.ZodNumber) return (text) => (/^-?\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : text)
  if (inner instanceof z.ZodBoolean) return (text) => ({ true: true, '1': true, false: false, '0': false })[text.toLowerCase()] ?? text
  return undefined
}

/** The format of an import: the query's, else the body's Content-Type; the two must not disagree. */
function bodyFormat(req: Request, asked: UserFileFormat | undefined): UserFileFormat {
  const sent = FORMATS.find(([, type]) => req.is(type))?.[0]
  if (asked && sent && asked !== sent) throw new GantryError('INVALID_INPUT', `format=${asked} does not match the Content-Type ${req.get('content-type')}.`)
  const format = asked ?? sent
  if (!format)
    throw new GantryError('INVALID_INPUT', `Send the file as ${Object.values(USER_FILE_TYPES).join(' or ')}, or name its format with ?format=csv|jsonl.`)
  return format
}

/**
 * Runs `use` over the request body, first written to a private temporary file: the import reads JSON
 * lines twice (a first pass refuses plain-text passwords before any write), an atomic import must not hold
 * its transaction open for as long as a slow client takes to upload, and a dropped upload imports nothing.
 */
async function withSpooledBody<T>(req: Request, use: (source: ImportSource) => Promise<T>): Promise<T> {
  if (Number(req.get('content-length')) > MAX_IMPORT_BYTES) throw tooLarge()
  const dir = await mkdtemp(join(tmpdir(), 'gantry-import-'))
  const file = join(dir, 'body')
  try {
    let bytes = 0
    const cap = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length
        done(bytes > MAX_IMPORT_BYTES ? tooLarge() : null, chunk)
      },
    })
    try {
      await pipeline(req, cap, createWriteStream(file, { mode: 0o600, flags: 'wx' }))
    } catch (err) {
      if (err instanceof GantryError) throw err
      throw new GantryError('INVALID_INPUT', 'The request body ended early.', { cause: err })
    }
    return await use(() => createReadStream(file))
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

const tooLarge = (): GantryError =>
  new GantryError('PAYLOAD_TOO_LARGE', `An import body is at most ${MAX_IMPORT_BYTES / 1024 / 1024} MB.`, { hint: 'Split the file and import the parts.' })

/**
 * Streams an export as it is read, page by page, at the pace the client takes it (backpressure). A failure
 * before the first chunk is an ordinary problem answer; one half-way rejects after the headers went out,
 * and the error handler then cuts the connection, so a client never takes a truncated file for a whole
 * one. A client that leaves early ends the export (the loop's exit closes the page generator).
 */
async function sendExport(res: Response, format: UserFileFormat, chunks: AsyncIterable<string>): Promise<undefined> {
  let gone = false
  res.once('close', () => {
    gone = true
  })
  const head = (): void => {
    // attachment() sets a type from the file's extension: the type is set after it.
    if (!res.headersSent) res.status(200).attachment(`users.${format}`).type(`${USER_FILE_TYPES[format]}; charset=utf-8`)
  }
  for await (const chunk of chunks) {
    if (gone) break
    head()
    if (!res.write(chunk)) await drained(res)
    if (gone) break
  }
  if (!gone) {
    head()
    res.end()
  }
  return undefined
}

/** Resolves once the response can take more, or the connection is gone. */
function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done).off('close', done)
      resolve()
    }
    res.on('drain', done).on('close', done)
  })
}
