import type { DokployClient } from './dokploy/client.js'
import { failureKind } from './dokploy/errors.js'
import { readDomains } from './dokploy/api.js'
import type { Settings } from './inputs.js'
import { locateAll } from './lookup.js'
import { SPECS, followsRow } from './operations.js'
import { newOutcome, Recorder, type Outcome } from './outcome.js'
import { execute, type RunContext } from './execute.js'
import { quotesServer } from './failure.js'
import { dashboardUrl } from './dashboard.js'
import { serviceUrl } from './service-url.js'
import { serviceSource, type ServiceSource } from './service.js'
import type { GitHubDeployments } from './github-deployment.js'
import { inline, prefixed, prefixedSink, type Log } from './logger.js'
import { serviceLabel, type Target } from './target.js'

/**
 * The layer above `execute`: resolves every target before anything is sent, then runs them all at once
 * (each triggered at once and followed to its end by the single-target `execute`; Dokploy's queue builds
 * them one after the other), and completes each outcome for the report. One target's failure never stops
 * the others. A single target takes exactly the single-target path.
 */

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

interface Run {
  target: Target
  record: Recorder
  log: Log
  service: ServiceSource
  failure?: unknown
}

export async function runTargets(settings: Settings, targets: Target[], context: TargetsContext): Promise<Outcome[]> {
  const { client, baseUrl, github, signal, clock } = context
  const several = targets.length > 1
  const labels = targets.map((target) => serviceLabel(target.name, target.id))
  /** The commit status's context: the service's name, with its environment when two targets share the name. */
  const contextOf = (target: Target, label: string): string =>
    labels.filter((other) => other === label).length > 1 && target.environmentName ? `dokploy/${target.environmentName}/${label}` : `dokploy/${label}`

  const runs = await Promise.all(
    targets.map(async (target): Promise<Run> => {
      const label = serviceLabel(target.name, target.id)
      const log = several ? prefixed(context.log, label) : context.log
      const record = new Recorder(newOutcome(target.resource, settings.operation, clock.now()))
      const tracked = github?.track({
        label,
        resource: target.resource,
        context: contextOf(target, label),
        // a service given by id: where it lives comes from its own .one, never from every project's
        environment: async () => settings.github?.environment ?? target.environmentName ?? (await placeOf(run))?.environmentName ?? 'production',
        links: async () => ({ environmentUrl: record.outcome.url ?? (await urlOf(run)), logUrl: dashboardUrl(baseUrl, record.outcome) })
      })
      record.listen(tracked)
      const spec = SPECS[target.resource]
      const service = serviceSource(client, spec, target.id, { env: settings.env !== undefined, registry: settings.image !== undefined }, (details) => record.service(details))
      const run: Run = { target, record, log, service }
      try {
        const liveLog = several && context.liveLog ? { ...context.liveLog, sink: prefixedSink(context.liveLog.sink, label) } : context.liveLog
        await execute(settings, target, { ...context, log, liveLog }, record, service)
      } catch (error) {
        run.failure = error
        record.failed(error, signal?.aborted ?? false, clock.now() >= context.deadline)
      }
      record.ended(clock.now())
      return run
    })
  )

  const cancelled = signal?.aborted ?? false
  for (const run of runs) {
    const { record } = run
    const url = record.outcome.url ?? (!cancelled && wantsUrl(settings, record.outcome) ? await urlOf(run) : undefined)
    if (!cancelled) await learnBeforePrinting(run)
    record.links(dashboardUrl(baseUrl, record.outcome), url)
    record.done()
  }
  return runs.map((run) => run.record.outcome)

  /** The service's `.one`, for where it lives; a failure leaves it unknown (the report goes without the link). */
  async function placeOf(run: Run): Promise<{ environmentName?: string } | undefined> {
    try {
      return await run.service.read()
    } catch (error) {
      run.log.debug(`where the service lives was not read (${failureKind(error)})`)
      return undefined
    }
  }

  /**
   * The public URL: from the domains of the service's `.one` when the run has read it already, else from its
   * domain list (which says nothing secret: `.one`, which does, is not read for a URL).
   */
  async function urlOf(run: Run): Promise<string | undefined> {
    const spec = SPECS[run.target.resource]
    if (!spec.domainList) return undefined
    try {
      const domains = run.service.known()?.domains ?? (await readDomains(client, spec, run.target.id, context.timings.reportGraceMs))
      return serviceUrl(domains)
    } catch (error) {
      run.log.info(`The service's domains could not be read (${failureKind(error)}): the url output stays empty.`)
      return undefined
    }
  }

  /**
   * Server text may quote secrets the action never read (a build that prints a connection string, a 500
   * that repeats a database password): the service's secrets are learned before any of it is printed, and
   * when they cannot be, none of it is.
   */
  async function learnBeforePrinting(run: Run): Promise<void> {
    const { record } = run
    if (record.outcome.ok || !quotesServer(record.outcome, run.failure)) return
    try {
      await run.service.read()
    } catch (error) {
      record.withheld(`the service's secrets could not be read first (${failureKind(error)}), and it may quote them`, run.failure)
    }
  }
}

/** The URL is read after a followed deploy, and for a GitHub deployment; never when nothing reached Dokploy. */
function wantsUrl(settings: Settings, outcome: Outcome): boolean {
  if (!SPECS[outcome.resource].domainList || outcome.status === 'failed') return false
  return settings.github?.deployments === true || (followsRow(SPECS[outcome.resource].operations[settings.operation]) && settings.wait)
}
