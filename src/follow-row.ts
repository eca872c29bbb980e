import { DokployError } from './dokploy/errors.js'
import type { DeploymentRow } from './dokploy/api.js'
import type { Identified } from './correlate.js'
import { formatRounded } from './logger.js'
import { buildMs } from './outcome.js'
import { rowsOf, type Pace, type Poller, type WaitContext } from './poller.js'

export type FinalStatus = 'done' | 'error' | 'cancelled' | 'timeout' | 'lost' | 'unknown' | 'not-found'

/** What following a deployment came to. */
export interface WaitResult {
  status: FinalStatus
  row?: DeploymentRow
  identified?: Identified
  /** What the log says about the end, for the failure message. */
  detail: string
}

/** The pace of a follow, and what it says while the row runs (polling prints a line; the live log shows the build). */
export interface FollowPace extends Pace {
  /** The row was read and is still running. */
  running: (found: Identified) => void
}

/** Polling: backs off to poll-interval, with a heartbeat line every 30 s. */
export const polling = (poller: Poller): FollowPace => ({
  running: (found) => poller.say('running', `Building: deployment ${found.row.deploymentId} is running.`, 'Still building'),
  next: () => poller.next()
})

/**
 * Phase 3: follows the row the step proved its own until it is final, vanishes, or the deadline passes.
 * Outages are ridden out until the deadline; a key that stops working leaves the outcome unknown.
 */
export function followRow(ctx: WaitContext, poller: Poller, found: Identified, pace: FollowPace = polling(poller)): Promise<WaitResult> {
  let read = false
  return poller.until<WaitResult>(
    async () => {
      if (read) {
        const rows = await rowsOf(ctx)
        const row = rows.find((r) => r.deploymentId === found.row.deploymentId)
        if (!row) return { status: 'lost', identified: found, row: found.row, detail: `Deployment ${found.row.deploymentId} vanished from Dokploy's list (was it deleted?).` }
        found = { ...found, row }
      }
      read = true
      if (found.row.status !== 'running') return ended(found)
      pace.running(found)
      return undefined
    },
    { pace, expired: () => timedOut(poller, found), refused: (error) => keyRanOut(error, found) }
  )
}

export function ended(found: Identified): WaitResult {
  const row = found.row
  const status: FinalStatus = row.status === 'done' ? 'done' : row.status === 'cancelled' ? 'cancelled' : 'error'
  const took = buildMs(row)
  const after = took === undefined ? '' : ` after ${formatRounded(took)} of build`
  const restart = status === 'cancelled' ? ' (Dokploy cancels running deployments when it restarts)' : ''
  return { status, row, identified: found, detail: `Deployment ${row.deploymentId} ended ${row.status}${after}${restart}.` }
}

export function timedOut(poller: Poller, found: Identified | undefined): WaitResult {
  const where = found ? `deployment ${found.row.deploymentId} was still running` : 'the build had not started'
  return {
    status: 'timeout',
    row: found?.row,
    identified: found,
    detail: `Still running when the step stopped waiting after ${poller.elapsed()} (wait-timeout): ${where}. Dokploy may still finish it; the action does not kill builds (killBuild stops every build on the host).`
  }
}

/** The key stopped working after our deploy was queued (a rate limit runs out this way): the deploy stands, its end is unknown. */
export function keyRanOut(error: unknown, found: Identified | undefined): WaitResult | undefined {
  if (!(error instanceof DokployError) || error.failure !== 'unauthorized') return undefined
  const which = found ? `deployment ${found.row.deploymentId}` : 'the deployment'
  return {
    status: 'unknown',
    row: found?.row,
    identified: found,
    detail: `Dokploy queued ${which}, then rejected the API key while the step followed it (most likely its rate limit ran out), so its outcome is unknown. Do not re-run this step to retry: that deploys again. Check the dashboard, and use a key without a rate limit.`
  }
}
