/**
 * The admin console's page (`/console/`) and its assets (`/console/assets/*`), as `npm run build` wrote them
 * to dist/console (scripts/console-build.mjs): one HTML page, and scripts and styles whose names carry their
 * content hash, each beside its brotli and gzip copies. All is read once when the server starts and answered
 * from memory. Mounted before rate limiting and maintenance (an operator must reach the page to end
 * maintenance), with the API's security headers and a stricter policy: scripts, styles and requests from
 * this origin only, nothing inline, never in a frame.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { extname, join } from 'node:path'
import type { Express, Request, RequestHandler, Response } from 'express'
import helmet from 'helmet'
import { GantryError } from '../core/errors.js'
import { packageRoot } from '../package-root.js'

export const CONSOLE_PATH = '/console'
const ASSETS = `${CONSOLE_PATH}/assets`

/** The console's policy: this origin only; helmet's other headers are the API's. */
const consoleHeaders = helmet({
  contentSecurityPolicy: {
    useDefaults: false,
    directives: {
      defaultSrc: ["'none'"],
      scriptSrc: ["'self'"],
      styleSrc: ["'self'"],
      imgSrc: ["'self'"],
      connectSrc: ["'self'"],
      baseUri: ["'none'"],
      formAction: ["'self'"],
      frameAncestors: ["'none'"],
    },
  },
})

interface Asset {
  readonly type: string
  readonly identity: Buffer
  readonly br?: Buffer | undefined
  readonly gzip?: Buffer | undefined
}

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
}

/** Where the build put the console: dist/console of this package. */
export function consoleDirectory(): string {
  return join(packageRoot(), 'dist', 'console')
}

/** Serves the console on the app, or — in a copy that was never built — a 404 that says so. */
export function mountConsole(app: Express, directory = consoleDirectory()): void {
  const page = existsSync(join(directory, 'index.html')) ? load(directory) : undefined
  const route =
    (name: string, handler: (req: Request, res: Response) => void): RequestHandler =>
    (req, res, next) => {
      res.locals.route = name
      if (!page) return next(new GantryError('ROUTE_NOT_FOUND', 'The admin console is not built in this copy of Gantry; run `npm run build`.'))
      consoleHeaders(req, res, (err?: unknown) => (err ? next(err) : handler(req, res)))
    }
  app.get(
    [CONSOLE_PATH, `${CONSOLE_PATH}/`],
    route(CONSOLE_PATH, (req, res) => {
      // Assets are linked relative to the page, so the page is always /console/.
      if (!req.path.endsWith('/')) return res.redirect(308, `${CONSOLE_PATH}/`)
      send(req, res, page!.index, 'no-cache')
    }),
  )
  app.get(
    `${ASSETS}/:file`,
    route(`${ASSETS}/:file`, (req, res) => {
      const asset = page!.assets.get(String(req.params.file))
      if (!asset) return res.status(404).type('text/plain').send('No such console asset.\n')
      // The name changes with the content: a browser keeps it for good.
      send(req, res, asset, 'public, max-age=31536000, immutable')
    }),
  )
}

function load(directory: string): { index: Asset; assets: Map<string, Asset> } {
  const assetDir = join(directory, 'assets')
  const assets = new Map<string, Asset>()
  for (const name of readdirSync(assetDir)) {
    if (name.endsWith('.br') || name.endsWith('.gz')) continue
    assets.set(name, read(assetDir, name))
  }
  return { index: read(directory, 'index.html'), assets }
}

function read(directory: string, name: string): Asset {
  const optional = (file: string): Buffer | undefined => (existsSync(file) ? readFileSync(file) : undefined)
  const path = join(directory, name)
  return { type: TYPES[extname(name)] ?? 'application/octet-stream', identity: readFileSync(path), br: optional(`${path}.br`), gzip: optional(`${path}.gz`) }
}

/** The smallest copy the client takes (brotli, then gzip), as the build compressed it. */
function send(req: Request, res: Response, asset: Asset, cacheControl: string): void {
  // Ours is the preference among what the client accepts (it rarely ranks them): brotli is the smaller.
  const encoding = asset.br && req.acceptsEncodings('br') ? 'br' : asset.gzip && req.acceptsEncodings('gzip') ? 'gzip' : undefined
  const body = encoding === 'br' ? asset.br! : encoding === 'gzip' ? asset.gzip! : asset.identity
  res.setHeader('Vary', 'Accept-Encoding')
  if (encoding === 'br' || encoding === 'gzip') res.setHeader('Content-Encoding', encoding)
  res.status(200).type(asset.type).setHeader('Cache-Control', cacheControl)
  res.setHeader('Content-Length', body.length)
  res.end(req.method === 'HEAD' ? undefined : body)
}
