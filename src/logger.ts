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
  /** An annotation; its title says where it comes from (the action, or one of several targets). */
  warning: (message: string, title?: string) => void
  debug: (message: string) => void
  group: (title: string, body: string) => void
}

export const WARNING_TITLE = 'Dokploy'

/**
 * Last line of defence: no line we print may start a workflow command, whatever text got into it. The
 * runner trims a line before it looks for `::`, so leading white space (a carriage return too) is kept.
 */
export const defused = (message: string): string => message.replace(/^(\s*)(::|##\[)/gm, '$1│ $2')

export const actionsLog: Log = {
  info: (message) => core.info(defused(message)),
  warning: (message, title = WARNING_TITLE) => core.warning(message, { title }),
  debug: (message) => core.debug(message),
  group: (title, body) => {
    core.startGroup(inline(title))
    core.info(defused(body))
    core.endGroup()
  }
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
  notice: (message) => core.notice(inline(message), { title: WARNING_TITLE })
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
  const total = Math.ceil(ms / 1000)
  const minutes = Math.floor(total / 60)
  const seconds = total % 60
  return minutes ? `${minutes}m ${String(seconds).padStart(2, '0')}s` : `${seconds}s`
}
