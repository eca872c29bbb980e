import { DokployError } from './dokploy/errors.js'
import { readStatus, runOperation, type OperationCall } from './dokploy/api.js'
import { DATABASES, SPECS, needsAppName, statusAfter, type Operation, type Resource } from './operations.js'
import type { Settings } from './inputs.js'
import { UnknownOutcome, type Recorder } from './outcome.js'
import type { Target } from './target.js'
import { applyEnv, applyImage } from './rollout.js'
import { runQueued } from './deploy.js'
import { followCommit } from './follow-commit.js'
import { followStatus } from './follow-status.js'
import type { WaitContext } from './poller.js'
import { inline } from './logger.js'
import type { ServiceSource } from './service.js'
import { NoRollback, rollBack } from './rollback.js'
import { verifyRollout } from './verify.js'

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
