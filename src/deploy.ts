import { randomBytes } from 'node:crypto'
import type { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import { listDeployments, queueList, runOperation, type QueueJob } from './dokploy/api.js'
import type { Settings } from './inputs.js'
import { UnknownOutcome, type Recorder } from './outcome.js'
import { newTicket, observeQueue, possibleRows, type Baseline, type Identified, type Ticket } from './correlate.js'
import { identifyOwnRow } from './identify.js'
import { ended, followRow, type WaitResult } from './follow-row.js'
import { Poller, type WaitContext } from './poller.js'
import { failureTail } from './log-tail.js'
import { LiveLog } from './live-log.js'
import { inline } from './logger.js'
import type { ServiceSource } from './service.js'
import { ALREADY_STARTED, takeBack } from './take-back.js'

/** The description sent: the user's, plus a reference no other deploy carries, so the queue job and the row can be told apart. */
export const markDescription = (description: string, reference = randomBytes(4).toString('hex')): string =>
  `${description} · ref ${reference}`

/**
 * An application or compose deploy/redeploy: Dokploy queues it and answers at once. Its phases, each
 * returning its result to be recorded: snapshot the rows and send the deploy once; identify the row it
 * created; follow that row to its end (streaming its log with `log: live`).
 */
export async function runQueued(ctx: WaitContext, settings: Settings, record: Recorder, service: ServiceSource): Promise<void> {
  const { client, log } = ctx
  const baseline: Baseline = {}
  if (settings.wait) baseline.rowIds = new Set((await listDeployments(client, ctx.spec, ctx.serviceId)).map((row) => row.deploymentId))

  const ticket = newTicket(ctx.serviceId, markDescription(settings.description))
  const sent = await send(ctx, settings, baseline, ticket)
  record.accepted()
  if (!settings.wait) {
    record.queued()
    log.info(`Dokploy queued the ${settings.operation}; not waiting for it (wait: false).`)
    return
  }
  log.info(`Dokploy queued the ${settings.operation} (title "${settings.title}"). Following it until it ends.`)

  // the first look at the queue comes right after the deploy's answer: nothing else is awaited in between
  const jobs = sent.jobs ?? (sent.queueSupported === false ? undefined : await optionalQueue(client))
  if (jobs) observeQueue(ticket, jobs)
  record.place(ticket.place)
  const poller = new Poller(ctx)
  const cancelled = (): boolean => settings.cancelQueued && (ctx.signal?.aborted ?? false)
  let found
  try {
    found = await identifyOwnRow(ctx, poller, { baseline, ticket, queueSupported: jobs !== undefined, firstQueue: jobs })
  } catch (error) {
    // the runner cancelled the step before its build started: take the deploy back out of the queue
    if (cancelled()) record.tookBack('the runner cancelled the job', await takeBack(ctx, ticket))
    throw error
  }
  record.place(ticket.place)
  if ('status' in found) {
    if (found.status === 'timeout' && settings.cancelQueued) {
      const taken = await takeBack(ctx, ticket)
      record.tookBack('wait-timeout ended', taken)
      if (taken.removed) found = { ...found, detail: `Still queued when the step stopped waiting after ${poller.elapsed()} (wait-timeout): the build had not started.` }
    }
    return record.followed(found)
  }
  record.identified(found, ticket.job?.timestamp)
  await followToEnd(ctx, settings, record, service, poller, found, { takesBack: settings.cancelQueued })
}

/**
 * Phase 3, for the step's own deployment and for one Dokploy started itself (operation follow): follows
 * the proven row to its end, streaming its log with `log: live`, and records the result with the tail of
 * its log when it did not succeed. `takesBack`: the step's own queued deploy, which it would have taken
 * back had it not started.
 */
export async function followToEnd(
  ctx: WaitContext,
  settings: Settings,
  record: Recorder,
  service: ServiceSource,
  poller: Poller,
  found: Identified,
  options: { takesBack: boolean }
): Promise<WaitResult> {
  const { log } = ctx
  let live: LiveLog | undefined
  let result: WaitResult
  try {
    if (found.row.status !== 'running') result = ended(found)
    else {
      if (settings.log === 'live' && ctx.liveLog) live = await LiveLog.start(ctx, ctx.liveLog, poller, found, settings.logLines, service)
      result = await followRow(ctx, poller, found, live)
    }
  } catch (error) {
    if (options.takesBack && ctx.signal?.aborted) record.tookBack('the runner cancelled the job', ALREADY_STARTED)
    throw error
  } finally {
    // ends the log's group before anything else is printed, whatever ended the wait
    live?.close()
  }
  if (result.status === 'timeout' && options.takesBack) record.tookBack('wait-timeout ended', ALREADY_STARTED)
  if (result.status === 'done') {
    record.followed(result)
    log.info(result.detail)
    return result
  }
  // a stream that held the whole log already has its tail: no readLogs
  const tail = result.row && settings.log !== 'none' ? (live?.tail() ?? (await failureTail(ctx, result.row, settings.logLines))) : undefined
  record.followed(result, tail)
  return result
}

export async function optionalQueue(client: DokployClient): Promise<QueueJob[] | undefined> {
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
async function send(ctx: WaitContext, settings: Settings, baseline: Baseline, ticket: Ticket): Promise<{ jobs?: QueueJob[]; queueSupported?: boolean }> {
  const { client, log, timings } = ctx
  const now = ctx.clock.now
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
  await ctx.clock.sleep(Math.min(timings.lostAnswerSettleMs, Math.max(0, ctx.deadline - now())), ctx.signal)
  const jobs = await optionalQueue(client)
  const rows = await listDeployments(client, ctx.spec, ctx.serviceId)
  // no row of ours can have started before the deploy left: bound that moment by the server's own clock
  const sentBy = client.serverTimeAtLeast(sentAt)
  ticket.floor = sentBy === undefined ? undefined : sentBy - timings.clockSlackMs
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
