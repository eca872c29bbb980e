import type { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import { listDeployments, queueList, runOperation, type QueueJob } from './dokploy/api.js'
import { SPECS } from './operations.js'
import type { Settings } from './inputs.js'
import type { Outcome } from './outcome.js'
import { ticketFor, type Baseline } from './correlate.js'
import { buildMs, followDeployment, logTail, type WaitContext } from './wait.js'
import { inline } from './logger.js'

/** Time given to a deploy whose answer was lost to reach the queue before we look for it. */
const SETTLE_MS = 2000

/**
 * An application or compose deploy/redeploy: Dokploy queues it and answers at once.
 * Snapshot what exists, send it once, then follow the row it creates to the end.
 */
export async function runQueued(ctx: WaitContext, settings: Settings, outcome: Outcome): Promise<void> {
  const { client, log } = ctx
  const baseline: Baseline = { rowIds: new Set() }
  let queueSupported: boolean | undefined
  if (settings.wait) {
    // queue before rows: a job active in this snapshot already has its row in the next one
    baseline.queue = await optionalQueue(client)
    queueSupported = baseline.queue !== undefined
    baseline.rowIds = new Set((await listDeployments(client, ctx.spec, ctx.serviceId)).map((row) => row.deploymentId))
  }

  const accepted = await sendOnce(ctx, settings, baseline, queueSupported)
  if (!settings.wait) {
    outcome.status = 'queued'
    outcome.ok = true
    log.info(`Dokploy queued the ${settings.operation}; not waiting for it (wait: false).`)
    return
  }
  log.info(`Dokploy queued the ${settings.operation} (title "${settings.title}"). Following it until it ends.`)

  const jobs = accepted.jobs ?? (queueSupported ? await queueList(client) : [])
  const ticket = ticketFor(jobs, ctx.serviceId, baseline, settings.title)
  const result = await followDeployment(ctx, baseline, ticket, queueSupported === true, queueSupported ? jobs : undefined)

  outcome.status = result.status
  outcome.ok = result.status === 'done'
  outcome.deploymentId = result.row?.deploymentId
  outcome.matchedBy = result.identified && `${result.identified.by}${result.identified.ambiguous ? ' (ambiguous)' : ''}`
  outcome.buildMs = result.row && buildMs(result.row)
  outcome.errorMessage = result.row?.errorMessage ?? undefined
  if (!outcome.ok) {
    outcome.message = result.detail
    if (result.row) outcome.logTail = await logTail(client, result.row.deploymentId, settings.logLines, log)
  } else {
    log.info(result.detail)
  }
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
 * Sends the deploy. If its answer is lost after it left (reset, timeout, a proxy's 502), look for
 * the job before anything else: resend only when the queue shows it certainly never arrived.
 */
async function sendOnce(
  ctx: WaitContext,
  settings: Settings,
  baseline: Baseline,
  queueSupported: boolean | undefined
): Promise<{ jobs?: QueueJob[] }> {
  const { client, log } = ctx
  const call = {
    resource: settings.resource,
    operation: settings.operation,
    id: ctx.serviceId,
    mode: 'queued' as const,
    title: settings.title,
    description: settings.description
  }
  try {
    await runOperation(client, call)
    return {}
  } catch (error) {
    if (!(error instanceof DokployError) || error.delivery !== 'maybe-processed' || error.failure === 'cancelled') throw error
    log.warning(`${inline(error.message)} Checking whether Dokploy queued it before sending anything again.`)
  }
  await ctx.sleep(Math.min(SETTLE_MS, Math.max(0, ctx.deadline - (ctx.now ?? Date.now)())), ctx.signal)
  // a server already known to lack the queue listing is not asked again
  const jobs = queueSupported === false ? undefined : await optionalQueue(client)
  const rows = await listDeployments(client, ctx.spec, ctx.serviceId)
  const ours = (title: string | null | undefined): boolean => title === settings.title
  const queued = jobs?.some((job) => job.serviceId === ctx.serviceId && ours(job.title) && !baseline.queue?.some((b) => b.id === job.id))
  // with a snapshot, any new finished row counts too: a fast git build overwrites the title
  const started = rows.some(
    (row) => !baseline.rowIds.has(row.deploymentId) && (ours(row.title) || (settings.wait && row.status !== 'running'))
  )
  if (queued || started) {
    log.info('Dokploy did receive it: following that deployment, not sending it again.')
    return { jobs }
  }
  if (jobs === undefined) {
    throw new DokployError(
      'network',
      `The answer to ${SPECS[settings.resource].router}.${settings.operation} was lost and this Dokploy cannot list its queue, so whether it was queued cannot be known. Not resending, which could deploy twice: check the dashboard.`,
      'maybe-processed'
    )
  }
  log.info('Dokploy has no such job: it never arrived. Sending it once more.')
  await runOperation(client, call)
  return {}
}
