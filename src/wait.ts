import { DokployError } from './dokploy/errors.js'
import { listDeployments, queueList, type DeploymentRow, type QueueJob } from './dokploy/api.js'
import { identify, jobsAhead, observeQueue, possibleRows, type Baseline, type Identified, type Ticket } from './correlate.js'
import { formatDuration } from './logger.js'
import { Poller, type WaitContext } from './poller.js'

export type { WaitContext } from './poller.js'

/** Our job gone from the queue with no row to show for it, this long: the server lost it (restart). */
export const LOST_AFTER_MS = 15_000

export type FinalStatus = 'done' | 'error' | 'cancelled' | 'timeout' | 'lost' | 'unknown'

export interface WaitResult {
  status: FinalStatus
  row?: DeploymentRow
  identified?: Identified
  /** What the log says about the end, for the failure message. */
  detail: string
}

/**
 * Follows the deployment this step queued until it is final, the server loses it, or the deadline
 * passes. Polls only what it needs: the queue while our job waits, then this one service's rows.
 * Outages are ridden out until the deadline; `onIdentified` hears of our row the moment it is proven.
 */
export async function followDeployment(
  ctx: WaitContext,
  baseline: Baseline,
  ticket: Ticket,
  queueSupported: boolean,
  firstQueue: QueueJob[] | undefined,
  onIdentified: (found: Identified) => void
): Promise<WaitResult> {
  const poller = new Poller(ctx, (ctx.now ?? Date.now)())
  let found: Identified | undefined
  let missingSince: number | undefined

  for (;;) {
    // a silence long enough to hide a restart, even one the client's retries bridged, breaks the view of the queue:
    // a restart loses it and numbers jobs from job-1 again
    const outages = ctx.client.stats.outages
    const noteOutages = (): void => {
      if (ctx.client.stats.outages > outages) ticket.continuous = false
    }
    try {
      if (!found) {
        const jobs = queueSupported ? (firstQueue ?? (await queueList(ctx.client))) : undefined
        firstQueue = undefined
        const job = jobs && observeQueue(ticket, jobs)
        if (job) missingSince = undefined
        if (job?.state === 'waiting') {
          const ahead = jobsAhead(jobs ?? [], job)
          poller.say(`queued:${ahead}`, `Queued: ${ahead <= 0 ? 'next to build' : `behind ${ahead} other build(s) on this server`}.`, 'Still queued')
        } else {
          const rows = await listDeployments(ctx.client, ctx.spec, ctx.serviceId)
          noteOutages()
          found = identify(rows, baseline, ticket, job)
          if (found) {
            onIdentified(found)
            poller.say('running', describeMatch(found), 'Still building')
          } else if (job) {
            poller.say('starting', 'Build started; waiting for Dokploy to create its deployment row.', 'Still starting')
          } else {
            missingSince ??= poller.now()
            const ended = unprovable(rows, baseline, ticket, queueSupported)
            if (poller.now() - missingSince >= LOST_AFTER_MS && (queueSupported || ended)) {
              return ended ?? lost(poller.now() - missingSince)
            }
            if (!queueSupported) poller.say('waiting', 'Waiting for the build to start (this Dokploy cannot list its queue).', 'Still waiting for the build to start')
          }
        }
      } else {
        const rows = await listDeployments(ctx.client, ctx.spec, ctx.serviceId)
        const row = rows.find((r) => r.deploymentId === found?.row.deploymentId)
        if (!row) return { status: 'lost', identified: found, row: found.row, detail: `Deployment ${found.row.deploymentId} vanished from Dokploy's list (was it deleted?).` }
        found = { ...found, row }
      }
      poller.answered()
    } catch (error) {
      const unknown = keyRanOut(error, found)
      if (unknown) return unknown
      poller.failed(error)
    } finally {
      noteOutages()
    }

    if (found && found.row.status !== 'running') return ended(found)
    if (found) poller.say('running', `Building: deployment ${found.row.deploymentId} is running.`, 'Still building')
    // the pause ends at the deadline at the latest; no request is started past it
    if (!poller.expired()) await poller.pause()
    if (poller.expired()) {
      const where = found ? `deployment ${found.row.deploymentId} was still running` : 'the build had not started'
      return {
        status: 'timeout',
        row: found?.row,
        identified: found,
        detail: `Still running when the step stopped waiting after ${poller.elapsed()} (wait-timeout): ${where}. Dokploy may still finish it; the action does not kill builds (killBuild stops every build on the host).`
      }
    }
  }
}

function ended(found: Identified): WaitResult {
  const row = found.row
  const status: FinalStatus = row.status === 'done' ? 'done' : row.status === 'cancelled' ? 'cancelled' : 'error'
  const took = buildMs(row)
  const after = took === undefined ? '' : ` after ${formatDuration(took)} of build`
  const restart = status === 'cancelled' ? ' (Dokploy cancels running deployments when it restarts)' : ''
  return { status, row, identified: found, detail: `Deployment ${row.deploymentId} ended ${row.status}${after}${restart}.` }
}

const lost = (ms: number): WaitResult => ({
  status: 'lost',
  detail: `Dokploy accepted the deployment but it is neither in the build queue nor in the deployment list (for ${formatDuration(ms)}): the server probably restarted and lost its queue. Deploy again.`
})

/**
 * Our job left the queue (or cannot be seen) and a new row ended whose description was overwritten before
 * the step saw it: it may be ours or a neighbour's, and nothing proves which. Never reported as ours.
 */
function unprovable(rows: DeploymentRow[], baseline: Baseline, ticket: Ticket, queueSupported: boolean): WaitResult | undefined {
  const possible = possibleRows(rows, baseline, ticket)
  if (!possible.length || (!queueSupported && rows.some((row) => row.status === 'running'))) return undefined
  const ids = possible.map((row) => `${row.deploymentId} (${row.status})`).join(', ')
  const why = queueSupported
    ? ticket.continuous
      ? 'its queue job was not seen'
      : 'Dokploy was unreachable (or restarted) in between'
    : 'this Dokploy (before v0.28.3) cannot list its queue'
  return {
    status: 'unknown',
    detail: `The deploy was queued, but its outcome cannot be proven: new deployment(s) ${ids} ended with their title and description overwritten by the commit before the step saw them, and ${why}, so they may be someone else's. Check the dashboard; re-running this step deploys again.`
  }
}

/** The key stopped working after our deploy was queued (a rate limit runs out this way): the deploy stands, its end is unknown. */
function keyRanOut(error: unknown, found: Identified | undefined): WaitResult | undefined {
  if (!(error instanceof DokployError) || error.failure !== 'unauthorized') return undefined
  const which = found ? `deployment ${found.row.deploymentId}` : 'the deployment'
  return {
    status: 'unknown',
    row: found?.row,
    identified: found,
    detail: `Dokploy queued ${which}, then rejected the API key while the step followed it (most likely its rate limit ran out), so its outcome is unknown. Do not re-run this step to retry: that deploys again. Check the dashboard, and use a key without a rate limit.`
  }
}

/** Build time by the server's own clock (startedAt and finishedAt, v0.22+), never mixed with ours. */
export function buildMs(row: DeploymentRow): number | undefined {
  const ms = Date.parse(row.finishedAt ?? '') - Date.parse(row.startedAt ?? row.createdAt ?? '')
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

function describeMatch(found: Identified): string {
  const id = found.row.deploymentId
  switch (found.by) {
    case 'marker':
      return `Build started: deployment ${id}, matched by the reference this step put in its description.`
    case 'start time':
      return `Deployment ${id}: matched as the first deployment of this service started after this step's queue job.`
    default:
      return `Deployment ${id}: matched by its place among this service's builds queued with this step's job.`
  }
}
