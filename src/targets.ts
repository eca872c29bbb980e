import type { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import type { Settings } from './inputs.js'
import { locateAll, placeTargets } from './lookup.js'
import { SPECS } from './operations.js'
import { newOutcome, type Outcome } from './outcome.js'
import { execute, type RunContext } from './execute.js'
import { learnBeforePrinting, recordFailure } from './failure.js'
import { dashboardUrl } from './dashboard.js'
import { readServiceUrl } from './service-url.js'
import type { GitHubDeployments } from './github-deployment.js'
import { inline, prefixed, prefixedSink, type Log } from './logger.js'
import { serviceLabel, type Target } from './target.js'

/**
 * The layer above `execute`: resolves every target before anything is sent, then runs them all at once
 * (each triggered at once and followed to its end by the single-target `execute`; Dokploy's queue builds
 * them one after the other), and completes each outcome for the report. One target's failure never stops
 * the others. A single target takes exactly the single-target path.
 */

/** Time past wait-timeout given to the reads that complete a report (domains, where a service lives). */
const REPORT_GRACE_MS = 5_000

export interface TargetsContext extends RunContext {
  baseUrl: string
  github?: GitHubDeployments
}

/** Ids need no request; names cost one project.all (plus environment.byProjectId for database names), however many. */
export async function resolveTargets(client: DokployClient, settings: Settings, log: Log): Promise<Target[]> {
  const { target, resource } = settings
  if ('ids' in target) {
    if (resource === 'database') throw new Error('resource database needs a lookup by name')
    return target.ids.map((id) => ({ resource, id }))
  }
  const found = await locateAll(client, resource, target, log.warning)
  for (const service of found) {
    // names come from the server: kept on one line, so none can start a workflow command
    const where = service.environmentName ? ` in ${inline(service.environmentName)}` : ''
    log.info(`Found ${service.resource} "${inline(service.name ?? '')}"${where}: id ${inline(service.id)}.`)
  }
  return found
}

/** What went wrong, without the server's words: its message could quote a secret the step never read. */
const failureOf = (error: unknown): string =>
  error instanceof DokployError ? `${error.failure}${error.status ? `, HTTP ${error.status}` : ''}` : 'unexpected error'

/** Runs `make` once, on first use, and hands every caller the same promise. */
function once<T>(make: () => Promise<T>): () => Promise<T> {
  let promise: Promise<T> | undefined
  return () => (promise ??= make())
}

interface Run {
  target: Target
  outcome: Outcome
  log: Log
  failure?: unknown
  url: () => Promise<string | undefined>
  tracked?: ReturnType<GitHubDeployments['track']>
}

export async function runTargets(settings: Settings, targets: Target[], context: TargetsContext): Promise<Outcome[]> {
  const { client, baseUrl, github, signal } = context
  const several = targets.length > 1
  const unplaced = targets.filter((target) => !target.projectId)
  // where services given by id live: for the dashboard link and the GitHub environment, never at a deploy's expense
  const placed = once(async () => {
    if (!unplaced.length) return
    try {
      await placeTargets(client, unplaced)
    } catch (error) {
      context.log.debug(`where the services live was not read (${failureOf(error)})`)
    }
  })

  const runs = await Promise.all(
    targets.map(async (target): Promise<Run> => {
      const outcome = newOutcome(target.resource, settings.operation)
      const label = serviceLabel(target.name, target.id)
      const log = several ? prefixed(context.log, label) : context.log
      const spec = SPECS[target.resource]
      const url = once(async () => {
        if (!spec.domainList) return undefined
        try {
          return await readServiceUrl(client, spec, target.id, REPORT_GRACE_MS)
        } catch (error) {
          log.info(`The service's domains could not be read (${failureOf(error)}): the url output stays empty.`)
          return undefined
        }
      })
      const tracked = github?.track({
        label,
        resource: target.resource,
        environment: async () => {
          await placed()
          return settings.github?.environment ?? target.environmentName ?? 'production'
        },
        links: async () => ({ environmentUrl: await url(), logUrl: dashboardUrl(baseUrl, { ...outcome, ...placeOf(target, outcome) }) })
      })
      const onProgress = tracked && ((progress: 'accepted' | 'building') => (progress === 'accepted' ? tracked.accepted() : tracked.building()))
      const run: Run = { target, outcome, log, url, tracked }
      try {
        const liveLog = several && context.liveLog ? { ...context.liveLog, sink: prefixedSink(context.liveLog.sink, label) } : context.liveLog
        await execute(settings, target, { ...context, log, onProgress, liveLog }, outcome)
      } catch (error) {
        run.failure = error
        recordFailure(outcome, error, signal?.aborted ?? false, context.deadline)
      }
      outcome.endedAt = Date.now()
      return run
    })
  )

  const cancelled = signal?.aborted ?? false
  // a run by id that read nothing telling where the service lives: one project.all for every such target
  if (!cancelled && runs.some(({ outcome }) => !outcome.projectId && outcome.status !== 'failed')) await placed()
  for (const { target, outcome, log, failure, url, tracked } of runs) {
    Object.assign(outcome, placeOf(target, outcome))
    outcome.name ??= target.name
    if (!cancelled && wantsUrl(settings, outcome)) outcome.url = await url()
    outcome.dashboardUrl = dashboardUrl(baseUrl, outcome)
    if (!cancelled) await learnBeforePrinting(outcome, client, failure, log)
    tracked?.ended(outcome)
  }
  return runs.map((run) => run.outcome)
}

/** The target's place, where the outcome does not know it yet. */
const placeOf = (target: Target, outcome: Outcome): Partial<Outcome> => ({
  projectId: outcome.projectId ?? target.projectId,
  environmentId: outcome.environmentId ?? target.environmentId,
  environmentName: outcome.environmentName ?? target.environmentName
})

/** The URL is read after a followed deploy, and for a GitHub deployment; never when nothing reached Dokploy. */
function wantsUrl(settings: Settings, outcome: Outcome): boolean {
  if (!SPECS[outcome.resource].domainList || outcome.status === 'failed') return false
  const queued = SPECS[outcome.resource].operations[settings.operation] === 'queued'
  return settings.github !== undefined || (queued && settings.wait)
}
