import { failureKind } from './dokploy/errors.js'
import { readDomains, readRuntimeLog } from './dokploy/api.js'
import { followsRow } from './operations.js'
import type { Settings } from './inputs.js'
import { newOutcome, Recorder } from './outcome.js'
import type { Target } from './target.js'
import type { WaitContext } from './poller.js'
import { inline } from './logger.js'
import type { ServiceSource } from './service.js'
import { checkRollout } from './rollout-check.js'
import { checkUrl, joinUrl } from './verify-url.js'
import { serviceUrl } from './service-url.js'
import { NoRollback, rollBack } from './rollback.js'

/**
 * After Dokploy's `done`: the rollout check (verify: running), the user's HTTP check (verify-url), and,
 * when either fails, the roll back to the previous good deployment (on-failure: rollback).
 */

/** What a rollout check follows: a followed deploy of an application or compose stack, a database's deploy, start or reload. */
const ROLLED_OUT: Record<'queued' | 'database', readonly string[]> = { queued: ['deploy', 'redeploy', 'follow'], database: ['deploy', 'start', 'reload'] }

/** After Dokploy's `done`, with verify: running, the new version must be seen running (rollout-check.ts). */
export async function verifyRollout(ctx: WaitContext, settings: Settings, target: Target, record: Recorder, service: ServiceSource, rollbackImage?: string): Promise<void> {
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
