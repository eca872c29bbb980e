import { randomBytes } from 'node:crypto'
import type { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import { listDeployments, queueList, runOperation, type QueueJob } from './dokploy/api.js'
import type { Settings } from './inputs.js'
import { UnknownOutcome, type Outcome } from './outcome.js'
import { newTicket, observeQueue, possibleRows, type Baseline, type Ticket } from './correlate.js'
import { buildMs, followDeployment, type WaitContext } from './wait.js'
import { logTail } from './log-tail.js'
import { LiveLog } from './live-log.js'
import { inline } from './logger.js'
import { scaled } from './time-scale.js'

/** Time given to a deploy whose answer was lost to reach the queue before we look for it. */
const SETTLE_MS = scaled(2000)
/** Slack for a proxy whose clock (its Date header) runs ahead of Dokploy's. */
const CLOCK_SLACK_MS = 2000

/** Moments of a deploy the layer above hears of (it records them as GitHub deployment statuses). */
export type Progress = 'accepted' | 'building'

/** The description sent: the user's, plus a reference no other deploy carries, so the queue job and the row can be told apart. */
export const markDescription = (description: string, reference = randomBytes(4).toString('hex')): string =>
  `${description} · ref ${reference}`

/**
 * An application or compose deploy/redeploy: Dokploy queues it and answers at once.
 * Snapshot the rows, send it once, then follow the row it creates to the end.
 */
export async function runQueued(ctx: WaitContext, settings: Settings, outcome: Outcome, onProgress?: (progress: Progress) => void): Promise<void> {
  const { client, log } = ctx
  const marker = markDescription(settings.description)
  const baseline: Baseline = {}
  if (settings.wait) baseline.rowIds = new Set((await listDeployments(client, ctx.spec, ctx.serviceId)).map((row) => row.deploymentId))

  const ticket = newTicket(ctx.serviceId, marker)
  const accepted = await sendOnce(ctx, settings, baseline, ticket)
  onProgress?.('accepted')
  if (!settings.wait) {
    outcome.status = 'queued'
    outcome.ok = true
    log.info(`Dokploy queued the ${settings.operation}; not waiting for it (wait: false).`)
    return
  }
  log.info(`Dokploy queued the ${settings.operation} (title "${settings.title}"). Following it until it ends.`)

  const jobs = accepted.jobs ?? (accepted.queueSupported === false ? undefined : await optionalQueue(client))
  if (jobs) observeQueue(ticket, jobs)
  place(outcome, ticket)
  let live: LiveLog | undefined
  let result
  try {
    result = await followDeployment(
      ctx,
      baseline,
      ticket,
      jobs !== undefined,
      jobs,
      (found) => {
        // set at once, so a later failure or a cancellation still reports it
        outcome.deploymentId = found.row.deploymentId
        outcome.matchedBy = found.by
        place(outcome, ticket)
        onProgress?.('building')
      },
      async (found, poller) => {
        if (settings.log !== 'live' || !ctx.liveLog) return undefined
        live = await LiveLog.start(ctx, ctx.liveLog, poller, found, settings.logLines)
        return live
      }
    )
  } finally {
    // ends the log's group before anything else is printed, whatever ended the wait
    live?.close()
  }
  place(outcome, ticket)

  outcome.status = result.status
  outcome.ok = result.status === 'done'
  outcome.deploymentId = result.row?.deploymentId ?? outcome.deploymentId
  outcome.buildMs = result.row && buildMs(result.row)
  outcome.errorMessage = result.row?.errorMessage ?? undefined
  if (!outcome.ok) {
    outcome.message = result.detail
    // a stream that held the whole log already has its tail: no readLogs
    if (result.row && settings.log !== 'none') outcome.logTail = live?.tail() ?? (await logTail(client, result.row.deploymentId, settings.logLines, log))
  } else {
    log.info(result.detail)
  }
}

/** A service given by id: our queue job's dashboard link tells where it lives, without reading its secrets. */
function place(outcome: Outcome, ticket: Ticket): void {
  if (!ticket.place || outcome.projectId) return
  outcome.projectId = ticket.place.projectId
  outcome.environmentId = ticket.place.environmentId
}

async function optionalQueue(client: DokployClient): Promise<QueueJob[] | undefined> {
  try {
    return await queueList(client)
  } catch (error) {
    if (error instanceof DokployError && error.failure === 'no-procedure') return undefined
    throw error
  }
}

/**
 * Sends the deploy. If its answer is lost after it left (reset, timeout, a proxy's 502), look for it
 * before anything else: follow it when its reference shows up, resend only when the queue and the rows
 * prove it never arrived, and otherwise stop with `unknown` rather than risk a second deployment.
 */
async function sendOnce(
  ctx: WaitContext,
  settings: Settings,
  baseline: Baseline,
  ticket: Ticket
): Promise<{ jobs?: QueueJob[]; queueSupported?: boolean }> {
  const { client, log } = ctx
  const now = ctx.now ?? Date.now
  const call = {
    resource: ctx.spec.router,
    operation: settings.operation,
    id: ctx.serviceId,
    mode: 'queued' as const,
    title: settings.title,
    description: ticket.marker
  }
  const sentAt = now()
  try {
    await runOperation(client, call)
    return {}
  } catch (error) {
    if (!(error instanceof DokployError) || error.delivery !== 'maybe-processed' || error.failure === 'cancelled') throw error
    log.warning(`${inline(error.message)} Checking whether Dokploy queued it before sending anything again.`)
  }
  await ctx.sleep(Math.min(SETTLE_MS, Math.max(0, ctx.deadline - now())), ctx.signal)
  const jobs = await optionalQueue(client)
  const rows = await listDeployments(client, ctx.spec, ctx.serviceId)
  // no row of ours can have started before the deploy left: bound that moment by the server's own clock
  const sentBy = client.serverTimeAtLeast(sentAt)
  ticket.floor = sentBy === undefined ? undefined : sentBy - CLOCK_SLACK_MS
  const job = jobs && observeQueue(ticket, jobs)
  if (job || rows.some((row) => row.description === ticket.marker)) {
    log.info('Dokploy did receive it: following that deployment, not sending it again.')
    return { jobs, queueSupported: jobs !== undefined }
  }
  const op = `${ctx.spec.router}.${settings.operation}`
  const possible = possibleRows(rows, baseline, ticket)
  if (possible.length) {
    throw new UnknownOutcome(
      `The answer to ${op} was lost, and deployment(s) ${possible.map((row) => row.deploymentId).join(', ')} ended since, with title and description overwritten by the commit: one may be this step's or someone else's. Not resending, which could deploy twice: check the dashboard.`
    )
  }
  if (jobs === undefined) {
    throw new UnknownOutcome(
      `The answer to ${op} was lost and this Dokploy cannot list its queue, so whether it was queued cannot be known. Not resending, which could deploy twice: check the dashboard.`
    )
  }
  log.info('Dokploy has no trace of it in its queue or its deployments: it never arrived. Sending it once more.')
  await runOperation(client, call)
  return { queueSupported: true }
}
