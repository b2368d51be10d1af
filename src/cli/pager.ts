import { spawn } from 'node:child_process'

/**
 * Shows `text` through the user's pager when it is longer than the terminal, as git and gh do: `$PAGER`
 * (`less` when unset) run by the shell, with `LESS=FRX` unless the user set LESS (quit when it fits, keep
 * colours, leave the text on the screen). An empty PAGER or `cat` means none. Where the pager cannot start,
 * the text is written as it is: paging is a comfort, never a reason to lose the output.
 */
export async function writePaged(text: string, options: { stdout: NodeJS.WriteStream; env: NodeJS.ProcessEnv }): Promise<void> {
  const { stdout, env } = options
  const pager = (env.PAGER ?? 'less').trim()
  const lines = text.split('\n').length - (text.endsWith('\n') ? 1 : 0)
  if (pager === '' || pager === 'cat' || !stdout.isTTY || lines < (stdout.rows ?? Infinity)) {
    stdout.write(text)
    return
  }
  const shown = await new Promise<boolean>((resolve) => {
    const child = spawn(pager, { shell: true, stdio: ['pipe', 'inherit', 'inherit'], env: { ...env, LESS: env.LESS ?? 'FRX' } })
    child.once('error', () => resolve(false))
    // The user quit the pager before reading everything: the rest is not wanted, not an error.
    child.stdin.once('error', () => undefined)
    child.once('close', (code) => resolve(code !== 127))
    child.stdin.end(text)
  })
  if (!shown) stdout.write(text)
}
