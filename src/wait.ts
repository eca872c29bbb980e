import { listDeployments, queueList, type DeploymentRow, type QueueJob } from './dokploy/api.js'
import { identify, jobsAhead, observeQueue, possibleRows, type Baseline, type Identified, type Ticket } from './correlate.js'
import { formatDuration } from './logger.js'
import { Poller, type WaitContext } from './poller.js'
import { ended, followRow, keyRanOut, polling, timedOut, type Pace, type WaitResult } from './follow-row.js'
import { scaled } from './time-scale.js'

export type { WaitContext } from './poller.js'
export { buildMs, type FinalStatus, type Pace, type WaitResult } from './follow-row.js'

/** Our job gone from the queue with no row to show for it, this long: the server lost it (restart). */
export const LOST_AFTER_MS = scaled(15_000)

/**
 * Follows the deployment this step queued until it is final, the server loses it, or the deadline
 * passes. Polls only what it needs: the queue while our job waits, then this one service's rows.
 * Outages are ridden out until the deadline; `onIdentified` hears of our row the moment it is proven,
 * and `paceFor` may then say when to read its status again (the live log); otherwise it is polled.
 */
export async function followDeployment(
  ctx: WaitContext,
  baseline: Baseline,
  ticket: Ticket,
  queueSupported: boolean,
  firstQueue: QueueJob[] | undefined,
  onIdentified: (found: Identified) => void,
  paceFor?: (found: Identified, poller: Poller) => Promise<Pace | undefined>
): Promise<WaitResult> {
  const poller = new Poller(ctx, (ctx.now ?? Date.now)())
  const found = await findOwnRow(ctx, poller, baseline, ticket, queueSupported, firstQueue)
  if ('status' in found) return found
  onIdentified(found)
  poller.say('running', describeMatch(found), 'Still building')
  if (found.row.status !== 'running') return ended(found)
  const pace = (await paceFor?.(found, poller)) ?? polling(poller)
  return followRow(ctx, poller, found, pace)
}

/** The correlation: the queue while our job waits, then the service's rows until one is proven ours. */
async function findOwnRow(
  ctx: WaitContext,
  poller: Poller,
  baseline: Baseline,
  ticket: Ticket,
  queueSupported: boolean,
  firstQueue: QueueJob[] | undefined
): Promise<Identified | WaitResult> {
  let missingSince: number | undefined
  for (;;) {
    // a silence long enough to hide a restart, even one the client's retries bridged, breaks the view of the queue:
    // a restart loses it and numbers jobs from job-1 again
    const outages = ctx.client.stats.outages
    const noteOutages = (): void => {
      if (ctx.client.stats.outages > outages) ticket.continuous = false
    }
    try {
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
        const found = identify(rows, baseline, ticket, job)
        if (found) {
          poller.answered()
          return found
        }
        if (job) {
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
      poller.answered()
    } catch (error) {
      const unknown = keyRanOut(error, undefined)
      if (unknown) return unknown
      poller.failed(error)
    } finally {
      noteOutages()
    }

    // the pause ends at the deadline at the latest; no request is started past it
    if (!poller.expired()) await poller.pause()
    if (poller.expired()) return timedOut(poller, undefined)
  }
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
