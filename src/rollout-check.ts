import { DokployError, failureKind } from './dokploy/errors.js'
import { readContainers, readTasks, type ServiceDetails } from './dokploy/api.js'
import { judgeContainers, judgeStackTasks, judgeTasks, type Verdict } from './rollout-judge.js'
import { Poller, type Pace, type WaitContext } from './poller.js'
import { formatDuration, inline } from './logger.js'
import { redact } from './secrets.js'
import type { ServiceSource } from './service.js'
import type { Resource } from './operations.js'
import type { Target } from './target.js'

/**
 * After Dokploy's `done`: does the new version run? Dokploy writes `done` once Swarm has accepted the
 * service update, before the new task runs; a task that crashes or fails its health check is rolled back
 * by Swarm afterwards. One poll loop reads the service's tasks (or a compose project's containers) until
 * every one runs, healthy, and has run for the settle period, or verify-timeout passes.
 */

export type RolloutResult =
  | { status: 'done'; detail: string }
  /** Not checked: why, in our words (a permission, a procedure this server lacks, an empty list). */
  | { status: 'unchecked'; why: string }
  | { status: 'rolled-back' | 'unhealthy'; message: string }

/** Failures that say this key or server cannot be asked (not a silence to ride out). */
const CANNOT_ASK: ReadonlySet<string> = new Set(['unauthorized', 'forbidden', 'cloudflare', 'no-procedure', 'bad-request', 'not-found', 'method', 'bad-shape', 'not-json', 'server-error'])

/** Server text in one of our lines: masked, on one line, short. */
const quoted = (text: string): string => {
  const one = inline(redact(text))
  return one.length > 200 ? `${one.slice(0, 200)}…` : one
}

export interface RolloutCheck {
  resource: Resource
  /** A lookup may have told its appName and server already: then `.one`, which holds every secret, is not read for them. */
  target: Target
  operation: string
  service: ServiceSource
  /** When the step began, by the run's clock: a task that failed since is this rollout's. */
  stepStartedAt: number
  verifyTimeoutMs: number
  /** When Dokploy marked the deployment done, by the server's clock (a followed deploy's row); else the check starts at done. */
  finishedAt?: string | null
  /** The image this step set (docker-image): `.one` was read before it was saved, so it still names the previous one. */
  image?: string
}

export async function checkRollout(ctx: WaitContext, check: RolloutCheck): Promise<RolloutResult> {
  const { clock, timings, log } = ctx
  let details: ServiceDetails
  const { target } = check
  const known = check.service.known()
  if (known) details = known
  else if (target.appName && target.serverId !== undefined) details = { appName: target.appName, serverId: target.serverId ?? undefined }
  else {
    try {
      details = await check.service.read()
    } catch (error) {
      return { status: 'unchecked', why: `the service's settings could not be read (${failureKind(error)})` }
    }
  }
  const { appName, serverId } = details
  if (!appName) return { status: 'unchecked', why: "Dokploy's answer for the service has no appName" }

  const startedAt = clock.now()
  const deadline = startedAt + check.verifyTimeoutMs
  const doneAt = doneMoment(ctx, check.finishedAt, startedAt)
  // the check has its own bound, after done: its requests may run past wait-timeout, up to verify-timeout
  const graceMs = Math.max(0, deadline - ctx.deadline)
  const poller = new Poller({ ...ctx, deadline })
  const compose = check.resource === 'compose'
  const stack = compose && details.composeType === 'stack'
  const where = serverId ? ` on server ${quoted(serverId)}` : ''
  const what = compose ? (stack ? 'tasks of the stack' : 'containers of the compose project') : 'Swarm tasks'
  const procedure = compose ? 'docker.getContainersByAppNameMatch' : 'swarm.getAppInfos'
  const permission = compose ? 'service:read' : 'docker:read (owners and admins have it)'

  let looked = false
  let last: Verdict | undefined
  let settleWaitMs: number | undefined
  const pace: Pace = {
    next: async () => {
      if (settleWaitMs === undefined) return poller.next()
      await clock.sleep(Math.min(settleWaitMs, Math.max(0, deadline - clock.now())), ctx.signal)
    }
  }

  const look = async (): Promise<RolloutResult | undefined> => {
    settleWaitMs = undefined
    const verdict = await judge()
    looked = true
    last = verdict
    switch (verdict.kind) {
      case 'blind':
        return { status: 'unchecked', why: `Dokploy listed no ${what} for ${quoted(appName)}${where} (it answers an empty list whenever it cannot reach Docker)` }
      case 'rolled-back':
        return {
          status: 'rolled-back',
          message: `The new version failed and Swarm rolled the service back: it runs ${quoted(verdict.running)} again. The new task's error: ${quoted(verdict.error)}.`
        }
      case 'replaced':
        return {
          status: 'unhealthy',
          message: `A task of the new version failed during the rollout (${quoted(verdict.error)}), and Swarm replaced it with the same image: it went back to the previous settings or restarted the new ones, which Dokploy's task list cannot tell apart.`
        }
      case 'pending':
        poller.say(`pending ${verdict.why}`, `Rollout: ${quoted(verdict.why)}${verdict.error ? ` (${quoted(verdict.error)})` : ''}.`, 'Rollout: still waiting')
        return undefined
      case 'running': {
        const settle = timings.rolloutSettleMs
        if (verdict.ageMs >= settle) {
          const units = `${verdict.units} ${compose && !stack ? 'container' : 'task'}${verdict.units === 1 ? '' : 's'}`
          return { status: 'done', detail: `Rollout checked: ${units} running${compose ? '' : ' the new version'}, healthy where there is a health check, for ${formatDuration(verdict.ageMs)} or more.` }
        }
        poller.say('settling', `Rollout: the new version runs; checking it is still up after ${formatDuration(settle)}.`, 'Rollout: settling')
        settleWaitMs = settle - verdict.ageMs
        return undefined
      }
    }
  }

  const judge = async (): Promise<Verdict> => {
    if (compose) {
      const rows = await readContainers(ctx.client, appName, stack ? 'stack' : 'docker-compose', serverId, graceMs)
      return stack ? judgeStackTasks(rows) : judgeContainers(rows)
    }
    const tasks = await readTasks(ctx.client, appName, serverId, graceMs)
    if (tasks === undefined) return { kind: 'blind' }
    // slack: the server's clock, and Docker's whole-second ages; a task from a previous deploy is minutes old or more
    const sinceStepMs = clock.now() - check.stepStartedAt + timings.clockSlackMs + timings.rolloutSettleMs
    const sinceDoneMs = clock.now() - doneAt + timings.clockSlackMs
    const application = check.resource === 'application'
    // a git build is always <appName>:latest, the previous version's name too: only a docker image tells them apart
    const stored = details.dockerImage ?? undefined
    const image = check.image ?? (application ? (details.sourceType === 'docker' ? stored : undefined) : stored)
    return judgeTasks(tasks, { image, sinceStepMs, sinceDoneMs, newTasks: application && check.operation !== 'start' && check.operation !== 'reload' })
  }

  log.info(`Checking the rollout: reading the ${what} of ${quoted(appName)}${where} until they run (verify-timeout ${formatDuration(check.verifyTimeoutMs)}).`)
  return poller.until(look, {
    pace,
    refused: (error) => {
      if (!(error instanceof DokployError) || !CANNOT_ASK.has(error.failure)) return undefined
      const because = error.failure === 'no-procedure' ? `this Dokploy has no ${procedure}` : `this key may not read them (${failureKind(error)}; ${procedure} needs ${permission})`
      return { status: 'unchecked', why: because }
    },
    expired: () => {
      if (!looked) return { status: 'unchecked', why: `Dokploy did not answer ${procedure} before verify-timeout` }
      const state = last?.kind === 'pending' ? `${quoted(last.why)}${last.error ? ` (last error: ${quoted(last.error)})` : ''}` : last?.kind === 'running' ? 'it had not yet run for the settle period' : 'it was not running'
      return { status: 'unhealthy', message: `The new version was not running and healthy when verify-timeout (${formatDuration(check.verifyTimeoutMs)}) ended: ${state}.` }
    }
  })
}

/**
 * When the deployment turned done, by the run's clock: its row's finishedAt, moved onto the run's clock by
 * the server's Date header; without either, a poll interval before the check began (no later than that).
 */
function doneMoment(ctx: WaitContext, finishedAt: string | null | undefined, now: number): number {
  if (finishedAt === undefined) return now
  const finished = Date.parse(finishedAt ?? '')
  const serverNow = ctx.client.serverTimeAtLeast(now)
  if (!Number.isFinite(finished) || serverNow === undefined) return now - ctx.pollCapMs
  return now - Math.min(Math.max(0, serverNow - finished), ctx.pollCapMs)
}
