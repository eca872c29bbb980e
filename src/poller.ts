import type { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import type { ResourceSpec } from './operations.js'
import { formatDuration, inline, type Log } from './logger.js'
import type { Sleep } from './sleep.js'
import type { LiveLogSetup } from './dokploy/log-socket.js'
import { scaled } from './time-scale.js'

/** Polls start fast and back off to the cap; a line is printed on each change and a heartbeat every 30 s. */
export const FIRST_POLL_MS = scaled(1000)
const BACKOFF_FACTOR = 1.5
const HEARTBEAT_MS = 30_000

export interface WaitContext {
  client: DokployClient
  spec: ResourceSpec
  serviceId: string
  deadline: number
  pollCapMs: number
  log: Log
  sleep: Sleep
  signal?: AbortSignal
  now?: () => number
  /** Where a deploy's build log can be streamed from (with `log: live`). */
  liveLog?: LiveLogSetup
}

/** Failures a wait rides out until its deadline: the server restarting, a proxy's bad minute, a network blip. */
const PASSING: ReadonlySet<string> = new Set(['network', 'gateway', 'unavailable', 'timeout', 'rate-limited', 'truncated'])

export class Poller {
  private delay = FIRST_POLL_MS
  private lastLine: number
  private lastState = ''
  private failingSince?: number

  constructor(private readonly ctx: WaitContext, private readonly started: number) {
    this.lastLine = started
  }

  now(): number {
    return (this.ctx.now ?? Date.now)()
  }

  elapsed(): string {
    return formatDuration(this.now() - this.started)
  }

  /** Prints when the state changes, and otherwise at most a heartbeat every 30 s. */
  say(state: string, line: string, heartbeat: string): void {
    const now = this.now()
    if (state !== this.lastState) {
      this.ctx.log.info(line)
      this.lastState = state
      this.lastLine = now
    } else if (now - this.lastLine >= HEARTBEAT_MS) {
      this.ctx.log.info(`${heartbeat} (${this.elapsed()})`)
      this.lastLine = now
    }
  }

  /** A change of state announced elsewhere (as a warning). */
  enter(state: string): void {
    this.lastState = state
    this.lastLine = this.now()
  }

  expired(): boolean {
    return this.now() >= this.ctx.deadline
  }

  /** Sleeps for the next poll, never past the deadline. */
  async pause(): Promise<void> {
    await this.ctx.sleep(Math.min(this.delay, Math.max(0, this.ctx.deadline - this.now())), this.ctx.signal)
    this.delay = Math.min(this.ctx.pollCapMs, Math.round(this.delay * BACKOFF_FACTOR))
  }

  /**
   * A poll failed after the client's own retries. A passing failure is ridden out until the deadline
   * (one line when it starts); anything else is rethrown.
   */
  failed(error: unknown): void {
    if (!(error instanceof DokployError) || !PASSING.has(error.failure)) throw error
    if (this.failingSince === undefined) {
      this.failingSince = this.now()
      this.ctx.log.info(`Dokploy is not answering (${inline(error.message)}). Still following until wait-timeout.`)
    }
  }

  /** A poll succeeded: say so if the previous ones had failed. */
  answered(): void {
    if (this.failingSince === undefined) return
    this.ctx.log.info(`Dokploy answers again after ${formatDuration(this.now() - this.failingSince)}.`)
    this.failingSince = undefined
  }
}
