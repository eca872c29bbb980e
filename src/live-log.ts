import { learnSecrets } from './dokploy/api.js'
import { liveLogUrl, proxyFor, type LiveLogSetup, type LogConnection } from './dokploy/log-socket.js'
import type { Identified } from './correlate.js'
import { polling, type Pace } from './follow-row.js'
import { LineSplitter, LogPrinter, isEndLine, type LogLine } from './log-lines.js'
import { inline } from './logger.js'
import type { Poller, WaitContext } from './poller.js'
import { redact } from './secrets.js'
import { scaled } from './time-scale.js'

/**
 * The build log of the step's own deployment, streamed into the step as Dokploy writes it, and the pace
 * of the follower while it streams: the status is read when the log says the end may have come (one of
 * Dokploy's last lines, or the socket closing), and after 30 s of quiet in case the socket stalled. When
 * the socket cannot be opened, or drops twice, the follower polls as it does without the live log.
 */

/**
 * Dokploy marks the deployment about a second after its last line (it updates the service first; longer
 * on a busy swarm, API.md §10): the status is read a second after that line, then every half second for a
 * few seconds, then less and less often.
 */
const FIRST_END_LOOK_MS = scaled(1000)
const END_LOOK_MS = scaled(500)
const QUICK_END_LOOKS = 5
const END_BACKOFF = 1.5
/** With the log quiet this long the status is read anyway: a socket can stall without closing. */
export const QUIET_LOOK_MS = scaled(30_000)

/** When the k-th look (from 0) after an end line is due, in ms after that line. */
export function endLookOffset(k: number): number {
  let offset = FIRST_END_LOOK_MS
  let step = END_LOOK_MS
  for (let i = 1; i <= k; i++) {
    offset += step
    if (i >= QUICK_END_LOOKS - 1) step *= END_BACKOFF
  }
  return Math.round(offset)
}

/** Dokploy's own errors sent in place of the log, then the socket closes (API.md §10, listen-deployment). */
const SERVER_ERROR = /^(tail error: |SSH error: |tail: cannot open )/

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

export class LiveLog implements Pace {
  private state: 'streaming' | 'dropped' | 'polling' | 'closed' = 'streaming'
  private attempt?: Attempt
  private reopened = false
  /** Lines taken from the stream so far. */
  private seen = 0
  private lastDataAt: number
  private lastLookAt: number
  /** When the latest line with text was one of Dokploy's last lines. */
  private endAt?: number
  private endLooks = 0
  private lookNow = false
  private wake?: () => void
  private printer: LogPrinter
  private completeAtClose = false

  private constructor(
    private readonly ctx: WaitContext,
    private readonly setup: LiveLogSetup,
    private readonly poller: Poller,
    private found: Identified,
    private readonly tailLines: number
  ) {
    this.lastDataAt = this.lastLookAt = this.now()
    this.printer = new LogPrinter(setup.sink, this.heading(undefined), tailLines)
  }

  /**
   * Streams the log of the deployment the step proved its own. The service's secrets are learned first,
   * so that no line can print one. Anything that rules the socket out makes it a polling pace, with one
   * notice saying why.
   */
  static async start(ctx: WaitContext, setup: LiveLogSetup, poller: Poller, found: Identified, tailLines: number): Promise<LiveLog> {
    const live = new LiveLog(ctx, setup, poller, found, tailLines)
    const proxy = proxyFor(setup.baseUrl)
    const ruledOut =
      setup.sockets.unavailable() ??
      (proxy ? `a proxy is set for ${new URL(setup.baseUrl).host} (${proxy}), and the live log cannot go through it` : undefined) ??
      (found.row.logPath ? undefined : `Dokploy did not give deployment ${found.row.deploymentId}'s log path`)
    if (ruledOut) {
      live.fallBack(ruledOut)
      return live
    }
    try {
      const { name } = await learnSecrets(ctx.client, ctx.spec, ctx.serviceId)
      live.printer = new LogPrinter(setup.sink, live.heading(name), live.tailLines)
    } catch (error) {
      if (ctx.signal?.aborted) throw error
      live.fallBack(`the service's secrets could not be read first (${error instanceof Error ? error.message : String(error)}), and a build log may print them`)
      return live
    }
    live.connect()
    return live
  }

  /** Whether the stream held the whole log up to the final status: its last lines can stand for readLogs. */
  get complete(): boolean {
    return this.completeAtClose
  }

  /** The last `log-lines` lines of a complete stream, masked; undefined otherwise. */
  tail(): string | undefined {
    return this.completeAtClose ? this.printer.tail() : undefined
  }

  running(found: Identified): void {
    this.found = found
    this.lastLookAt = this.now()
    if (this.state === 'polling') polling(this.poller).running(found)
  }

  async next(): Promise<void> {
    for (;;) {
      if (this.state === 'polling') return this.poller.pause()
      if (this.lookNow) {
        this.lookNow = false
        return
      }
      // the status was read after the drop and the build goes on: the one reopen
      if (this.state === 'dropped') this.reopen()
      const now = this.now()
      const endDue = this.endAt === undefined ? Infinity : this.endAt + endLookOffset(this.endLooks)
      const due = Math.min(endDue, Math.max(this.lastDataAt, this.lastLookAt) + QUIET_LOOK_MS)
      if (now >= due) {
        if (now >= endDue) this.endLooks++
        return
      }
      const left = this.ctx.deadline - now
      if (left <= 0) return
      await this.pause(Math.min(due - now, left))
    }
  }

  /** Stops the stream (the deployment ended, the wait timed out or was cancelled) and ends the group. */
  close(): void {
    if (this.state === 'closed') return
    const attempt = this.attempt
    if (this.state === 'streaming' && attempt?.gotData) {
      for (const line of attempt.splitter.flush()) this.take(attempt, line)
      this.completeAtClose = true
    }
    this.state = 'closed'
    this.hangUp()
    this.printer.close()
  }

  private heading(name: string | undefined): string {
    return `Build log of ${inline(redact(name ?? this.ctx.serviceId))} · deployment ${this.found.row.deploymentId}`
  }

  private now(): number {
    return (this.ctx.now ?? Date.now)()
  }

  private connect(): void {
    const row = this.found.row
    const attempt: Attempt = { opened: false, gotData: false, timedOut: false, splitter: new LineSplitter(), skip: this.seen }
    this.attempt = attempt
    attempt.timer = setTimeout(() => {
      attempt.timedOut = true
      attempt.connection?.close()
    }, this.setup.openTimeoutMs)
    try {
      attempt.connection = this.setup.sockets.open(liveLogUrl(this.setup.baseUrl, row.logPath as string, row.serverId), this.setup.apiKey, {
        open: () => {
          attempt.opened = true
          clearTimeout(attempt.timer)
        },
        message: (text) => this.receive(attempt, text),
        close: (code, reason, error) => this.closed(attempt, code, reason, error)
      })
    } catch (error) {
      // the constructor refuses what it cannot open (a URL it rejects): the follower polls instead
      this.fallBack(`the WebSocket could not be created (${error instanceof Error ? error.message : String(error)})`)
    }
  }

  private reopen(): void {
    this.reopened = true
    this.state = 'streaming'
    this.setup.sink.line('[The live log dropped: reopening it once; lines already shown are not repeated.]')
    this.connect()
  }

  private hangUp(): void {
    const attempt = this.attempt
    if (!attempt) return
    clearTimeout(attempt.timer)
    this.attempt = undefined
    attempt.connection?.close()
  }

  private receive(attempt: Attempt, text: string): void {
    if (attempt !== this.attempt || this.state !== 'streaming') return
    if (!attempt.gotData && SERVER_ERROR.test(text)) {
      attempt.refusal = 'Dokploy could not read the deployment\'s log file'
      attempt.connection?.close()
      return
    }
    attempt.gotData = true
    this.lastDataAt = this.now()
    for (const line of attempt.splitter.push(text)) this.take(attempt, line)
  }

  private take(attempt: Attempt, line: LogLine): void {
    if (attempt.skip > 0) {
      attempt.skip--
      return
    }
    this.seen++
    this.printer.print(line)
    if (isEndLine(line.text)) {
      this.endAt = this.now()
      this.endLooks = 0
      this.kick()
    } else if (line.text.trim()) {
      // the build went on past a line that looked like its last
      this.endAt = undefined
    }
  }

  private closed(attempt: Attempt, code: number, reason: string, error: string | undefined): void {
    clearTimeout(attempt.timer)
    if (attempt !== this.attempt || this.state !== 'streaming') return
    if (!attempt.gotData) {
      const why = this.refusal(attempt, code, reason, error)
      return this.fallBack(this.reopened ? `the log socket dropped and could not be reopened: ${why}` : why)
    }
    if (this.reopened) return this.fallBack(`the log socket dropped a second time (code ${code})`)
    // the end of the build, a restart or a proxy: read the status now, then reopen if it still runs
    this.state = 'dropped'
    this.lookNow = true
    this.kick()
  }

  /** Why a socket ended before it sent any of the log. */
  private refusal(attempt: Attempt, code: number, reason: string, error: string | undefined): string {
    if (attempt.refusal) return attempt.refusal
    if (attempt.timedOut) return `Dokploy did not answer the WebSocket upgrade within ${Math.round(this.setup.openTimeoutMs / 1000)} s`
    if (!attempt.opened) {
      return `the WebSocket upgrade was refused (${inline(error || `code ${code}`)}): a proxy or firewall that blocks WebSockets, a redirect, or a Dokploy without /listen-deployment`
    }
    if (code === 4000) return `Dokploy refused the log path (${code} ${inline(redact(reason)).slice(0, 100)})`
    return `Dokploy closed the log socket without sending anything (code ${code}): it did not accept the API key there`
  }

  private fallBack(why: string): void {
    if (this.state === 'polling' || this.state === 'closed') return
    this.state = 'polling'
    this.hangUp()
    this.printer.close()
    this.setup.sink.notice(`No live build log: ${redact(why)}. Following the deployment by polling instead.`)
    this.kick()
  }

  /** Sleeps until `ms` pass, the stream wakes it, or the runner cancels (which rejects). */
  private async pause(ms: number): Promise<void> {
    const woken = new AbortController()
    this.wake = () => woken.abort()
    const signal = this.ctx.signal ? AbortSignal.any([this.ctx.signal, woken.signal]) : woken.signal
    try {
      await this.ctx.sleep(ms, signal)
    } catch (error) {
      if (this.ctx.signal?.aborted || !woken.signal.aborted) throw error
    } finally {
      this.wake = undefined
    }
  }

  private kick(): void {
    this.wake?.()
  }
}
