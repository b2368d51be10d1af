import type { ChildProcess } from 'node:child_process'
import { rmSync } from 'node:fs'
import { createServer, type AddressInfo, type Socket } from 'node:net'
import { expect } from 'chai'
import { parseJson, runGantry, spawnGantry, tempDir } from '../helpers/cli.js'
import { hasScript, onTerminal } from '../helpers/pty.js'
import { pendingUnlessCi } from '../helpers/services.js'

/** Resolves with the exit code once the child has ended. */
const ended = (child: ChildProcess): Promise<number | null> => new Promise((done) => child.on('close', (code) => done(code)))

describe('e2e: finding your way (did you mean, usage, -v, help, Ctrl-C)', function () {
  this.timeout(60_000)
  let cwd: string
  before(() => {
    cwd = tempDir()
  })
  after(() => rmSync(cwd, { recursive: true, force: true }))

  it('a mistyped command or topic suggests the command meant, in the error format, exit 2', async () => {
    for (const [args, meant] of [
      [['migrat', 'latest'], 'gantry migrate latest'],
      [['users', 'lst'], 'gantry users list'],
      [['migrat'], 'gantry migrate'],
      [['help', 'users', 'lst'], 'gantry users list'],
    ] as const) {
      const result = await runGantry(args, { cwd })
      expect(result.code, args.join(' ')).to.equal(2)
      expect(result.stderr).to.match(/^Error \(INVALID_INPUT\): Unknown command "/)
      expect(result.stderr).to.include(`Try: Did you mean \`${meant}\`?`)
    }
  })

  it('an unknown command is echoed as typed, a colon in an argument kept, and the flags after it still read', async () => {
    // oclif hands the hook `hooks:add:http://127.0.0.1:23382/hook` and cuts --json off by counting the colons.
    const args = ['hooks', 'add', 'http://127.0.0.1:23382/hook']
    const human = await runGantry(args, { cwd })
    expect(human.code).to.equal(2)
    expect(human.stderr).to.match(/^Error \(INVALID_INPUT\): Unknown command "hooks add http:\/\/127\.0\.0\.1:23382\/hook"\.\n/)
    const json = await runGantry([...args, '--json'], { cwd })
    expect(json.code).to.equal(2)
    expect(parseJson<{ error: { code: string; message: string } }>(json).error).to.include({
      code: 'INVALID_INPUT',
      message: 'Unknown command "hooks add http://127.0.0.1:23382/hook".',
    })
  })

  it("a hidden command (the completion scripts' __complete) is never suggested", async () => {
    const result = await runGantry(['__complet'], { cwd })
    expect(result.code).to.equal(2)
    expect(result.stderr).to.match(/^Error \(INVALID_INPUT\): Unknown command "__complet"\./)
    expect(result.stderr).not.to.include('__complete')
  })

  it("gantry help NOSUCH answers in Gantry's error format; gantry help COMMAND shows that command", async () => {
    const unknown = await runGantry(['help', 'nosuch'], { cwd })
    expect(unknown.code).to.equal(2)
    expect(unknown.stderr).to.equal('Error (INVALID_INPUT): Unknown command "nosuch".\nTry: Run `gantry --help` to list the commands.\n')
    const known = await runGantry(['help', 'migrate', 'latest'], { cwd })
    expect(known.code).to.equal(0)
    expect(known.stdout).to.include('$ gantry migrate latest')
  })

  it('-v is --version', async () => {
    const [short, long] = await Promise.all([runGantry(['-v'], { cwd }), runGantry(['--version'], { cwd })])
    expect(short.code).to.equal(0)
    expect(short.stdout)
      .to.equal(long.stdout)
      .and.match(/^gantry\/\d+\.\d+\.\d+ /)
  })

  it("a mistyped flag names the flag meant; a missing argument prints the usage line and the command's --help", async () => {
    const typo = await runGantry(['users', 'list', '--limt', '3'], { cwd })
    expect(typo.code).to.equal(2)
    expect(typo.stderr).to.equal(
      'Error (INVALID_INPUT): Nonexistent flag: --limt.\nUsage: gantry users list [flags]\nTry: Did you mean --limit? Its help: gantry users list --help\n',
    )
    const missing = await runGantry(['users', 'delete'], { cwd })
    expect(missing.code).to.equal(2)
    expect(missing.stderr).to.include('Usage: gantry users delete EMAIL [flags]\nTry: gantry users delete --help\n')
    const json = parseJson<{ error: { code: string; details: { usage: string } } }>(await runGantry(['users', 'delete', '--json'], { cwd }))
    expect(json.error.details.usage).to.equal('gantry users delete EMAIL [flags]')
  })

  it('help: remote flags grouped apart, every example a command line, no flag that does nothing, a readable usage', async () => {
    const [create, init, login] = await Promise.all(['users create', 'init', 'login'].map((c) => runGantry([...c.split(' '), '--help'], { cwd })))
    const section = (text: string, heading: string): string => text.split(`\n${heading}\n`)[1]?.split(/\n[A-Z][A-Z ]+\n/)[0] ?? ''
    for (const flag of ['--url', '--remote', '--insecure', '--ca-file', '--allow-http']) {
      expect(section(create!.stdout, 'REMOTE FLAGS'), flag).to.include(flag)
      expect(section(create!.stdout, 'FLAGS'), flag).not.to.include(flag)
    }
    expect(init!.stdout).not.to.match(/--env|-e,|--config/)
    // The usage line as read, whatever the width it wraps at.
    expect(login!.stdout.replace(/\s+/g, ' '))
      .to.include('[--api-key-stdin | --email <value> | --password-stdin | --sso | --break-glass]')
      .and.not.match(/\|\s*(\||\])/)
    for (const help of [create!.stdout, login!.stdout]) {
      const examples = section(help, 'EXAMPLES')
        .split('\n')
        .filter((l) => l.trim() !== '')
      expect(examples.length).to.be.above(0)
      for (const line of examples) expect(line.trim(), 'an example is a command line').to.match(/^\$ /)
    }
  })

  it('Ctrl-C during a run: a quiet "Cancelled.", exit 130; under --json the CANCELLED document', async () => {
    // A server that accepts and never answers: health --wait's first request reaching it shows the command
    // is running (its handlers installed), which is when the interrupt is sent.
    const sockets: Socket[] = []
    const server = createServer((socket) => sockets.push(socket))
    await new Promise<void>((listening) => server.listen(0, '127.0.0.1', listening))
    const { port } = server.address() as AddressInfo
    try {
      for (const json of [false, true]) {
        const child = spawnGantry(['health', '--wait', '30', '--url', `http://127.0.0.1:${port}`, ...(json ? ['--json'] : [])], { cwd })
        let stdout = ''
        let stderr = ''
        child.stdout?.on('data', (c: Buffer) => (stdout += c.toString()))
        child.stderr?.on('data', (c: Buffer) => (stderr += c.toString()))
        await new Promise<void>((connected) => server.once('connection', () => connected()))
        child.kill('SIGINT')
        expect(await ended(child)).to.equal(130)
        expect(stderr).to.equal('Cancelled.\n')
        if (json) expect(JSON.parse(stdout)).to.deep.equal({ error: { code: 'CANCELLED', message: 'Cancelled.' } })
        else expect(stdout).to.equal('')
      }
    } finally {
      for (const socket of sockets) socket.destroy()
      server.close()
    }
  })

  it('Ctrl-C at a prompt (a pseudo-terminal): "Cancelled.", exit 130, not an error', async function () {
    if (!hasScript()) pendingUnlessCi(this, 'no `script` (util-linux) here: no pseudo-terminal to prompt on')
    const dir = tempDir()
    try {
      const run = await onTerminal(['init'], { cwd: dir, answers: [['Project name', '\u0003']] })
      expect(run.unasked).to.deep.equal([])
      expect(run.code).to.equal(130)
      expect(run.screen).to.include('Cancelled.')
      expect(run.screen).not.to.include('Error (')
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
