import { DokployError } from './dokploy/errors.js'
import { readStatus, runOperation, type OperationCall } from './dokploy/api.js'
import { DATABASES, SPECS, followsRow, needsAppName, statusAfter, type Operation, type Resource } from './operations.js'
import type { Settings } from './inputs.js'
import { newOutcome, Recorder, UnknownOutcome } from './outcome.js'
import type { Target } from './target.js'
import { applyEnv, applyImage } from './rollout.js'
import { runQueued } from './deploy.js'
import { followCommit } from './follow-commit.js'
import { followStatus } from './follow-status.js'
import type { WaitContext } from './poller.js'
import { inline } from './logger.js'
import type { ServiceSource } from './service.js'
import { checkRollout } from './rollout-check.js'
import { checkUrl, joinUrl } from './verify-url.js'
import { readDomains, readRuntimeLog } from './dokploy/api.js'
import { serviceUrl } from './service-url.js'
import { failureKind } from './dokploy/errors.js'
import { NoRollback, rollBack } from './rollback.js'

export type RunContext = Omit<WaitContext, 'spec' | 'serviceId'>

/** One target: changes → operation → result, each recorded as it comes. */
export async function execute(settings: Settings, target: Target, context: RunContext, record: Recorder, service: ServiceSource): Promise<void> {
  const spec = SPECS[target.resource]
  const mode = spec.operations[settings.operation]
  if (!mode) throw new Error(`${target.resource} has no ${settings.operation}`)
  const { client, log } = context
  record.target(target)
  const ctx: WaitContext = { ...context, spec, serviceId: target.id }

  // .one carries every secret of the service: read it only when something needs it
  const needsDetails = settings.env !== undefined || settings.image !== undefined || (needsAppName(settings.operation) && !target.appName)
  const details = needsDetails ? await service.read() : undefined
  record.service(details)

  if (settings.env && details) await applyEnv(client, target.resource, target.id, details, settings.env, log)
  if (settings.image && details) await applyImage(client, target.id, details, settings.image, log)

  if (mode === 'queued' || mode === 'follow') {
    await (mode === 'queued' ? runQueued : followCommit)(ctx, settings, record, service)
    return verifyRollout(ctx, settings, target, record, service)
  }
  if (settings.operation === 'rollback') {
    let restored: { deploymentId: string; image?: string }
    try {
      restored = await rollBack(client, target.id, log)
    } catch (error) {
      if (!(error instanceof NoRollback)) throw error
      record.answered('failed', false, error.message)
      return
    }
    record.answered('done', true)
    record.rolledBack(restored.deploymentId)
    log.info(`rollback.rollback: Dokploy rolled the application back to deployment ${inline(restored.deploymentId)}.`)
    return verifyRollout(ctx, settings, target, record, service, restored.image)
  }

  const label = `${spec.router}.${settings.operation}`
  const expected = statusAfter(settings.operation)
  const call: OperationCall = {
    resource: target.resource,
    operation: settings.operation,
    id: target.id,
    mode,
    appName: target.appName ?? details?.appName,
    // a database deploy answers when it is done: it gets the wait bound, not the request bound
    timeoutMs: mode === 'sync-long' ? Math.max(settings.requestTimeoutMs, context.deadline - context.clock.now()) : undefined
  }
  // a database deploy builds while its request is open
  if (mode === 'sync-long') {
    record.accepted()
    record.building()
  }
  let answered: 'answered' | 'running'
  try {
    answered = await sendSync(ctx, call, settings.retries)
  } catch (error) {
    // Dokploy ran it and it failed (a 500): the operation's outcome is an error, not an unknown
    if (error instanceof DokployError && error.failure === 'server-error') record.answered('error', false, error.message)
    throw error
  }
  if (answered === 'answered') {
    record.answered(expected, true)
    // Dokploy's stop logs a failure to scale the service down and answers 200 all the same (API.md §10)
    const caveat = settings.operation === 'stop' ? ' (Dokploy does not report a stop that failed: it answers success all the same)' : ''
    log.info(`${label}: Dokploy accepted it; the ${isDatabase(target.resource) ? `${target.resource} db` : target.resource} is now ${AFTER[settings.operation] ?? expected}${caveat}.`)
  } else {
    const followed = await followStatus(ctx, expected)
    record.answered(followed.status, followed.ok, `${label}: ${followed.detail}`)
    if (followed.ok) log.info(`${label}: ${followed.detail}`)
  }
  return verifyRollout(ctx, settings, target, record, service)
}

/** What a rollout check follows: a followed deploy of an application or compose stack, a database's deploy, start or reload. */
const ROLLED_OUT: Record<'queued' | 'database', readonly string[]> = { queued: ['deploy', 'redeploy', 'follow'], database: ['deploy', 'start', 'reload'] }

/** After Dokploy's `done`, with verify: running, the new version must be seen running (rollout-check.ts). */
async function verifyRollout(ctx: WaitContext, settings: Settings, target: Target, record: Recorder, service: ServiceSource, rollbackImage?: string): Promise<void> {
  await verifyAfterDone(ctx, settings, target, record, service, rollbackImage)
  const { outcome } = record
  if (settings.onFailure !== 'rollback' || (outcome.status !== 'unhealthy' && outcome.status !== 'rolled-back')) return
  // on-failure: rollback: back to the previous good deployment, whose rollout is checked in turn; the status stays the failure's
  let restored: { deploymentId: string; image?: string }
  try {
    restored = await rollBack(ctx.client, target.id, ctx.log, outcome.deploymentId)
  } catch (error) {
    if (!(error instanceof NoRollback)) {
      record.noRollback(`on-failure: rollback failed (${failureKind(error)}).`)
      return
    }
    record.noRollback(`on-failure: rollback: ${error.message}`)
    return
  }
  const back = new Recorder({ ...newOutcome(outcome.resource, 'rollback', ctx.clock.now()), status: 'done', ok: true })
  await verifyAfterDone(ctx, { ...settings, operation: 'rollback', verifyUrl: undefined }, target, back, service, restored.image)
  const how = back.outcome.ok ? (back.outcome.rollout?.checked ? 'it runs (checked)' : 'Dokploy accepted it; its rollout was not checked') : `but that failed too: ${(back.outcome.message ?? back.outcome.status).replace(/\.$/, '')}`
  record.rolledBack(restored.deploymentId, `on-failure: rollback: rolled back to deployment ${inline(restored.deploymentId)}: ${how}.`)
}

async function verifyAfterDone(ctx: WaitContext, settings: Settings, target: Target, record: Recorder, service: ServiceSource, rollbackImage?: string): Promise<void> {
  const { outcome } = record
  if (outcome.status !== 'done') return
  // a pull request's preview runs as a service of its own (preview-<appName>-…): its tasks are not the application's
  if (settings.pullRequest !== undefined) return
  const queued = followsRow(ctx.spec.operations[settings.operation])
  const eligible = settings.operation === 'rollback' ? ['rollback'] : queued ? ROLLED_OUT.queued : ctx.spec.deploymentList ? [] : ROLLED_OUT.database
  if (!eligible.includes(settings.operation)) return
  const startedAt = ctx.clock.now()
  if (settings.verify === 'running') await verifyTasks(ctx, settings, target, record, service, queued, rollbackImage)
  if (settings.verifyUrl && record.outcome.ok) {
    const url = joinUrl(settings.verifyUrl, await publicUrl(ctx, target, service, settings.verifyUrl))
    if (!url) {
      record.rollout({ status: 'unhealthy', message: `verify-url ${inline(settings.verifyUrl)} is a path, but the service has no domain to join it to: give an absolute URL.` })
      return
    }
    const left = Math.max(1000, startedAt + settings.verifyTimeoutMs - ctx.clock.now())
    const checked = await checkUrl(ctx, { url, text: settings.verifyText, timeoutMs: left, requestTimeoutMs: settings.requestTimeoutMs })
    if (checked.ok) ctx.log.info(checked.detail)
    else record.rollout({ status: 'unhealthy', message: checked.message })
  }
}

/** The service's public URL, for a verify-url path: from the .one already read, else from its domain list. */
async function publicUrl(ctx: WaitContext, target: Target, service: ServiceSource, verifyUrl: string): Promise<string | undefined> {
  if (/^https?:\/\//i.test(verifyUrl) || !ctx.spec.domainList) return undefined
  try {
    return serviceUrl(service.known()?.domains ?? (await readDomains(ctx.client, ctx.spec, target.id, ctx.timings.reportGraceMs)))
  } catch (error) {
    ctx.log.info(`The service's domains could not be read (${failureKind(error)}).`)
    return undefined
  }
}

async function verifyTasks(ctx: WaitContext, settings: Settings, target: Target, record: Recorder, service: ServiceSource, queued: boolean, rollbackImage?: string): Promise<void> {
  const { outcome } = record
  const result = await checkRollout(ctx, {
    resource: outcome.resource,
    target,
    operation: settings.operation,
    service,
    stepStartedAt: outcome.startedAt,
    verifyTimeoutMs: settings.verifyTimeoutMs,
    finishedAt: queued ? (outcome.finishedAt ?? null) : undefined,
    image: rollbackImage ?? settings.image?.dockerImage
  })
  record.rollout(result)
  if (result.status === 'done') ctx.log.info(result.detail)
  else if ((result.status === 'rolled-back' || result.status === 'unhealthy') && outcome.resource === 'application' && settings.log !== 'none' && settings.logLines > 0) {
    // Dokploy reads the newest running container: after Swarm's rollback, that is the previous version
    const label =
      result.status === 'rolled-back'
        ? "the container that runs now, which after Swarm's rollback is the previous version's, not the failed one's"
        : "the newest running container: the new version's if one runs, else the previous version's"
    try {
      record.runtime(label, await readRuntimeLog(ctx.client, target.id, settings.logLines, ctx.timings.reportGraceMs))
    } catch (error) {
      ctx.log.debug(`the runtime log was not read (${failureKind(error)})`)
    }
  }
}

/** What a synchronous operation leaves the service as, in words. */
const AFTER: Partial<Record<Operation, string>> = { start: 'running', stop: 'idle (stopped)', reload: 'reloaded', deploy: 'deployed' }

/**
 * Sends a synchronous operation until Dokploy answers it. Start, stop and reload are idempotent, and a
 * database deploy may be repeated, so an answer lost on the way (a proxy's 502 that never forwarded it, a
 * reset) is sent again rather than guessed from a status the previous run left behind. Only a database
 * deploy seen `running` after the loss is followed instead: Dokploy is working on it.
 */
async function sendSync(ctx: WaitContext, call: OperationCall, retries: number): Promise<'answered' | 'running'> {
  const label = `${ctx.spec.router}.${call.operation}`
  for (let attempt = 0; ; attempt++) {
    try {
      await runOperation(ctx.client, call)
      return 'answered'
    } catch (error) {
      if (!(error instanceof DokployError) || error.delivery !== 'maybe-processed' || error.failure === 'cancelled') throw error
      if (call.mode === 'sync-long' && (await readStatus(ctx.client, ctx.spec, ctx.serviceId)) === 'running') {
        ctx.log.warning(`${inline(error.message)} The ${ctx.spec.router} is deploying: following its status (only the status is read).`)
        return 'running'
      }
      if (attempt >= retries) {
        throw new UnknownOutcome(`${label}: ${inline(error.message)} Sent ${attempt + 1} time(s) without an answer from Dokploy, so whether it ran is unknown.`)
      }
      ctx.log.warning(`${inline(error.message)} ${label} is safe to repeat: sending it again (${attempt + 1}/${retries}).`)
    }
  }
}

const isDatabase = (resource: Resource): boolean => DATABASES.includes(resource)
