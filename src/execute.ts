import { DokployError } from './dokploy/errors.js'
import { readService, runOperation, type ServiceDetails } from './dokploy/api.js'
import { SPECS, needsAppName, statusAfter } from './operations.js'
import type { Settings } from './inputs.js'
import type { Outcome } from './outcome.js'
import { locate } from './lookup.js'
import { applyEnv, applyImage } from './rollout.js'
import { runQueued } from './deploy.js'
import { followStatus, type WaitContext } from './wait.js'
import { inline } from './logger.js'

export type RunContext = Omit<WaitContext, 'spec' | 'serviceId'>

/** inputs → target → changes → operation → result, recorded in `outcome` as it goes. */
export async function execute(settings: Settings, context: RunContext, outcome: Outcome): Promise<void> {
  const spec = SPECS[settings.resource]
  const mode = spec.operations[settings.operation]
  if (!mode) throw new Error(`${settings.resource} has no ${settings.operation}`)
  const { client, log } = context

  let appName: string | undefined
  if ('id' in settings.target) {
    outcome.resourceId = settings.target.id
  } else {
    const found = await locate(client, settings.resource, settings.target, log.warning)
    Object.assign(outcome, {
      resourceId: found.id,
      name: found.name,
      projectId: found.projectId,
      environmentId: found.environmentId,
      environmentName: found.environmentName
    })
    appName = found.appName
    // names come from the server: kept on one line, so none can start a workflow command
    const where = found.environmentName ? ` in ${inline(found.environmentName)}` : ''
    log.info(`Found ${settings.resource} "${inline(found.name)}"${where}: id ${inline(found.id)}.`)
  }
  const serviceId = outcome.resourceId as string
  const ctx: WaitContext = { ...context, spec, serviceId }

  // .one carries every secret of the service: read it only when something needs it
  const needsDetails = settings.env !== undefined || settings.image !== undefined || (needsAppName(settings.operation) && !appName)
  let details: ServiceDetails = {}
  if (needsDetails) {
    details = await readService(client, spec, serviceId, { env: settings.env !== undefined, registry: settings.image !== undefined })
    outcome.name ??= details.name
    outcome.projectId ??= details.projectId
    outcome.environmentId ??= details.environmentId
    appName ??= details.appName
  }

  if (settings.env) await applyEnv(client, settings.resource, serviceId, details, settings.env, log)
  if (settings.image) await applyImage(client, serviceId, details, settings.image, log)

  if (mode === 'queued') return runQueued(ctx, settings, outcome)

  const label = `${spec.router}.${settings.operation}`
  const expected = statusAfter(settings.operation)
  try {
    await runOperation(client, {
      resource: settings.resource,
      operation: settings.operation,
      id: serviceId,
      mode,
      appName,
      // a database deploy answers when it is done: it gets the wait bound, not the request bound
      timeoutMs: mode === 'sync-long' ? Math.max(settings.requestTimeoutMs, context.deadline - Date.now()) : undefined
    })
    outcome.status = expected
    outcome.ok = true
    log.info(`${label}: Dokploy reports success; the ${settings.resource} is now ${expected}.`)
  } catch (error) {
    if (!(error instanceof DokployError)) throw error
    if (error.failure === 'server-error') {
      outcome.status = 'error'
      throw error
    }
    if (error.delivery !== 'maybe-processed' || error.failure === 'cancelled') throw error
    log.warning(`${inline(error.message)} Following the ${settings.resource}'s status instead (only the status is read).`)
    const followed = await followStatus(ctx, expected)
    outcome.status = followed.status
    outcome.ok = followed.ok
    if (followed.ok) log.info(`${label}: ${followed.detail}`)
    else outcome.message = `${label}: ${followed.detail}`
  }
}
