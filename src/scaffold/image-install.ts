import { existsSync, readFileSync } from 'node:fs'
import { basename, dirname, join, relative, resolve } from 'node:path'

/** What the generated Dockerfile copies before `npm ci`, besides package.json and its lock: a packed Gantry. */
const PACKED_GANTRY = /^gantry-[^/\\]*\.tgz$/

interface PackageManifest {
  dependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

/**
 * Why the Dockerfile `gantry init` writes would build an image without a working `gantry`, judged from the
 * workspace's package.json (none: nothing to say): gantry installed from a path that `docker build` does not
 * send (outside this folder, or anything but a gantry-*.tgz at its top, the one thing copied before
 * `npm ci`), or only as a devDependency (`npm ci --omit=dev` leaves it out); with `typescript` (the
 * workspace's migrations are .ts), tsx only as a devDependency, for the same reason. One line each, with the fix.
 */
export function imageInstallProblems(root: string, options: { typescript?: boolean } = {}): string[] {
  const path = join(root, 'package.json')
  if (!existsSync(path)) return []
  let manifest: PackageManifest
  try {
    manifest = JSON.parse(readFileSync(path, 'utf8')) as PackageManifest
  } catch {
    return [] // npm reports a broken package.json better than this could
  }
  const problems: string[] = []
  const tsx = manifest.devDependencies?.tsx
  if (options.typescript && manifest.dependencies?.tsx === undefined && tsx !== undefined) {
    problems.push(
      `tsx is a devDependency: the Dockerfile installs dependencies only (npm ci --omit=dev), so its image could not load .ts migrations. Move it: npm install --save-prod tsx@${tsx}`,
    )
  }
  return [...gantryProblems(root, manifest), ...problems]
}

/** What is wrong with how package.json installs gantry, for the image. */
function gantryProblems(root: string, manifest: PackageManifest): string[] {
  const spec = manifest.dependencies?.gantry ?? manifest.devDependencies?.gantry
  if (spec === undefined) return []
  const local = /^(file|link):(.*)$/.exec(spec)
  if (local) {
    const target = resolve(root, local[2] ?? '')
    if (dirname(relative(root, target)) !== '.' || !PACKED_GANTRY.test(basename(target))) {
      return [
        `package.json installs gantry from ${spec}, which the Dockerfile's \`npm ci\` cannot reach (it gets package.json, its lock and gantry-*.tgz). ` +
          `Pack it into this folder first: npm pack ${target} && npm install --save-prod ./gantry-*.tgz`,
      ]
    }
  }
  if (manifest.dependencies?.gantry === undefined) {
    return [
      `gantry is a devDependency: the Dockerfile installs dependencies only (npm ci --omit=dev), so its image would have no \`gantry\`. Move it: npm install --save-prod gantry@${spec}`,
    ]
  }
  return []
}
