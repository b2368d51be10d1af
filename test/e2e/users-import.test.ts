import { execFile } from 'node:child_process'
import { readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { stripVTControlCharacters } from 'node:util'
import { expect } from 'chai'
import { BIN, cliEnv, parseJson, runGantry, tempDir, type CliResult } from '../helpers/cli.js'
import { hasScript, onTerminal } from '../helpers/pty.js'
import { pendingUnlessCi } from '../helpers/services.js'

/** Whether a text holds what a progress bar draws with: carriage returns, escape sequences. */
const drawsInPlace = (text: string): boolean => text.includes('\r') || text.includes('\x1b[')

/** A migrated SQLite workspace and a runner of the built CLI in it. */
async function workspace(): Promise<{ root: string; gantry: (args: readonly string[]) => Promise<CliResult> }> {
  const root = tempDir()
  writeFileSync(join(root, 'package.json'), JSON.stringify({ type: 'module' }))
  writeFileSync(join(root, 'gantry.config.json'), JSON.stringify({ environments: { development: { database: `sqlite:${join(root, 'gantry.sqlite3')}` } } }))
  const gantry = (args: readonly string[]) => runGantry(args, { cwd: root, env: { GANTRY_AUTH_SECRET: 'e2e-secret' } })
  const migrated = await gantry(['migrate', 'latest'])
  expect(migrated.code, migrated.stderr).to.equal(0)
  return { root, gantry }
}

interface ImportJson {
  rows: number
  imported: number
  skipped: Array<{ line: number; email?: string; reason: string }>
  dryRun: boolean
}

describe('gantry users import / export (built CLI, SQLite)', function () {
  this.timeout(60_000)

  it('imports a CSV with a bad row: exit 1, the row reported (text and --json), the good rows in; exports to a 0600 file', async () => {
    const { root, gantry } = await workspace()
    const hash = '$2b$04$Gc6pBiTqMhC54rns0SqUBeIHa3gy/7cT3rMXbo3J/UBlHHXuKvhQm'
    writeFileSync(
      join(root, 'users.csv'),
      [
        'email,name,role,password_hash',
        'Ada@Example.com,"Lovelace, Ada",admin,',
        `bob@example.com,Bob,,${hash}`,
        'broken-email,X,viewer,',
        'carol@example.com,Carol,operator,',
      ].join('\n'),
    )

    const dry = await gantry(['users', 'import', 'users.csv', '--dry-run', '--json'])
    expect(dry.code, dry.stderr).to.equal(1)
    expect(parseJson<ImportJson>(dry)).to.deep.include({ rows: 4, imported: 3, dryRun: true })

    const text = await gantry(['users', 'import', 'users.csv'])
    expect(text.code, text.stderr).to.equal(1)
    expect(drawsInPlace(text.stderr) || drawsInPlace(text.stdout), 'no progress bar on a pipe').to.equal(false)
    expect(text.stderr).to.not.include('rows/s')
    expect(text.stdout)
      .to.match(/LINE\s+EMAIL\s+REASON/)
      .and.match(/4\s+broken-email\s+email: not a valid email address/)
      .and.match(/Imported 3 users from 4 rows; 1 skipped\./)

    const list = parseJson<{ data: Array<{ email: string; name: string; role: string }> }>(await gantry(['users', 'list', '--json']))
    expect(list.data.map((u) => [u.email, u.name, u.role])).to.deep.equal([
      ['ada@example.com', 'Lovelace, Ada', 'admin'],
      ['bob@example.com', 'Bob', 'viewer'],
      ['carol@example.com', 'Carol', 'operator'],
    ])

    const again = await gantry(['users', 'import', 'users.csv', '--json'])
    expect(again.code).to.equal(1)
    const body = parseJson<ImportJson>(again)
    expect(body.imported).to.equal(0)
    expect(body.skipped.map((s) => [s.line, s.reason.split(':')[0]])).to.deep.equal([
      [2, 'exists'],
      [3, 'exists'],
      [4, 'email'],
      [5, 'exists'],
    ])

    writeFileSync(join(root, 'plain.csv'), 'email,password\nx@example.com,hunter2hunter2\n')
    const plain = await gantry(['users', 'import', 'plain.csv', '--json'])
    expect(plain.code).to.equal(2)
    expect(parseJson<{ error: { code: string } }>(plain).error.code).to.equal('IMPORT_INVALID')
    expect(plain.stdout + plain.stderr).to.not.include('hunter2')

    const exported = await gantry(['users', 'export', 'out.csv', '--json'])
    expect(exported.code, exported.stderr).to.equal(0)
    expect(parseJson<{ exported: number; file: string }>(exported)).to.deep.equal({ exported: 3, file: join(root, 'out.csv') })
    expect(statSync(join(root, 'out.csv')).mode & 0o777).to.equal(0o600)
    const csv = readFileSync(join(root, 'out.csv'), 'utf8')
    expect(csv.split('\r\n')[0]).to.equal('id,email,name,role,status,createdAt,lastLoginAt')
    expect(csv).to.include('"Lovelace, Ada"').and.not.include('$2b$')
    expect((await gantry(['users', 'export', 'out.csv'])).code).to.equal(1) // FILE_EXISTS without --force

    const stdout = await gantry(['users', 'export', '--format', 'jsonl', '--role', 'operator'])
    expect(stdout.code, stdout.stderr).to.equal(0)
    expect(
      stdout.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { email: string }).email),
    ).to.deep.equal(['carol@example.com'])
    expect((await gantry(['users', 'export', '--json'])).code).to.equal(2)
  })

  it("round-trips formula names with a ', never exports through a symlink, keeps a file's text out of errors, audits each user for --actor 'local:*'", async () => {
    const { root, gantry } = await workspace()
    // As an export writes them: the ' in front is taken off on import.
    writeFileSync(
      join(root, 'formulas.csv'),
      ['email,name,role', `sum@example.com,'=SUM(A1:A9),viewer`, `quoted@example.com,''+1,operator`, `plain@example.com,'plain,viewer`].join('\r\n'),
    )
    const imported = await gantry(['users', 'import', 'formulas.csv', '--json'])
    expect(imported.code, imported.stderr).to.equal(0)
    const list = parseJson<{ data: Array<{ email: string; name: string }> }>(await gantry(['users', 'list', '--json']))
    expect(list.data.map((u) => [u.email, u.name])).to.deep.equal([
      ['sum@example.com', '=SUM(A1:A9)'],
      ['quoted@example.com', "'+1"],
      ['plain@example.com', "'plain"],
    ])
    const exported = await gantry(['users', 'export', 'out.csv'])
    expect(exported.code, exported.stderr).to.equal(0)
    const csv = readFileSync(join(root, 'out.csv'), 'utf8')
    expect(csv).to.include(",sum@example.com,'=SUM(A1:A9),").and.include(",quoted@example.com,''+1,").and.include(",plain@example.com,'plain,")

    writeFileSync(join(root, 'elsewhere.txt'), 'keep me')
    symlinkSync(join(root, 'elsewhere.txt'), join(root, 'link.csv'))
    const linked = await gantry(['users', 'export', 'link.csv', '--force'])
    expect(linked.code).to.equal(2)
    expect(linked.stderr.split('\n')[0]).to.equal(
      `Error (INVALID_INPUT): ${join(root, 'link.csv')} is a symbolic link: an export is never written through one.`,
    )
    expect(readFileSync(join(root, 'elsewhere.txt'), 'utf8')).to.equal('keep me')
    expect((await gantry(['users', 'export', 'out.csv', '--force'])).code, 'a regular file is still overwritten').to.equal(0)

    writeFileSync(join(root, 'secrets.csv'), 'AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI-s3cr3t\n')
    const secret = await gantry(['users', 'import', 'secrets.csv'])
    expect(secret.code).to.equal(2)
    expect(secret.stderr).to.include('Error (IMPORT_INVALID): The header (line 1): column 1 is not a known column.')
    expect(secret.stdout + secret.stderr).to.not.match(/s3cr3t|AWS_SECRET/)

    const audit = await gantry(['audit', 'list', '--actor', 'local:*', '--action', 'users.create', '--json'])
    expect(audit.code, audit.stderr).to.equal(0)
    const entries = parseJson<{ data: Array<{ actor: string; after: { email: string; role: string } }> }>(audit).data
    expect(entries.map((e) => [e.after.email, e.after.role]).sort()).to.deep.equal([
      ['plain@example.com', 'viewer'],
      ['quoted@example.com', 'operator'],
      ['sum@example.com', 'viewer'],
    ])
    for (const e of entries) expect(e.actor).to.match(/^local:/)
  })

  it('draws a progress bar on a terminal (a pseudo-terminal from `script`) and leaves a summary line', async function () {
    if (!hasScript()) pendingUnlessCi(this, 'no `script` (util-linux) here: no pseudo-terminal to see a bar on')
    const { root } = await workspace()
    const rows = Array.from({ length: 3000 }, (_, i) => `user${i}@example.com,User ${i},viewer,`)
    writeFileSync(join(root, 'many.csv'), ['email,name,role,password_hash', ...rows].join('\n'))
    // stderr stays on the terminal (what `script` prints); stdout goes to a file.
    // A sized terminal: a pty nobody sized has 0 columns, where nothing is drawn (isDrawable).
    const command = `stty cols 100 rows 40; '${process.execPath}' '${BIN}' users import many.csv > stdout.txt`
    const terminal = await new Promise<string>((resolvePromise, reject) => {
      // The terminal is this test's, not the caller's: under TERM=dumb (or none: `env -i`) the CLI rightly draws
      // no bar, and COLUMNS would change what it draws. A German locale (`3.000` there) must not change the counts.
      const terminalEnv = { TERM: 'xterm-256color', COLUMNS: undefined, LINES: undefined, LANG: 'de_DE.UTF-8', LC_ALL: 'de_DE.UTF-8', LANGUAGE: undefined }
      const child = execFile(
        'script',
        ['-qfec', command, '/dev/null'],
        { cwd: root, env: cliEnv({ GANTRY_AUTH_SECRET: 'e2e-secret', ...terminalEnv }) },
        (error, out) => (error ? reject(error) : resolvePromise(out)),
      )
      child.stdin?.end()
    })
    expect(terminal).to.match(/\r\[[█░]+\] +\d+% · [\d,]+ rows/)
    // One word for the rows left out, in the bar and in the summary.
    expect(terminal)
      .to.match(/ · 0 skipped/)
      .and.not.to.include('rejected')
    expect(terminal).to.include('\x1b[K')
    expect(terminal, 'the bar erased, the summary in its place').to.include('\r\x1b[K3,000 rows in ')
    expect(terminal).to.match(/3,000 rows in \d+\.\d s \([\d,]+ rows\/s\)\./)
    expect(readFileSync(join(root, 'stdout.txt'), 'utf8')).to.equal('Imported 3,000 users from 3,000 rows; 0 skipped.\n')
  })

  it('Ctrl-C part-way: says how many users went in and the command that resumes; that command imports the rest', async function () {
    if (!hasScript()) pendingUnlessCi(this, 'no `script` (util-linux) here: no pseudo-terminal to press Ctrl-C on')
    const { root, gantry } = await workspace()
    // Long enough that the rest of it is still running when the first batch (1,000 rows) has committed.
    const total = 60_000
    writeFileSync(join(root, 'big.csv'), ['email,name,role', ...Array.from({ length: total }, (_, i) => `u${i}@example.com,U ${i},viewer`)].join('\n'))
    const run = await onTerminal(['users', 'import', 'big.csv'], {
      cwd: root,
      env: { GANTRY_AUTH_SECRET: 'e2e-secret' },
      answers: [['000 imported', '\x03']],
    })
    const screen = stripVTControlCharacters(run.screen).replaceAll('\r', '\n')
    expect(run.code, screen).to.equal(130)
    const said = /Cancelled: ([\d,]+) users were imported from the first ([\d,]+) rows before it stopped\./.exec(screen)
    expect(said, screen).not.to.equal(null)
    const imported = Number(said![1]!.replaceAll(',', ''))
    expect(imported).to.be.above(0).and.below(total)
    expect(screen).to.include('Try: gantry users import big.csv --skip-existing (it passes over the users already in)')
    // The count is exact (each batch is its own transaction, the one in flight rolled back): the resumed
    // import finds exactly that many of the file's users in, and imports exactly the rest.
    const resumed = await gantry(['users', 'import', 'big.csv', '--skip-existing', '--json'])
    expect(resumed.code, resumed.stderr).to.equal(0)
    expect(parseJson<ImportJson & { existing: number }>(resumed)).to.deep.include({ rows: total, imported: total - imported, existing: imported, skipped: [] })
  })
})
