import type { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import { listDeployments, queueList, readLogs, readStatus, type DeploymentRow, type QueueJob } from './dokploy/api.js'
import type { ResourceSpec } from './operations.js'
import { findJob, identify, jobsAhead, type Baseline, type Identified, type Ticket } from './correlate.js'
import { formatDuration, type Log } from './logger.js'
import type { Sleep } from './sleep.js'

/** Polls start fast and back off to the cap; a line is printed on each change and a heartbeat every 30 s. */
export const FIRST_POLL_MS = 1000
const BACKOFF_FACTOR = 1.5
const HEARTBEAT_MS = 30_000
/** Our job gone from the queue with no row to show for it, this long: the server lost it (restart). */
export const LOST_AFTER_MS = 15_000
const LOG_TAIL_GRACE_MS = 5_000

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
}

export type FinalStatus = 'done' | 'error' | 'cancelled' | 'timeout' | 'lost'

export interface WaitResult {
  status: FinalStatus
  row?: DeploymentRow
  identified?: Identified
  /** What the log says about the end, for the failure message. */
  detail: string
}

class Poller {
  private delay = FIRST_POLL_MS
  private lastLine: number
  private lastState = ''

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
}

/**
 * Follows the deployment this step queued until it is final, the server loses it, or the
 * deadline passes. Polls only what it needs: the queue while our job waits, then this one
 * service's deployment list.
 */
export async function followDeployment(
  ctx: WaitContext,
  baseline: Baseline,
  ticket: Ticket,
  queueSupported: boolean,
  firstQueue?: QueueJob[]
): Promise<WaitResult> {
  const poller = new Poller(ctx, (ctx.now ?? Date.now)())
  let found: Identified | undefined
  let missingSince: number | undefined

  for (;;) {
    if (!found) {
      let job: QueueJob | undefined
      if (queueSupported) {
        const jobs = firstQueue ?? (await queueList(ctx.client))
        firstQueue = undefined
        job = findJob(jobs, ctx.serviceId, baseline, ticket)
        if (job) {
          ticket.jobId = job.id
          missingSince = undefined
        }
        if (job && job.state !== 'active') {
          const ahead = jobsAhead(jobs, job)
          poller.say(`queued:${ahead}`, `Queued: ${ahead === 0 ? 'next to build' : `behind ${ahead} other build(s) on this server`}.`, 'Still queued')
        }
      }
      if (!job || job.state === 'active') {
        found = identify(await listDeployments(ctx.client, ctx.spec, ctx.serviceId), baseline, ticket)
        if (found?.ambiguous) {
          ctx.log.warning(describeMatch(found, ticket))
          poller.enter('running')
        } else if (found) {
          poller.say('running', describeMatch(found, ticket), 'Still building')
        } else if (queueSupported && !job) {
          missingSince ??= poller.now()
          if (poller.now() - missingSince >= LOST_AFTER_MS) {
            return {
              status: 'lost',
              detail: `Dokploy accepted the deployment but it is neither in the build queue nor in the deployment list (for ${formatDuration(poller.now() - missingSince)}): the server probably restarted and lost its queue. Deploy again.`
            }
          }
        } else if (!queueSupported) {
          poller.say('waiting', 'Waiting for the build to start (this Dokploy cannot list its queue).', 'Still waiting for the build to start')
        }
      }
    } else {
      const rows = await listDeployments(ctx.client, ctx.spec, ctx.serviceId)
      const row = rows.find((r) => r.deploymentId === found?.row.deploymentId)
      if (!row) {
        return { status: 'lost', identified: found, row: found.row, detail: `Deployment ${found.row.deploymentId} vanished from Dokploy's list (was it deleted?).` }
      }
      found = { ...found, row }
    }

    if (found && found.row.status !== 'running') {
      const row = found.row
      const status: FinalStatus = row.status === 'done' ? 'done' : row.status === 'cancelled' ? 'cancelled' : 'error'
      const took = buildMs(row)
      const after = took === undefined ? '' : ` after ${formatDuration(took)} of build`
      return { status, row, identified: found, detail: `Deployment ${row.deploymentId} ended ${row.status}${after}.` }
    }
    if (found) poller.say('running', `Building: deployment ${found.row.deploymentId} is running.`, 'Still building')
    // the pause ends at the deadline at the latest; no request is started past it
    await poller.pause()
    if (poller.expired()) {
      const where = found ? `deployment ${found.row.deploymentId} was still running` : 'the build had not started'
      return {
        status: 'timeout',
        row: found?.row,
        identified: found,
        detail: `Gave up after ${poller.elapsed()} (wait-timeout): ${where}. Dokploy may still finish it; the action does not kill builds (killBuild stops every build on the host).`
      }
    }
  }
}

/** Build time by the server's own clock (startedAt and finishedAt, v0.22+), never mixed with ours. */
export function buildMs(row: DeploymentRow): number | undefined {
  const ms = Date.parse(row.finishedAt ?? '') - Date.parse(row.startedAt ?? row.createdAt ?? '')
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

function describeMatch(found: Identified, ticket: Ticket): string {
  const id = found.row.deploymentId
  switch (found.by) {
    case 'title':
      return `Build started: deployment ${id}, matched by the title this step sent.`
    case 'queue order':
      return `Build started: deployment ${id}, matched by its place in the queue (${ticket.rowsAhead} earlier build(s) of this service ahead of it).`
    default:
      return found.ambiguous
        ? `Deployment ${id} is the ${found.by === 'only new row' ? 'only' : 'newest'} new deployment, but it cannot be told apart from a deployment started by someone else (its title is no longer the one sent).`
        : `Build started: deployment ${id}, the only new deployment of this service.`
  }
}

/** The last lines of the build log, or undefined where the server cannot give them (before v0.29.6). */
export async function logTail(client: DokployClient, deploymentId: string, lines: number, log: Log): Promise<string | undefined> {
  if (lines <= 0) return undefined
  try {
    // after a timeout the deadline has passed: the tail may still take a few seconds
    const tail = await readLogs(client, deploymentId, lines, LOG_TAIL_GRACE_MS)
    return tail.trimEnd() || undefined
  } catch (error) {
    if (error instanceof DokployError && error.failure === 'cancelled') throw error
    log.info(
      error instanceof DokployError && error.failure === 'no-procedure'
        ? 'This Dokploy cannot return build logs (deployment.readLogs needs v0.29.6): see the dashboard.'
        : `Could not read the build log: ${error instanceof Error ? error.message : String(error)}`
    )
    return undefined
  }
}

/**
 * After the answer to a synchronous call was lost (a proxy's 524, a timeout, a reset), the
 * service status tells the outcome: follow it while it is `running`. Only the status is read.
 */
export async function followStatus(ctx: WaitContext, expected: string): Promise<{ ok: boolean; status: string; detail: string }> {
  const poller = new Poller(ctx, (ctx.now ?? Date.now)())
  for (;;) {
    const status = (await readStatus(ctx.client, ctx.spec, ctx.serviceId)) ?? 'unknown'
    if (status !== 'running') {
      const ok = status === expected
      return { ok, status, detail: ok ? `Dokploy reports ${ctx.spec.router} status ${status}.` : `Dokploy reports ${ctx.spec.router} status ${status}, expected ${expected}.` }
    }
    poller.say('running', `Dokploy is still working on the ${ctx.spec.router} (status running).`, 'Still running')
    await poller.pause()
    if (poller.expired()) return { ok: false, status: 'timeout', detail: `Gave up after ${poller.elapsed()} (wait-timeout): the ${ctx.spec.router} was still running.` }
  }
}
