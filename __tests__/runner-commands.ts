/**
 * A model of how the GitHub runner finds workflow commands in a step's output, written from the facts
 * of actions/runner (ProcessInvoker, OutputManager, ActionCommand, ActionCommandManager):
 *
 * - Output is read line by line with .NET's ReadLine: a line ends at CR, LF or CRLF.
 * - The `::name props::data` form: the line's leading white space is trimmed with .NET's TrimStart()
 *   (every Char.IsWhiteSpace character, U+0085 included), then it must start with `::`; the name runs
 *   to the first space of the text up to the next `::`.
 * - The legacy `##[name props]data` form: the FIRST `##[` anywhere in the line, up to the next `]`.
 * - Names are compared case-insensitively with the registered ones; anything else is plain text.
 * - `stop-commands` with a token stops every command until a line whose command is that token
 *   (in either form); the token then becomes a registered name until it is seen.
 *
 * The runner's string search is culture-sensitive, and ICU may skip "ignorable" characters (controls,
 * format characters). `lenient` models that over-generously: those characters are removed before the
 * line is parsed, so a defence that passes the lenient model passes the real runner too.
 */

export const REGISTERED = [
  'set-env', 'set-output', 'save-state', 'add-mask', 'add-path', 'add-matcher', 'remove-matcher', 'debug', 'warning', 'error', 'notice',
  'group', 'endgroup', 'echo', 'stop-commands'
]

/** Char.IsWhiteSpace: U+0009–U+000D, U+0020, U+0085, U+00A0, and the Zs, Zl and Zp characters. */
// eslint-disable-next-line no-control-regex -- white space controls are what is looked for
const DOTNET_WHITE_SPACE = /[\u0009-\u000d\u0020\u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]/
/** What ICU may skip in a comparison, generously: controls but the white space ones, format characters, default-ignorables. */
// eslint-disable-next-line no-control-regex -- control characters are what is looked for
const IGNORABLE = /[\u0000-\u0008\u000e-\u001f\u007f-\u0084\u0086-\u009f\p{Cf}\p{Default_Ignorable_Code_Point}]/gu

const trimStart = (line: string): string => {
  let i = 0
  while (i < line.length && DOTNET_WHITE_SPACE.test(line[i])) i++
  return line.slice(i)
}

export interface Command {
  form: 'v2' | 'legacy'
  name: string
  data: string
  line: string
}

function nameOf(info: string, registered: Set<string>): string | undefined {
  const space = info.indexOf(' ')
  const name = (space < 0 ? info : info.slice(0, space)).toLowerCase()
  return registered.has(name) ? name : undefined
}

function parseV2(line: string, registered: Set<string>): Command | undefined {
  const message = trimStart(line)
  if (!message.startsWith('::')) return undefined
  const end = message.indexOf('::', 2)
  if (end < 0) return undefined
  const name = nameOf(message.slice(2, end), registered)
  return name ? { form: 'v2', name, data: message.slice(end + 2), line } : undefined
}

function parseLegacy(line: string, registered: Set<string>): Command | undefined {
  const at = line.indexOf('##[')
  if (at < 0) return undefined
  const close = line.indexOf(']', at)
  if (close < 0) return undefined
  const name = nameOf(line.slice(at + 3, close), registered)
  return name ? { form: 'legacy', name, data: line.slice(close + 1), line } : undefined
}

/** The command the runner would find in one line (the `::` form first), or undefined. */
export function parseLine(line: string, options: { lenient?: boolean; registered?: Iterable<string> } = {}): Command | undefined {
  const registered = new Set([...(options.registered ?? REGISTERED)].map((name) => name.toLowerCase()))
  const text = options.lenient ? line.replace(IGNORABLE, '') : line
  const found = parseV2(text, registered) ?? parseLegacy(text, registered)
  return found && { ...found, line }
}

export const runnerLines = (output: string): string[] => output.split(/\r\n|\r|\n/)

export interface RunnerResult {
  /** Commands the runner runs, in order (stop-commands and its resume included). */
  ran: Command[]
  /** Commands found while commands were stopped: shown as text, not run. */
  ignored: Command[]
  /** Whether commands are still stopped at the end. */
  stopped: boolean
}

/** Runs the model over a step's whole output, stop-commands included. */
export function runnerCommands(output: string, options: { lenient?: boolean } = {}): RunnerResult {
  const registered = new Set(REGISTERED)
  const ran: Command[] = []
  const ignored: Command[] = []
  let token: string | undefined
  for (const line of runnerLines(output)) {
    const command = parseLine(line, { ...options, registered })
    if (!command) continue
    if (token !== undefined) {
      if (command.name === token.toLowerCase()) {
        ran.push(command)
        registered.delete(token.toLowerCase())
        token = undefined
      } else ignored.push(command)
      continue
    }
    ran.push(command)
    if (command.name === 'stop-commands') {
      token = command.data
      registered.add(token.toLowerCase())
    }
  }
  return { ran, ignored, stopped: token !== undefined }
}

/** Every command either model (exact or lenient) would find in text meant to be plain. */
export const commandsIn = (text: string): Command[] =>
  runnerLines(text).flatMap((line) => [parseLine(line), parseLine(line, { lenient: true })].filter((c): c is Command => c !== undefined))

/**
 * Hostile lines: every way known to slip a command past a line-start check, in both forms. Each carries
 * "pwned" in what the runner would take as the command's data, so a test can tell them from the step's own.
 */
export const HOSTILE_LINES = [
  '::add-mask::pwned',
  '::set-output name=status::pwned',
  '::error::pwned',
  '  ::warning::pwned',
  '\t::notice::pwned',
  '\u0085::add-mask::pwned',
  '\u0085::stop-commands::pwned',
  '\u00a0::error::pwned',
  '\u2028::error::pwned',
  '\u3000::stop-commands::pwned',
  '\u000b::error::pwned',
  '\u000c::error::pwned',
  '\u00ad::error::pwned',
  '\u200b::error::pwned',
  '\ufeff::error::pwned',
  '\u001b::error::pwned',
  '::ERROR::pwned',
  '##[error]pwned',
  '│ ##[error]pwned',
  'Step 4/9 : RUN echo ##[add-mask]pwned',
  'npm WARN ##[warning file=app.js;line=1]pwned',
  '│ ##[stop-commands]pwned',
  '│ ##[endgroup]pwned',
  '###[error]pwned',
  '#\u00ad#[error]pwned',
  '##\u200b[error]pwned',
  '#\u001b#[error]pwned',
  'text ##[group]pwned',
  '##[ENDGROUP]pwned'
]
