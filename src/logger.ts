import * as core from '@actions/core'
import { randomBytes } from 'node:crypto'

/** The line breaks the runner reads its output by (.NET's ReadLine): CR, LF and CRLF, nothing else. */
export const RUNNER_LINE_BREAK = /\r\n|\r|\n/

/**
 * Text from the server (log lines, messages) is printed behind a gutter: every line then starts with
 * a character that cannot start a workflow command.
 */
export const gutter = (text: string): string =>
  text
    .split(RUNNER_LINE_BREAK)
    .map((line) => `│ ${line}`)
    .join('\n')

/** A single line of server text inside our own message: no newlines, so nothing can start a command. */
export const inline = (text: string): string => text.replace(/[\r\n]+/g, ' ⏎ ').trim()

export interface Log {
  info: (message: string) => void
  /** An annotation; its title says where it comes from (the action, or one of several targets). */
  warning: (message: string, title?: string) => void
  debug: (message: string) => void
  group: (title: string, body: string) => void
}

export const WARNING_TITLE = 'Dokploy'

/**
 * Characters a line may start with, after spaces and tabs, to be printed as it is: letters, digits,
 * punctuation and symbols, except `:` and the characters a text comparison may skip (default-ignorable
 * code points, format and control characters); or an escape that starts a colour code (`ESC [`).
 * Anything else (`::`, any other white space such as U+0085 that .NET's TrimStart removes before the
 * runner looks for `::`, an invisible character) gets the gutter in front of it, after the indentation.
 */
// eslint-disable-next-line no-control-regex -- the escape of a colour code is what is allowed
const SAFE_START = /^[\t ]*(?:(?![:\p{Default_Ignorable_Code_Point}])[\p{L}\p{N}\p{P}\p{S}]|\u001b\[)/u
const SAFE_LINE = /^[\t ]*$/

/**
 * `##[` starts the runner's legacy command form anywhere in a line: a space goes after every `#` that
 * a `#` and a `[` follow, ignorable characters between them or not, so no `##[` is left.
 */
const LEGACY_OPENING = /#(?=[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]*#[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]*\[)/gu

/** One line (no CR or LF in it) in which the runner finds no workflow command, in either form. */
export function defusedLine(line: string): string {
  const broken = line.replace(LEGACY_OPENING, '# ')
  if (SAFE_START.test(broken) || SAFE_LINE.test(broken)) return broken
  const indent = /^[\t ]*/.exec(broken)?.[0] ?? ''
  return `${indent}│ ${broken.slice(indent.length)}`
}

/**
 * Last line of defence: no line we print may hold a workflow command, whatever text got into it. The
 * runner reads a line at every CR or LF, trims its leading white space the .NET way and looks for `::`
 * at its start, and looks for `##[` anywhere in it: every line passes `defusedLine`, line breaks kept.
 */
export const defused = (message: string): string => {
  const parts = message.split(/(\r\n|\r|\n)/)
  for (let i = 0; i < parts.length; i += 2) parts[i] = defusedLine(parts[i])
  return parts.join('')
}

/** What a text comparison may skip: control and format characters, default-ignorable code points. */
const IGNORABLE = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu

/** Whether the runner would look at a line at all: it does so only when `::` or `##[` is in it. */
export const mayHoldCommand = (text: string): boolean => /::|##\[/.test(text.replace(IGNORABLE, ''))

/**
 * The second wall, behind `defused`: before printing server text in which the runner could look for a
 * command, the step stops the runner's commands (`::stop-commands::<token>`, a fresh random token each
 * time, which the build cannot know), and it resumes them (`::<token>::`) before any command of its own:
 * a group's end, an annotation, a mask, a debug line, the outputs. While the wall is up the runner runs
 * nothing, whatever a line holds.
 */
export class CommandWall {
  private token: string | undefined
  private exitHook = false

  constructor(private readonly write: (line: string) => void) {}

  get up(): boolean {
    return this.token !== undefined
  }

  raise(): void {
    if (this.token !== undefined) return
    if (!this.exitHook) {
      // whatever ends the step, the runner runs commands again for what follows it
      this.exitHook = true
      process.once('exit', () => this.lower())
    }
    this.token = `dokploy-${randomBytes(16).toString('hex')}`
    this.write(`::stop-commands::${this.token}`)
  }

  lower(): void {
    if (this.token === undefined) return
    const token = this.token
    this.token = undefined
    this.write(`::${token}::`)
  }
}

export const wall = new CommandWall((line) => core.info(line))

/** Plain text of ours or the server's, each line defused, behind the wall when the runner would look at it. */
function printText(text: string): void {
  const shown = defused(text)
  if (mayHoldCommand(shown)) wall.raise()
  core.info(shown)
}

/** Every command of the step's own goes through here: the wall comes down first. */
const own =
  <A extends unknown[]>(command: (...args: A) => void) =>
  (...args: A): void => {
    wall.lower()
    command(...args)
  }

export const actionsLog: Log = {
  info: (message) => printText(message),
  warning: own((message: string, title: string = WARNING_TITLE) => core.warning(message, { title })),
  debug: own((message: string) => core.debug(message)),
  group: own((title: string, body: string) => {
    core.startGroup(inline(title))
    printText(body)
    wall.lower()
    core.endGroup()
  })
}

/**
 * The log of one of several targets: every line starts with its name, so interleaved lines can be told
 * apart. The name comes from the server: kept on one line.
 */
export function prefixed(log: Log, label: string): Log {
  const name = inline(label)
  const tag = (text: string): string =>
    text
      .split('\n')
      .map((line) => `[${name}] ${line}`)
      .join('\n')
  return {
    info: (message) => log.info(tag(message)),
    warning: (message, title) => log.warning(tag(message), title ?? `${WARNING_TITLE}: ${name}`),
    debug: (message) => log.debug(tag(message)),
    group: (title, body) => log.group(tag(title), tag(body))
  }
}

/** Where a streamed build log goes: a collapsible group of lines, and notices about the stream itself. */
export interface LogSink {
  startGroup: (title: string) => void
  /** One line, already masked and defused (it is defused again on the way out). */
  line: (text: string) => void
  endGroup: () => void
  notice: (message: string) => void
}

/** The toolkit escapes %, CR and LF in a group title and a notice, which are command data. */
export const actionsSink: LogSink = {
  startGroup: own((title: string) => core.startGroup(inline(title))),
  line: (text) => printText(text),
  endGroup: own(() => core.endGroup()),
  notice: own((message: string) => core.notice(inline(message), { title: WARNING_TITLE }))
}

/**
 * The streamed log of one of several targets. Their builds can overlap, and the runner cannot interleave
 * groups, so each line carries the target's name instead of sitting in a group.
 */
export function prefixedSink(sink: LogSink, label: string): LogSink {
  const name = inline(label)
  return {
    startGroup: (title) => sink.line(`[${name}] ${inline(title)}`),
    line: (text) => sink.line(`[${name}] ${text}`),
    endGroup: () => undefined,
    notice: (message) => sink.notice(`[${name}] ${message}`)
  }
}

/** Rounded up: "gave up after 7s" must not be printed for a wait of 7.4 s (it may not under-state a wait-timeout). */
export function formatDuration(ms: number): string {
  return formatSeconds(Math.ceil(ms / 1000))
}

/** Rounded to the nearest second, as the `duration` output is: what a report shows of a measured time. */
export const formatRounded = (ms: number): string => formatSeconds(Math.round(ms / 1000))

function formatSeconds(total: number): string {
  const minutes = Math.floor(total / 60)
  const seconds = total % 60
  return minutes ? `${minutes}m ${String(seconds).padStart(2, '0')}s` : `${seconds}s`
}
