import type { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import type { ResourceSpec } from './operations.js'
import { formatDuration, inline, type Log } from './logger.js'
import type { Clock } from './clock.js'
import type { Timings } from './timings.js'
import type { LiveLogSetup } from './dokploy/log-socket.js'
import { listDeployments, type DeploymentRow } from './dokploy/api.js'

/** What following one service needs: the client, the service, the bounds, the log, the clock and the timings. */
export interface WaitContext {
  client: DokployClient
  spec: ResourceSpec
  serviceId: string
  deadline: number
  pollCapMs: number
  log: Log
  clock: Clock
  timings: Timings
  signal?: AbortSignal
  /** Where a deploy's build log can be streamed from (with `log: live`). */
  liveLog?: LiveLogSetup
  /** The rows followed, when they are not the service's own (a pull request's preview). */
  rows?: () => Promise<DeploymentRow[]>
}

/** The deployment rows the step follows: the service's, or a preview's. */
export const rowsOf = (ctx: WaitContext): Promise<DeploymentRow[]> => ctx.rows?.() ?? listDeployments(ctx.client, ctx.spec, ctx.serviceId)

/** When a poll loop looks again: on a timer (polling), or when the live build log says the end may have come. */
export interface Pace {
  /** Resolves when the status is worth reading again, never past the deadline; rejects on cancellation. */
  next: () => Promise<void>
}

/** Failures a wait rides out until its deadline: the server restarting, a proxy's bad minute, a network blip. */
const PASSING: ReadonlySet<string> = new Set(['network', 'gateway', 'unavailable', 'timeout', 'rate-limited', 'truncated'])

/**
 * The one poll loop of the action, and what it prints. Polls start fast and back off to the cap; a line is
 * printed on each change of state and a heartbeat while nothing changes.
 */
export class Poller implements Pace {
  private delay: number
  private lastLine: number
  private lastState = ''
  private failingSince?: number
  private readonly started: number

  constructor(private readonly ctx: WaitContext) {
    this.started = this.lastLine = ctx.clock.now()
    this.delay = ctx.timings.firstPollMs
  }

  now(): number {
    return this.ctx.clock.now()
  }

  elapsed(): string {
    return formatDuration(this.now() - this.started)
  }

  /**
   * Looks until a look decides (returns a value), the deadline passes (`expired`), or a failure is not one
   * to ride out (`refused` may turn it into a result; otherwise it is thrown). Between looks it waits for
   * the pace: its own timer, or the live log's.
   */
  async until<T>(look: () => Promise<T | undefined>, options: { expired: () => T; pace?: Pace; refused?: (error: unknown) => T | undefined }): Promise<T> {
    for (;;) {
      try {
        const result = await look()
        this.answered()
        if (result !== undefined) return result
      } catch (error) {
        const result = options.refused?.(error)
        if (result !== undefined) return result
        this.failed(error)
      }
      // the pause ends at the deadline at the latest; no request is started past it
      if (!this.expired()) await (options.pace ?? this).next()
      if (this.expired()) return options.expired()
    }
  }

  /** Prints when the state changes, and otherwise at most a heartbeat every 30 s. */
  say(state: string, line: string, heartbeat: string): void {
    const now = this.now()
    if (state !== this.lastState) {
      this.ctx.log.info(line)
      this.lastState = state
      this.lastLine = now
    } else if (now - this.lastLine >= this.ctx.timings.heartbeatMs) {
      this.ctx.log.info(`${heartbeat} (${this.elapsed()})`)
      this.lastLine = now
    }
  }

  expired(): boolean {
    return this.now() >= this.ctx.deadline
  }

  /** Sleeps for the next poll, never past the deadline. */
  async next(): Promise<void> {
    await this.ctx.clock.sleep(Math.min(this.delay, Math.max(0, this.ctx.deadline - this.now())), this.ctx.signal)
    this.delay = Math.min(this.ctx.pollCapMs, Math.round(this.delay * this.ctx.timings.pollBackoff))
  }

  /**
   * A look failed after the client's own retries. A passing failure is ridden out until the deadline
   * (one line when it starts); anything else is rethrown.
   */
  private failed(error: unknown): void {
    if (!(error instanceof DokployError) || !PASSING.has(error.failure)) throw error
    if (this.failingSince === undefined) {
      this.failingSince = this.now()
      this.ctx.log.info(`Dokploy is not answering (${inline(error.message)}). Still following until wait-timeout.`)
    }
  }

  /** A look succeeded: say so if the previous ones had failed. */
  private answered(): void {
    if (this.failingSince === undefined) return
    this.ctx.log.info(`Dokploy answers again after ${formatDuration(this.now() - this.failingSince)}.`)
    this.failingSince = undefined
  }
}
