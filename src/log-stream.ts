import { liveLogUrl, type LiveLogSetup, type LogConnection } from './dokploy/log-socket.js'
import type { DeploymentRow } from './dokploy/api.js'
import { LineSplitter, LogPrinter, isEndLine, type LogLine } from './log-lines.js'
import { inline } from './logger.js'
import { redact } from './secrets.js'

/**
 * The socket half of the live log: opens Dokploy's `/listen-deployment` for one deployment, reopens it once
 * after a drop (without repeating lines), cuts what it sends into lines and prints them masked. What the
 * lines mean for the follower (an end line, a drop, no stream at all) goes to its listener.
 */

/**
 * Dokploy's own errors sent in place of the log, then the socket closes (API.md §10, listen-deployment): a
 * local or remote `tail` that cannot open the file (the log is on another host), SSH failing, an unknown server.
 */
export const SERVER_ERROR = /^(tail error: |SSH error: |tail: cannot open |Server not found)/

export interface StreamListener {
  /** A line was printed; `end` when it is one of Dokploy's last lines of a build. */
  line: (end: boolean, text: boolean) => void
  /** The socket sent something. */
  data: () => void
  /** The socket closed after sending some of the log: the end, a restart or a proxy. */
  dropped: () => void
  /** No more stream: the follower polls from now on. */
  gone: () => void
}

interface Attempt {
  connection?: LogConnection
  opened: boolean
  gotData: boolean
  timedOut: boolean
  /** Why the first message was not the log. */
  refusal?: string
  splitter: LineSplitter
  /** Lines printed before a reopen: the server sends the log from its start again. */
  skip: number
  timer?: NodeJS.Timeout
}

export type StreamState = 'streaming' | 'dropped' | 'polling' | 'closed'

export class LogStream {
  private current: StreamState = 'streaming'
  private attempt?: Attempt
  private reopened = false
  /** Lines taken from the stream so far. */
  private seen = 0
  private completeAtClose = false
  /** The server that holds the log file (null: Dokploy's own host). */
  private host: string | null = null

  constructor(
    private readonly setup: LiveLogSetup,
    private row: DeploymentRow,
    private printer: LogPrinter,
    private readonly listener: StreamListener
  ) {}

  get state(): StreamState {
    return this.current
  }

  /** Whether the stream held the whole log up to the final status: its last lines can stand for readLogs. */
  get complete(): boolean {
    return this.completeAtClose
  }

  /** The last `log-lines` lines of a complete stream, masked; undefined otherwise. */
  tail(): string | undefined {
    return this.completeAtClose ? this.printer.tail() : undefined
  }

  /** Once the service's `.one` is read: the printer with its name for a heading, and the host of the log. */
  prepare(printer: LogPrinter, host: string | null): void {
    this.printer = printer
    this.host = host
  }

  connect(row: DeploymentRow = this.row): void {
    this.row = row
    const attempt: Attempt = { opened: false, gotData: false, timedOut: false, splitter: new LineSplitter(), skip: this.seen }
    this.attempt = attempt
    attempt.timer = setTimeout(() => {
      attempt.timedOut = true
      attempt.connection?.close()
    }, this.setup.openTimeoutMs)
    try {
      attempt.connection = this.setup.sockets.open(liveLogUrl(this.setup.baseUrl, row.logPath as string, this.host), this.setup.apiKey, {
        open: () => {
          attempt.opened = true
          clearTimeout(attempt.timer)
        },
        message: (text) => this.receive(attempt, text),
        close: (code, reason, error) => this.closed(attempt, code, reason, error)
      }, this.setup.headers)
    } catch (error) {
      // the constructor refuses what it cannot open (a URL it rejects): the follower polls instead
      this.fallBack(`the WebSocket could not be created (${error instanceof Error ? error.message : String(error)})`)
    }
  }

  /** After a drop, while the build goes on: the one reopen. */
  reopen(row: DeploymentRow): void {
    this.reopened = true
    this.current = 'streaming'
    this.setup.sink.line('[The live log dropped: reopening it once; lines already shown are not repeated.]')
    this.connect(row)
  }

  /** Stops the stream (the deployment ended, the wait timed out or was cancelled) and ends the group. */
  close(): void {
    if (this.current === 'closed') return
    const attempt = this.attempt
    if (this.current === 'streaming' && attempt?.gotData) {
      for (const line of attempt.splitter.flush()) this.take(attempt, line)
      this.completeAtClose = true
    }
    this.current = 'closed'
    this.hangUp()
    this.printer.close()
  }

  /** No live log from here on, with one notice saying why. */
  fallBack(why: string): void {
    if (this.current === 'polling' || this.current === 'closed') return
    this.current = 'polling'
    this.hangUp()
    this.printer.close()
    this.setup.sink.notice(`No live build log: ${redact(why)}. Following the deployment by polling instead.`)
    this.listener.gone()
  }

  private hangUp(): void {
    const attempt = this.attempt
    if (!attempt) return
    clearTimeout(attempt.timer)
    this.attempt = undefined
    attempt.connection?.close()
  }

  private receive(attempt: Attempt, text: string): void {
    if (attempt !== this.attempt || this.current !== 'streaming') return
    if (!attempt.gotData && SERVER_ERROR.test(text)) {
      attempt.refusal = "Dokploy could not read the deployment's log file"
      attempt.connection?.close()
      return
    }
    attempt.gotData = true
    this.listener.data()
    for (const line of attempt.splitter.push(text)) this.take(attempt, line)
  }

  private take(attempt: Attempt, line: LogLine): void {
    if (attempt.skip > 0) {
      attempt.skip--
      return
    }
    this.seen++
    this.printer.print(line)
    this.listener.line(isEndLine(line.text), line.text.trim() !== '')
  }

  private closed(attempt: Attempt, code: number, reason: string, error: string | undefined): void {
    clearTimeout(attempt.timer)
    if (attempt !== this.attempt || this.current !== 'streaming') return
    if (!attempt.gotData) {
      const why = this.refusal(attempt, code, reason, error)
      return this.fallBack(this.reopened ? `the log socket dropped and could not be reopened: ${why}` : why)
    }
    if (this.reopened) return this.fallBack(`the log socket dropped a second time (code ${code})`)
    this.current = 'dropped'
    this.listener.dropped()
  }

  /** Why a socket ended before it sent any of the log. */
  private refusal(attempt: Attempt, code: number, reason: string, error: string | undefined): string {
    if (attempt.refusal) return attempt.refusal
    if (attempt.timedOut) return `Dokploy did not answer the WebSocket upgrade within ${Math.round(this.setup.openTimeoutMs / 1000)} s`
    // the socket worked a moment ago: what refuses it now is Dokploy going away, not a proxy
    if (!attempt.opened && this.reopened) {
      return `Dokploy stopped answering (${inline(error || `code ${code}`)}): it is probably restarting`
    }
    if (!attempt.opened) {
      return `the WebSocket upgrade was refused (${inline(error || `code ${code}`)}): a proxy or firewall that blocks WebSockets, a redirect, or a Dokploy without /listen-deployment`
    }
    if (code === 4000) return `Dokploy refused the log path (${code} ${inline(redact(reason)).slice(0, 100)})`
    return `Dokploy closed the log socket without sending anything (code ${code}): it did not accept the API key there`
  }
}
