/** The benchmark modules of bench/benchmarks, by file name (a module may default-export an array). */
import { readdirSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const benchmarksDir = join(dirname(fileURLToPath(import.meta.url)), '..', 'benchmarks')

/** Every benchmark definition, in file order. */
export async function allBenchmarks() {
  const files = readdirSync(benchmarksDir)
    .filter((f) => f.endsWith('.mjs'))
    .sort()
  return (await Promise.all(files.map(async (f) => (await import(pathToFileURL(join(benchmarksDir, f)).href)).default))).flat()
}
