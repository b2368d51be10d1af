/**
 * Shell completion, computed by Gantry itself: the shell scripts of `gantry completion` hand the words typed
 * so far to the hidden `gantry __complete`, which answers with the candidates, one per line. Knowing the
 * command being typed, it completes what a static word list cannot: a flag after a positional argument
 * (`gantry ratelimit set probe --ke` → `--key`), a flag's values (its options, `-e` the workspace's
 * environments), and the topics and commands. No candidate means "the shell's own": file names.
 */
import { BUILTIN_ENVIRONMENTS } from '../config/defaults.js'
import { environmentNames, loadWorkspace } from '../config/workspace.js'

/** What completion needs of a command: oclif's loadable command has this shape. */
export interface CompletableCommand {
  readonly id: string
  readonly hidden?: boolean
  readonly flags: Readonly<Record<string, CompletableFlag>>
}

export interface CompletableFlag {
  readonly name: string
  readonly char?: string
  readonly type: 'boolean' | 'option'
  readonly options?: readonly string[]
  readonly multiple?: boolean
  readonly hidden?: boolean
}

export interface CompletionSources {
  readonly commands: readonly CompletableCommand[]
  /** The workspace's environment names (none outside a workspace): the values of -e/--env. */
  environments(): readonly string[]
}

/** Flags whose values are environment names. */
const ENVIRONMENT_FLAGS = new Set(['env'])

/**
 * The candidates for the last word of `words` (the words after `gantry`, the last one being typed, '' when
 * the cursor follows a space). For `--flag=part` the candidates are the values alone: bash and zsh replace
 * only what follows the `=` (the scripts see to it).
 */
export function complete(words: readonly string[], sources: CompletionSources): string[] {
  const current = words.at(-1) ?? ''
  const before = words.slice(0, -1)
  const visible = sources.commands.filter((c) => !c.hidden)
  const command = commandOf(before, visible)
  if (!command) return nextCommandWords(before, current, visible)

  const assigned = /^(--[^=]+)=(.*)$/.exec(current)
  if (assigned) return valuesOf(flagNamed(command, assigned[1]!), assigned[2]!, sources)
  const previous = flagNamed(command, before.at(-1) ?? '')
  if (previous?.type === 'option' && !(before.at(-1) ?? '').includes('=')) return valuesOf(previous, current, sources)
  if (current.startsWith('-')) {
    const given = new Set(before.map((w) => flagNamed(command, w)?.name).filter(Boolean))
    return Object.values(command.flags)
      .filter((f) => !f.hidden && (f.multiple || !given.has(f.name)))
      .map((f) => `--${f.name}`)
      .filter((name) => name.startsWith(current))
      .sort()
  }
  return []
}

/** The command the words name (`users list` → users:list), when they name a whole one. */
function commandOf(words: readonly string[], commands: readonly CompletableCommand[]): CompletableCommand | undefined {
  const path: string[] = []
  for (const word of words) {
    if (word.startsWith('-')) break
    path.push(word)
    const found = commands.find((c) => c.id === path.join(':'))
    if (found) return found
  }
  return undefined
}

/** The topics and commands that can follow the words typed (`users l` → list). */
function nextCommandWords(words: readonly string[], current: string, commands: readonly CompletableCommand[]): string[] {
  const prefix = words.filter((w) => !w.startsWith('-'))
  const next = new Set<string>()
  for (const { id } of commands) {
    const parts = id.split(':')
    if (parts.length <= prefix.length || prefix.some((p, i) => parts[i] !== p)) continue
    const word = parts[prefix.length]!
    if (word.startsWith(current)) next.add(word)
  }
  return [...next].sort()
}

function flagNamed(command: CompletableCommand, word: string): CompletableFlag | undefined {
  if (/^--[^-]/.test(word)) return command.flags[word.slice(2).split('=')[0]!]
  if (/^-[^-]$/.test(word)) return Object.values(command.flags).find((f) => f.char === word[1])
  return undefined
}

function valuesOf(flag: CompletableFlag | undefined, current: string, sources: CompletionSources): string[] {
  if (!flag) return []
  const values = flag.options ?? (ENVIRONMENT_FLAGS.has(flag.name) ? sources.environments() : [])
  return values.filter((v) => v.startsWith(current))
}

/**
 * The environments -e completes to: those of the workspace found from `cwd` (or named by a --config among
 * the words typed); outside a workspace, or with a config that does not load, the built-in ones.
 */
export function workspaceEnvironments(words: readonly string[], cwd: string): string[] {
  const at = words.indexOf('--config')
  const configPath = at >= 0 ? words[at + 1] : words.find((w) => w.startsWith('--config='))?.slice('--config='.length)
  try {
    return environmentNames(loadWorkspace({ cwd, configPath }))
  } catch {
    return [...BUILTIN_ENVIRONMENTS]
  }
}

/** The scripts `gantry completion SHELL` prints: each hands the line to `gantry __complete`. */
export const COMPLETION_SCRIPTS = {
  // The line up to the cursor, split on blanks (bash's own words would split `--env=staging` at the `=`);
  // an empty last word when the cursor follows a space. `-o default`: no candidate means file names.
  bash: `# gantry completion for bash: add to ~/.bashrc
#   source <(gantry completion bash)
_gantry_complete() {
  local line="\${COMP_LINE:0:COMP_POINT}" words
  read -r -a words <<< "$line"
  [[ "$line" =~ [[:space:]]$ ]] && words+=("")
  local IFS=$'\\n'
  COMPREPLY=($(gantry __complete -- "\${words[@]:1}" 2>/dev/null))
}
complete -o default -F _gantry_complete gantry
`,
  // words[2,CURRENT]: what follows `gantry` up to the word being typed. For --flag=value the part up to
  // the = is kept as it is (compset -P), as bash does.
  zsh: `#compdef gantry
# gantry completion for zsh: add to ~/.zshrc (after compinit)
#   source <(gantry completion zsh)
_gantry() {
  local -a candidates
  candidates=("\${(@f)$(gantry __complete -- "\${(@)words[2,CURRENT]}" 2>/dev/null)}")
  [[ "\${words[CURRENT]}" == --*=* ]] && compset -P '*='
  if (( \${#candidates} )) && [[ -n "\${candidates[1]}" ]]; then
    compadd -- "\${candidates[@]}"
  else
    _files
  fi
}
compdef _gantry gantry
`,
} as const

export type CompletionShell = keyof typeof COMPLETION_SCRIPTS
