import { DokployError, failureKind } from './dokploy/errors.js'
import { cleanQueues, queueList, type QueueJob } from './dokploy/api.js'
import type { Ticket } from './correlate.js'
import { inline } from './logger.js'
import type { WaitContext } from './poller.js'
import { redact } from './secrets.js'
import { clip } from './title.js'

/**
 * The step was cancelled, or wait-timeout passed, while its own deploy still waited in Dokploy's queue: it
 * takes that deploy back, so a superseded run does not build and ship an older commit. Dokploy can only
 * remove every waiting job of a service at once (`cleanQueues`, previews included), so it is called only when
 * the queue shows that every waiting job of the service is the step's own (by its reference); a running build
 * cannot be stopped on a self-hosted server. One queue read, the clean, one read to check: all within
 * `takeBackMs`, on a client the runner's cancellation does not abort.
 */
export async function takeBack(ctx: WaitContext, ticket: Ticket): Promise<TakeBack> {
  const says = await attempt(ctx, ticket)
  return { removed: says === REMOVED, says }
}

/** What became of the step's queued deploy: whether it was removed, and what to say about it. */
export interface TakeBack {
  removed: boolean
  says: string
}

/** A build already under way when the step stopped: nothing to take back. */
export const ALREADY_STARTED: TakeBack = { removed: false, says: 'its build had already started; Dokploy cannot stop a running build' }

async function attempt(ctx: WaitContext, ticket: Ticket): Promise<string> {
  const client = ctx.client.detached(ctx.clock.now() + ctx.timings.takeBackMs)
  try {
    const jobs = await queueList(client)
    const ours = mine(jobs, ticket)
    if (!ours) return ticket.startedOn !== undefined ? STARTED : "its deploy was no longer in Dokploy's queue: nothing to remove"
    if (ours.state !== 'waiting') return STARTED
    const others = jobs.filter((job) => job.serviceId === ticket.serviceId && job.state === 'waiting' && job !== ours)
    if (others.length) return `the step left the queue: other deploys of this service were waiting (${others.map(describe).join(', ')}), and Dokploy can only remove them all at once`
    await cleanQueues(client, ctx.spec, ticket.serviceId)
    const after = mine(await queueList(client), ticket)
    if (!after) return REMOVED
    return after.state === 'waiting' ? 'its queued deploy could not be removed: Dokploy still lists it as waiting' : STARTED
  } catch (error) {
    if (error instanceof DokployError && error.failure === 'no-procedure') {
      return 'its queued deploy could not be removed: this Dokploy cannot list its queue (before v0.28.3), so the step cannot prove which waiting deploy is its own'
    }
    // our words, and Dokploy's only after redaction on one line: a permission error names what is missing
    return `its queued deploy could not be removed: ${error instanceof DokployError ? clip(inline(redact(error.message)), 300) : failureKind(error)}`
  }
}

const STARTED = ALREADY_STARTED.says
const REMOVED = "the step removed its queued deploy from Dokploy's queue"

const mine = (jobs: QueueJob[], ticket: Ticket): QueueJob | undefined =>
  jobs.find((job) => job.serviceId === ticket.serviceId && job.description === ticket.marker)

/** Another waiting deploy, by its title (server text: redacted, on one line, short). */
const describe = (job: QueueJob): string => `"${clip(inline(redact(job.title ?? job.id)), 80)}"`
