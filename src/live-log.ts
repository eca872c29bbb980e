import type { LiveLogSetup } from './dokploy/log-socket.js'
import { failureKind } from './dokploy/errors.js'
import { logHost, socketRuledOut } from './dokploy/log-socket.js'
import type { Identified } from './correlate.js'
import { polling, type FollowPace } from './follow-row.js'
import { LogPrinter } from './log-lines.js'
import { LogStream } from './log-stream.js'
import { inline } from './logger.js'
import type { Poller, WaitContext } from './poller.js'
import { redact } from './secrets.js'
import type { ServiceSource } from './service.js'
import type { Timings } from './timings.js'

/**
 * The schedule half of the live log: while the build log streams (log-stream.ts), the follower reads the
 * status when the log says the end may have come (one of Dokploy's last lines, or the socket closing),
 * and after a long quiet in case the socket stalled. When there is no stream, it polls.
 *
 * When Dokploy marks the deployment after its last line (docs/dokploy-timing.md): a failed build at once
 * (within about a millisecond on a real v0.30.2), a compose stack at once, an application once it has
 * updated its Swarm service (about a second, longer on a busy swarm). The status is read 150 ms after that
 * line, then a second after it, then every half second for a few seconds, then less and less often.
 */

/** When the k-th look (from 0) after an end line is due, in ms after that line. */
export function endLookOffset(k: number, timings: Timings): number {
  if (k === 0) return timings.firstEndLookMs
  let offset = timings.settleEndLookMs
  let step = timings.endLookMs
  for (let i = 1; i < k; i++) {
    offset += step
    if (i >= timings.quickEndLooks - 1) step *= timings.endLookBackoff
  }
  return Math.round(offset)
}

export class LiveLog implements FollowPace {
  private readonly stream: LogStream
  private lastDataAt: number
  private lastLookAt: number
  /** When the latest line with text was one of Dokploy's last lines. */
  private endAt?: number
  private endLooks = 0
  private lookNow = false
  private wake?: () => void

  private constructor(
    private readonly ctx: WaitContext,
    setup: LiveLogSetup,
    private readonly poller: Poller,
    private found: Identified,
    private readonly tailLines: number
  ) {
    this.lastDataAt = this.lastLookAt = this.now()
    this.stream = new LogStream(setup, found.row, this.printer(setup, undefined), {
      data: () => (this.lastDataAt = this.now()),
      line: (end, text) => {
        if (end) {
          this.endAt = this.now()
          this.endLooks = 0
          this.kick()
        } else if (text) {
          // the build went on past a line that looked like its last
          this.endAt = undefined
        }
      },
      dropped: () => {
        // the end of the build, a restart or a proxy: read the status now, then reopen if it still runs
        this.lookNow = true
        this.kick()
      },
      gone: () => this.kick()
    })
  }

  /**
   * Streams the log of the deployment the step proved its own. The service's secrets are learned first
   * (its `.one`, through `service`), so that no line can print one. Anything that rules the socket out
   * makes it a polling pace, with one notice saying why.
   */
  static async start(ctx: WaitContext, setup: LiveLogSetup, poller: Poller, found: Identified, tailLines: number, service: ServiceSource): Promise<LiveLog> {
    const live = new LiveLog(ctx, setup, poller, found, tailLines)
    const ruledOut = socketRuledOut(setup) ?? (found.row.logPath ? undefined : `Dokploy did not give deployment ${found.row.deploymentId}'s log path`)
    if (ruledOut) {
      live.stream.fallBack(ruledOut)
      return live
    }
    try {
      const details = await service.read()
      // the log is on the build server, else where the service runs (the row never names the latter)
      live.stream.prepare(live.printer(setup, details.name), logHost(found.row, details))
    } catch (error) {
      if (ctx.signal?.aborted) throw error
      live.stream.fallBack(`the service's secrets could not be read first (${failureKind(error)}), and a build log may print them`)
      return live
    }
    live.stream.connect()
    return live
  }

  /** Whether the stream held the whole log up to the final status. */
  get complete(): boolean {
    return this.stream.complete
  }

  /** The last `log-lines` lines of a complete stream, masked; undefined otherwise. */
  tail(): string | undefined {
    return this.stream.tail()
  }

  running(found: Identified): void {
    this.found = found
    this.lastLookAt = this.now()
    if (this.stream.state === 'polling') polling(this.poller).running(found)
  }

  async next(): Promise<void> {
    const { timings } = this.ctx
    for (;;) {
      if (this.stream.state === 'polling') return this.poller.next()
      if (this.lookNow) {
        this.lookNow = false
        return
      }
      // the status was read after the drop and the build goes on: the one reopen
      if (this.stream.state === 'dropped') this.stream.reopen(this.found.row)
      const now = this.now()
      const endDue = this.endAt === undefined ? Infinity : this.endAt + endLookOffset(this.endLooks, timings)
      const due = Math.min(endDue, Math.max(this.lastDataAt, this.lastLookAt) + timings.quietLookMs)
      if (now >= due) {
        if (now >= endDue) this.endLooks++
        return
      }
      const left = this.ctx.deadline - now
      if (left <= 0) return
      await this.pause(Math.min(due - now, left))
    }
  }

  /** Stops the stream and ends the group. */
  close(): void {
    this.stream.close()
  }

  private printer(setup: LiveLogSetup, name: string | undefined): LogPrinter {
    const heading = `Build log of ${inline(redact(name ?? this.ctx.serviceId))} · deployment ${this.found.row.deploymentId}`
    return new LogPrinter(setup.sink, heading, this.tailLines)
  }

  private now(): number {
    return this.ctx.clock.now()
  }

  /** Sleeps until `ms` pass, the stream wakes it, or the runner cancels (which rejects). */
  private async pause(ms: number): Promise<void> {
    const woken = new AbortController()
    this.wake = () => woken.abort()
    const signal = this.ctx.signal ? AbortSignal.any([this.ctx.signal, woken.signal]) : woken.signal
    try {
      await this.ctx.clock.sleep(ms, signal)
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
