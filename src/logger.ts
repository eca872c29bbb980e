import * as core from '@actions/core'

/**
 * Text from the server (log lines, messages) is printed behind a gutter: a line of a build log
 * that starts with `::` could otherwise forge a workflow command (set-output, add-mask, error).
 */
export const gutter = (text: string): string =>
  text
    .split(/\r?\n/)
    .map((line) => `│ ${line}`)
    .join('\n')

/** A single line of server text inside our own message: no newlines, so nothing can start a command. */
export const inline = (text: string): string => text.replace(/[\r\n]+/g, ' ⏎ ').trim()

export interface Log {
  info: (message: string) => void
  warning: (message: string) => void
  debug: (message: string) => void
  group: (title: string, body: string) => void
}

/**
 * Last line of defence: no line we print may start a workflow command, whatever text got into it. The
 * runner trims a line before it looks for `::`, so leading white space (a carriage return too) is kept.
 */
export const defused = (message: string): string => message.replace(/^(\s*)(::|##\[)/gm, '$1│ $2')

export const actionsLog: Log = {
  info: (message) => core.info(defused(message)),
  warning: (message) => core.warning(message),
  debug: (message) => core.debug(message),
  group: (title, body) => {
    core.startGroup(inline(title))
    core.info(defused(body))
    core.endGroup()
  }
}

/** Where a streamed build log goes: a collapsible group of lines, and notices about the stream itself. */
export interface LogSink {
  startGroup: (title: string) => void
  /** One line, already masked and defused: printed as it is. */
  line: (text: string) => void
  endGroup: () => void
  notice: (message: string) => void
}

/** The toolkit escapes %, CR and LF in a group title and a notice, which are command data. */
export const actionsSink: LogSink = {
  startGroup: (title) => core.startGroup(inline(title)),
  line: (text) => core.info(text),
  endGroup: () => core.endGroup(),
  notice: (message) => core.notice(inline(message))
}

/** Rounded up: "gave up after 7s" must not be printed for a wait of 7.4 s (it may not under-state a wait-timeout). */
export function formatDuration(ms: number): string {
  const total = Math.ceil(ms / 1000)
  const minutes = Math.floor(total / 60)
  const seconds = total % 60
  return minutes ? `${minutes}m ${String(seconds).padStart(2, '0')}s` : `${seconds}s`
}
