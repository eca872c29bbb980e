import { queueList, type DeploymentRow, type QueueJob } from './dokploy/api.js'
import { identify, jobsAhead, observeQueue, possibleRows, type Baseline, type Identified, type Ticket } from './correlate.js'
import { formatDuration } from './logger.js'
import { rowsOf, type Poller, type WaitContext } from './poller.js'
import { keyRanOut, timedOut, type WaitResult } from './follow-row.js'

/** What the step knows when it starts looking for its own deployment. */
export interface Search {
  /** The rows listed before the deploy. */
  baseline: Baseline
  ticket: Ticket
  /** Whether this Dokploy lists its queue (v0.28.3+). */
  queueSupported: boolean
  /** The queue as seen right after the deploy, if it was read then. */
  firstQueue?: QueueJob[]
}

/**
 * Phase 2: which deployment row is the step's own. Polls only what it needs: the queue while its job
 * waits, then this one service's rows until one is proven its own. Ends early when the server lost the
 * job, when a row that may be its own cannot be proven, or at the deadline.
 */
export function identifyOwnRow(ctx: WaitContext, poller: Poller, search: Search): Promise<Identified | WaitResult> {
  const { baseline, ticket, queueSupported } = search
  let firstQueue = search.firstQueue
  let missingSince: number | undefined
  const look = async (): Promise<Identified | WaitResult | undefined> => {
    // a silence long enough to hide a restart, even one the client's retries bridged, breaks the view of the
    // queue: a restart loses it and numbers jobs from job-1 again
    const outages = ctx.client.stats.outages
    try {
      const jobs = queueSupported ? (firstQueue ?? (await queueList(ctx.client))) : undefined
      firstQueue = undefined
      const job = jobs && observeQueue(ticket, jobs)
      if (job) missingSince = undefined
      if (job?.state === 'waiting') {
        const ahead = jobsAhead(jobs ?? [], job)
        poller.say(`queued:${ahead}`, `Queued: ${ahead <= 0 ? 'next to build' : `behind ${ahead} other build(s) on this server`}.`, 'Still queued')
        return undefined
      }
      const rows = await rowsOf(ctx)
      if (ctx.client.stats.outages > outages) ticket.continuous = false
      const found = identify(rows, baseline, ticket, job)
      if (found) {
        poller.say('running', describeMatch(found), 'Still building')
        return found
      }
      if (job) {
        poller.say('starting', 'Build started; waiting for Dokploy to create its deployment row.', 'Still starting')
        return undefined
      }
      missingSince ??= poller.now()
      const ended = unprovable(rows, baseline, ticket, queueSupported)
      if (poller.now() - missingSince >= ctx.timings.lostAfterMs && (queueSupported || ended)) return ended ?? lost(poller.now() - missingSince)
      if (!queueSupported) poller.say('waiting', 'Waiting for the build to start (this Dokploy cannot list its queue).', 'Still waiting for the build to start')
      return undefined
    } finally {
      if (ctx.client.stats.outages > outages) ticket.continuous = false
    }
  }
  return poller.until(look, { expired: () => timedOut(poller, undefined), refused: (error) => keyRanOut(error, undefined) })
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

function describeMatch(found: Identified): string {
  const id = found.row.deploymentId
  switch (found.by) {
    case 'reference':
      return `Build started: deployment ${id}, matched by the reference this step put in its description.`
    case 'start time':
      return `Deployment ${id}: matched as the first deployment of this service started after this step's queue job.`
    default:
      return `Deployment ${id}: matched by its place among this service's builds queued with this step's job.`
  }
}
