import { execFile } from 'node:child_process'
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { expect } from 'chai'
import { BIN, cliEnv, runGantry, tempDir } from '../helpers/cli.js'

/**
 * Completion as a shell gets it: the candidates of `gantry __complete`, and the bash script of
 * `gantry completion bash` run by a real bash on a command line, through a `gantry` on the PATH.
 */
describe('e2e: shell completion', function () {
  this.timeout(60_000)
  let dir: string
  let bin: string

  before(async () => {
    dir = tempDir()
    const init = await runGantry(['init', '--yes', '--name', 'completion'], { cwd: dir })
    expect(init.code, init.stderr).to.equal(0)
    const qa = await runGantry(['env', 'create', 'qa', '--from', 'staging'], { cwd: dir })
    expect(qa.code, qa.stderr).to.equal(0)
    bin = join(dir, 'bin')
    mkdirSync(bin)
    writeFileSync(join(bin, 'gantry'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`)
    chmodSync(join(bin, 'gantry'), 0o755)
  })
  after(() => dir && rmSync(dir, { recursive: true, force: true }))

  const candidates = async (...words: string[]): Promise<string[]> => {
    const result = await runGantry(['__complete', '--', ...words], { cwd: dir })
    expect(result.code, result.stderr).to.equal(0)
    expect(result.stderr).to.equal('')
    return result.stdout.split('\n').filter(Boolean)
  }

  it('topics, commands, flags after a positional argument, flag values and environments', async () => {
    expect(await candidates('mig')).to.deep.equal(['migrate'])
    expect(await candidates('users', 'l')).to.deep.equal(['list'])
    expect(await candidates('ratelimit', 'set', 'probe', '--ke')).to.deep.equal(['--key'])
    expect(await candidates('ratelimit', 'set', 'probe', '--key', '')).to.deep.equal(['ip', 'user', 'apiKey', 'global'])
    expect(await candidates('users', 'list', '-e', '')).to.deep.equal(['development', 'staging', 'production', 'qa'])
    expect(await candidates('users', 'list', '--env', 'q')).to.deep.equal(['qa'])
    expect(await candidates('migrate', 'latest', '--env=sta')).to.deep.equal(['staging'])
    expect(await candidates('users', 'list', '--status', '')).to.deep.equal(['active', 'disabled'])
    // A flag already given is not offered again; nothing to offer leaves it to the shell (file names).
    expect(await candidates('users', 'list', '--limit', '5', '--li')).to.deep.equal([])
    expect(await candidates('users', 'import', '')).to.deep.equal([])
    expect(await candidates('__comp'), 'hidden commands stay hidden').to.deep.equal([])
  })

  it('outside a workspace, -e offers the built-in environments and nothing fails', async () => {
    const outside = tempDir()
    try {
      const result = await runGantry(['__complete', '--', 'migrate', 'status', '-e', ''], { cwd: outside })
      expect([result.code, result.stdout, result.stderr]).to.deep.equal([0, 'development\nstaging\nproduction\n', ''])
    } finally {
      rmSync(outside, { recursive: true, force: true })
    }
  })

  it('the bash script: TAB on a command line fills COMPREPLY from gantry itself', async () => {
    const complete = (line: string): Promise<string[]> =>
      new Promise((resolve, reject) => {
        const script = `source <(gantry completion bash)
COMP_LINE="$1"; COMP_POINT=\${#COMP_LINE}; _gantry_complete; printf '%s\\n' "\${COMPREPLY[@]}"
complete -p gantry`
        execFile('bash', ['-c', script, 'bash', line], { cwd: dir, env: cliEnv({ PATH: `${bin}:${process.env.PATH ?? ''}` }) }, (error, stdout, stderr) =>
          error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve(stdout.split('\n').filter(Boolean)),
        )
      })
    const key = await complete('gantry ratelimit set probe --ke')
    expect(key.slice(0, -1)).to.deep.equal(['--key'])
    expect(key.at(-1), 'file names when there is no candidate').to.equal('complete -o default -F _gantry_complete gantry')
    expect((await complete('gantry users list -e ')).slice(0, -1)).to.deep.equal(['development', 'staging', 'production', 'qa'])
    expect((await complete('gantry migrate latest --env=pro')).slice(0, -1), 'the part after = only, as bash replaces it').to.deep.equal(['production'])
  })

  it('gantry completion prints the script of the shell asked for, or of $SHELL', async () => {
    const zsh = await runGantry(['completion', 'zsh'], { cwd: dir })
    expect(zsh.stdout)
      .to.match(/^#compdef gantry/)
      .and.include('gantry __complete --')
    const fromShell = await runGantry(['completion'], { cwd: dir, env: { SHELL: '/usr/bin/zsh' } })
    expect(fromShell.stdout).to.equal(zsh.stdout)
    const bad = await runGantry(['completion', 'fish'], { cwd: dir })
    expect(bad.code).to.equal(2)
  })
})
