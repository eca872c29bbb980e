import { listPreviews, previewRows, type DeploymentRow, type PreviewDeployment, type QueueJob, type ServiceDetails } from './dokploy/api.js'
import { newTicket, observeQueue, type Identified } from './correlate.js'
import { followToEnd, optionalQueue } from './deploy.js'
import { identifyOwnRow } from './identify.js'
import type { Settings } from './inputs.js'
import type { Recorder } from './outcome.js'
import { Poller, rowsOf, type WaitContext } from './poller.js'
import { serviceUrl } from './service-url.js'
import type { ServiceSource } from './service.js'

/**
 * operation follow: nothing is sent. Dokploy deploys on a push by itself (its GitHub App or a webhook): it
 * queues a job described `Hash: <sha>`, whose row keeps that description while it builds, and a git build
 * ends by replacing it with `Commit: <sha of what it built>` (the branch head when the build cloned it).
 * The step finds the deployment of its commit by those whole SHAs, never by a prefix, waits for it to
 * appear up to wait-timeout, and follows it exactly as it follows its own.
 */
export async function followCommit(context: WaitContext, settings: Settings, record: Recorder, service: ServiceSource): Promise<void> {
  const sha = settings.commit as string
  const queued = `Hash: ${sha}`
  const built = `Commit: ${sha}`
  // a pull request's preview has rows of its own, once Dokploy's GitHub App has created it
  const pr = settings.pullRequest
  let preview: PreviewDeployment | undefined
  const ctx: WaitContext = { ...context }
  const poller = new Poller(ctx)
  const ticket = newTicket(ctx.serviceId, queued)
  ctx.log.info(`Following the deployment Dokploy starts for ${pr === undefined ? '' : `the preview of pull request #${pr}, `}commit ${sha}; nothing is sent to Dokploy.`)
  // read first (it is read for the live log anyway): its secrets are learned before anything of it is printed,
  // and whether it deploys on a push at all explains a deployment that never appears
  const details = await service.read().catch(() => undefined)

  let queueSupported = true
  const appeared = await poller.until<Identified | QueueJob[] | 'not-found'>(
    async () => {
      if (pr !== undefined && !preview) {
        preview = (await listPreviews(ctx.client, ctx.serviceId)).find((p) => p.pullRequestNumber === pr)
        if (!preview) {
          poller.say('no-preview', `No preview deployment of pull request #${pr} in Dokploy yet: waiting for it to appear.`, 'Still waiting for it')
          return undefined
        }
        const id = preview.previewDeploymentId
        ctx.rows = () => previewRows(ctx.client, id)
        if (preview.domain) record.served(serviceUrl([preview.domain]))
      }
      const jobs = queueSupported ? await optionalQueue(ctx.client) : undefined
      queueSupported = jobs !== undefined
      const job = jobs && observeQueue(ticket, jobs)
      const rows = await rowsOf(ctx)
      // the job queued for this commit first: an older push's build may have cloned this commit as the branch
      // head, and its row then says `Commit: <this sha>` too
      const own = newest(rows.filter((r) => r.description === queued))
      if (own) return { row: own, by: 'reference' }
      if (job && jobs) return jobs
      const builtIt = newest(rows.filter((r) => r.description === built))
      if (builtIt) return { row: builtIt, by: 'reference' }
      poller.say('absent', `No deployment of commit ${sha.slice(0, 7)} in Dokploy yet: waiting for it to appear.`, 'Still waiting for it')
      return undefined
    },
    { expired: () => 'not-found' }
  )
  if (appeared === 'not-found') return record.followed({ status: 'not-found', detail: notFound(poller, sha, details, pr, preview) })
  record.place(ticket.place)
  record.accepted()

  let found: Identified
  if ('row' in appeared) {
    ctx.log.info(`Deployment ${appeared.row.deploymentId} is Dokploy's deployment of commit ${sha.slice(0, 7)} (${appeared.row.status}).`)
    found = appeared
  } else {
    const identified = await identifyOwnRow(ctx, poller, { baseline: {}, ticket, queueSupported: true, firstQueue: appeared })
    record.place(ticket.place)
    if ('status' in identified) return record.followed(identified)
    found = identified
  }
  record.identified(found, ticket.job?.timestamp)
  const result = await followToEnd(ctx, settings, record, service, poller, found, { takesBack: false })
  // a git build says what it built (a preview's row and a docker image's keep their description)
  const overwritten = pr === undefined && details?.sourceType !== 'docker'
  const head = /^Commit: ([0-9a-f]{40})$/.exec((overwritten ? await builtDescription(ctx, result.row, queued) : result.row?.description) ?? '')?.[1]
  if (head && head !== sha) {
    ctx.log.info(
      `The deploy queued for commit ${sha.slice(0, 7)} built commit ${head.slice(0, 7)}: a git build clones the branch head when it starts, and a newer push had landed. Its outcome is what commit ${sha.slice(0, 7)} got.`
    )
  }
}

/**
 * What a finished git build says it built: Dokploy writes `Commit: <sha>` on the row a moment after its final
 * status, so a row still described as queued is read again, a few times at the end-look pace.
 */
async function builtDescription(ctx: WaitContext, row: DeploymentRow | undefined, queued: string): Promise<string | undefined> {
  if (!row || row.status === 'running' || row.description !== queued) return row?.description ?? undefined
  for (let look = 0; look < 3; look++) {
    await ctx.clock.sleep(ctx.timings.firstEndLookMs, ctx.signal)
    const now = (await rowsOf(ctx).catch(() => [])).find((r) => r.deploymentId === row.deploymentId)
    if (now && now.description !== queued) return now.description ?? undefined
  }
  return undefined
}

/** The newest of some rows (by start). */
const newest = (rows: DeploymentRow[]): DeploymentRow | undefined =>
  [...rows].sort((a, b) => Date.parse(b.startedAt ?? b.createdAt ?? '') - Date.parse(a.startedAt ?? a.createdAt ?? ''))[0]

/** Why no deployment appeared: most often the service does not deploy on a push at all. */
function notFound(poller: Poller, sha: string, details: ServiceDetails | undefined, pr: number | undefined, preview: PreviewDeployment | undefined): string {
  if (pr !== undefined && !preview) {
    return `No preview deployment of pull request #${pr} appeared in Dokploy within ${poller.elapsed()} (wait-timeout): Dokploy's GitHub App creates one when a pull request opens, if the application has preview deployments on.`
  }
  const base = `No deployment of commit ${sha} appeared in Dokploy within ${poller.elapsed()} (wait-timeout).`
  if (details?.autoDeploy === false) return `${base} The service has auto-deploy off, so Dokploy deploys it only when asked: turn auto-deploy on in its settings, or deploy it from the workflow (operation deploy).`
  if (details?.autoDeploy === true) return `${base} The service has auto-deploy on: check that Dokploy's GitHub App or webhook is set up for this repository and branch, and that the push touched the service's watch paths.`
  return `${base} Whether the service deploys on a push (auto-deploy) could not be read.`
}
