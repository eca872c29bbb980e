import { defused, type LogSink } from './logger.js'
import { plainText } from './report.js'
import { redact } from './secrets.js'

/**
 * A build log as it streams in: chunks cut into lines, each line masked, defused and capped before it
 * is printed, with the last lines kept for the failure report.
 */

/** Longer lines are cut when printed (a minified bundle, a base64 blob a build echoes). */
export const MAX_LINE_CHARS = 4000
/** A line with no line break yet is held up to this size; the rest of it is dropped (never printed anyway). */
const MAX_PENDING_CHARS = 64 * 1024
/** What one step prints of a build log at most; the rest is counted and the dashboard has it. */
export const MAX_PRINTED_LINES = 10_000
export const MAX_PRINTED_CHARS = 2 * 1024 * 1024

export interface LogLine {
  text: string
  /** Characters dropped while the line had no end. */
  dropped: number
}

/**
 * Cuts a stream into lines. A carriage return ends a line as a line feed does: the runner reads its
 * output the same way, so a `\r::set-output` inside a progress line would otherwise start a command.
 */
export class LineSplitter {
  private pending = ''
  private dropped = 0
  /** The last chunk ended with CR: a LF at the start of the next one belongs to it. */
  private afterCR = false

  push(chunk: string): LogLine[] {
    let text = chunk
    if (this.afterCR && text.startsWith('\n')) text = text.slice(1)
    this.afterCR = text.endsWith('\r')
    const parts = text.split(/\r\n|\r|\n/)
    const lines: LogLine[] = []
    for (let i = 0; i < parts.length; i++) {
      this.hold(parts[i])
      if (i < parts.length - 1) lines.push(this.take())
    }
    return lines
  }

  /** The line still open when the stream ends. */
  flush(): LogLine[] {
    return this.pending || this.dropped ? [this.take()] : []
  }

  private hold(part: string): void {
    const room = MAX_PENDING_CHARS - this.pending.length
    if (part.length <= room) this.pending += part
    else {
      this.pending += part.slice(0, Math.max(0, room))
      this.dropped += part.length - Math.max(0, room)
    }
  }

  private take(): LogLine {
    const line = { text: this.pending, dropped: this.dropped }
    this.pending = ''
    this.dropped = 0
    return line
  }
}

// eslint-disable-next-line no-control-regex -- an escape sequence is what is looked for
const ESCAPE = /[\u001b\u009b]/

/**
 * Every secret the step knows, masked. ANSI colours pass through, unless a colour code splits a
 * secret: that line is printed without its colours, so the secret is found and masked.
 */
export function maskLine(line: string): string {
  const masked = redact(line)
  if (!ESCAPE.test(masked)) return masked
  const plain = plainText(masked)
  const plainMasked = redact(plain)
  return plainMasked === plain ? masked : plainMasked
}

/** Masked, then cut (cutting first could leave part of a secret). */
export function capLine(line: LogLine): string {
  const masked = maskLine(line.text)
  const over = masked.length - MAX_LINE_CHARS + line.dropped
  return over > 0 ? `${masked.slice(0, MAX_LINE_CHARS)} … [${over} more characters cut]` : masked
}

/**
 * Dokploy's own last lines of a build (API.md §10): each builder's "✅ … build completed.", a pulled
 * image, a deployed stack, or the failure line. Dokploy marks the deployment a moment after them.
 */
const END_LINES = [
  /^✅ \w+ build completed\.$/,
  /^✅ Pulling image completed\.$/,
  /^Docker (Compose )?Deployed: ✅$/,
  /^Error occurred ❌, check the logs for details\.$/
]

export const isEndLine = (line: string): boolean => {
  const plain = plainText(line).trim()
  return END_LINES.some((pattern) => pattern.test(plain))
}

/**
 * Prints lines into one collapsed group, opened at the first line. Past the caps it stops printing and
 * says so; the last `tailSize` lines are kept whatever was printed.
 */
export class LogPrinter {
  private printed = 0
  private chars = 0
  private withheld = 0
  private open = false
  private readonly last: string[] = []

  constructor(
    private readonly sink: LogSink,
    private readonly title: string,
    private readonly tailSize: number,
    private readonly caps = { lines: MAX_PRINTED_LINES, chars: MAX_PRINTED_CHARS }
  ) {}

  print(line: LogLine): void {
    const shown = capLine(line)
    if (this.tailSize > 0) {
      this.last.push(shown)
      if (this.last.length > this.tailSize) this.last.shift()
    }
    if (this.printed >= this.caps.lines || this.chars >= this.caps.chars) {
      if (this.withheld++ === 0) {
        this.sink.line(`[The live log stops here, after ${this.printed} lines: the build goes on, and Dokploy's dashboard has its whole log.]`)
      }
      return
    }
    if (!this.open) {
      this.sink.startGroup(this.title)
      this.open = true
    }
    this.sink.line(defused(shown))
    this.printed++
    this.chars += shown.length
  }

  /** Ends the group; says how many lines were not shown. */
  close(): void {
    if (!this.open) return
    if (this.withheld) this.sink.line(`[${this.withheld} more line(s) of the build log not shown.]`)
    this.sink.endGroup()
    this.open = false
  }

  /** The last lines seen, masked (what `log-lines` shows on failure), or undefined when there are none. */
  tail(): string | undefined {
    const text = this.last.join('\n').trimEnd()
    return text.trim() ? text : undefined
  }
}
