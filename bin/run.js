#!/usr/bin/env node
// `gantry --version` is answered here, without importing @oclif/core (that import alone costs more than
// Node's own start-up): the very line oclif prints, `<name>/<version> <platform>-<arch> node-<version>`.
// bench/benchmarks/startup-version.mjs checks it against oclif's byte for byte. Everything else — and
// --version wherever oclif might say something different (an init hook, possibly WSL) — goes to oclif.
import { existsSync, readFileSync } from 'node:fs'
import { arch, platform, release } from 'node:os'

const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))

if (asksVersion(process.argv[2]) && !pjson.oclif?.hooks?.init && !maybeWsl()) {
  process.stdout.write(`${pjson.name}/${pjson.version} ${platform()}-${arch() === 'ia32' ? 'x86' : arch()} node-${process.version}\n`)
} else {
  // The build's bundle (scripts/bundle.mjs): oclif's entry, sharing its chunks with the command files
  // oclif then loads, one per command (package.json oclif.commands), so one copy of @oclif/core serves both.
  const { execute } = await import('../dist/execute.js')
  await execute({ dir: import.meta.url })
}

/** oclif's rule: the first argument is --version or one of oclif.additionalVersionFlags. */
function asksVersion(first) {
  return first !== undefined && ['--version', ...(pjson.oclif?.additionalVersionFlags ?? [])].includes(first)
}

/** True wherever oclif's WSL check (is-wsl) could answer yes; oclif then reports the platform itself. */
function maybeWsl() {
  if (platform() !== 'linux') return false
  if (release().toLowerCase().includes('microsoft')) return true
  try {
    if (readFileSync('/proc/version', 'utf8').toLowerCase().includes('microsoft')) return true
  } catch {
    // no /proc: not WSL
  }
  return existsSync('/proc/sys/fs/binfmt_misc/WSLInterop') || existsSync('/run/WSL')
}
