import type { DeploymentRow, QueueJob } from './dokploy/api.js'

/**
 * Which deployment row did this step's call create? Facts of Dokploy this rests on (API.md §4, §10):
 * - the step sends a description carrying a reference no other deploy has (the marker); the queue job and
 *   the row show it until a git build ends and overwrites title and description with its commit;
 * - jobs queue per server (the service's `serverId`; Dokploy's own host when it has none), each server's queue
 *   with its own concurrency and its own job ids on Dokploy Cloud: only our server's queue says anything of ours;
 * - a service's jobs run one at a time in enqueue order, and a job leaves the queue only after its row is
 *   final and overwritten; its row is created a moment after it turns active (processedOn);
 * - job timestamps, processedOn and row start times come from the same server clock;
 * - a restart loses the queue, cancels running rows (never overwritten) and numbers jobs from job-1 again.
 * Proofs, strongest first: the marker; the first row started after our job turned active; the row whose
 * place among rows started after our enqueue time matches the jobs seen ahead of ours. The last two need
 * an unbroken view of the queue: after an outage or a restart only the marker counts.
 */
export interface Baseline {
  /** Rows that existed before the deploy; undefined when none were listed (wait: false). */
  rowIds?: ReadonlySet<string>
}

interface SeenJob {
  id: string
  serverId?: string
  seq: number
  timestamp: number
  state: string
  processedOn?: number
}

export interface Ticket {
  serviceId: string
  /** The description sent: unique to this step. */
  marker: string
  /** Server time before which our row cannot have started (our enqueue time, or a bound from Date headers). */
  floor?: number
  /** Our job, found by its marker. */
  job?: SeenJob
  /** When our job turned active, if seen active. */
  startedOn?: number
  /** Jobs of this service enqueued before ours, by id@timestamp. */
  ahead: Map<string, SeenJob>
  /** False once the view of the queue was broken (an outage, or job ids that restarted). */
  continuous: boolean
  /** Where the service lives, as our job's dashboard link said. */
  place?: { projectId: string; environmentId: string }
}

export type Proof = 'reference' | 'start time' | 'queue order'

export interface Identified {
  row: DeploymentRow
  by: Proof
}

export const newTicket = (serviceId: string, marker: string, floor?: number): Ticket => ({
  serviceId,
  marker,
  floor,
  ahead: new Map(),
  continuous: true
})

const seqOf = (id: string): number => Number(/(\d+)$/.exec(id)?.[1] ?? NaN)
const keyOf = (job: { id: string; timestamp: number }): string => `${job.id}@${job.timestamp}`
const before = (a: SeenJob, b: SeenJob): boolean => a.timestamp < b.timestamp || (a.timestamp === b.timestamp && a.seq < b.seq)
const seen = (job: QueueJob): SeenJob => ({ id: job.id, serverId: job.serverId, seq: seqOf(job.id), timestamp: job.timestamp, state: job.state, processedOn: job.processedOn })

/** Active jobs first, then waiting ones oldest first: the order in which they will build. */
export function buildOrder(jobs: QueueJob[]): QueueJob[] {
  const rank = (job: QueueJob): number => (job.state === 'active' ? 0 : 1)
  return [...jobs].sort((a, b) => rank(a) - rank(b) || a.timestamp - b.timestamp || seqOf(a.id) - seqOf(b.id))
}

/** The queue of the server a job waits on: the jobs whose service runs on the same server. */
export const sameServer = (jobs: QueueJob[], job: { serverId?: string }): QueueJob[] => jobs.filter((j) => (j.serverId ?? '') === (job.serverId ?? ''))

/** Builds ahead of ours on our server: every active one there, then those waiting there before ours. */
export function jobsAhead(jobs: QueueJob[], job: QueueJob): number {
  return buildOrder(sameServer(jobs, job)).findIndex((j) => j.id === job.id && j.timestamp === job.timestamp)
}

/**
 * Reads a queue snapshot into the ticket. Our job is recognised by its marker, never by its id alone:
 * ids restart after a server restart. Returns our job as it stands now, or undefined when it is not there.
 */
export function observeQueue(ticket: Ticket, jobs: QueueJob[]): QueueJob | undefined {
  const mine = jobs.filter((job) => job.serviceId === ticket.serviceId && job.description === ticket.marker)
  const job = mine.at(-1)
  // job ids are numbered per queue (per server on Dokploy Cloud): only our server's can tell of a restart
  if (ticket.job && sameServer(jobs, ticket.job).some((j) => restarted(ticket.job as SeenJob, j))) ticket.continuous = false
  if (!job) return undefined
  const now = seen(job)
  const queue = sameServer(jobs, job)
  ticket.job = now
  if (job.projectId && job.environmentId) ticket.place = { projectId: job.projectId, environmentId: job.environmentId }
  ticket.floor = job.timestamp
  if (job.state === 'active' && job.processedOn !== undefined) ticket.startedOn = job.processedOn
  for (const other of queue) {
    if (other.serviceId !== ticket.serviceId || other === job) continue
    const candidate = seen(other)
    if (before(candidate, now)) ticket.ahead.set(keyOf(candidate), candidate)
  }
  return job
}

/** A job numbered like ours or lower but enqueued later: the server restarted and reuses ids. */
const restarted = (ours: SeenJob, job: QueueJob): boolean => seqOf(job.id) <= ours.seq && job.timestamp > ours.timestamp

const startOf = (row: DeploymentRow): number => Date.parse(row.startedAt ?? row.createdAt ?? '') || 0

/** Rows that may be ours: new, started after the floor, and not a stranger's (running or cancelled rows keep the description they were queued with). */
export function possibleRows(rows: DeploymentRow[], baseline: Baseline, ticket: Ticket): DeploymentRow[] {
  return rows.filter(
    (row) =>
      !baseline.rowIds?.has(row.deploymentId) &&
      (ticket.floor === undefined || startOf(row) >= ticket.floor) &&
      (row.description === ticket.marker || (row.status !== 'running' && row.status !== 'cancelled'))
  )
}

/** Oldest first: the order the builds of one service started in. */
const byStart = (rows: DeploymentRow[]): DeploymentRow[] => [...rows].sort((a, b) => startOf(a) - startOf(b))

/**
 * Our row, or undefined while it cannot be proven. `jobNow` is our job in the latest queue snapshot
 * (undefined when it is not there): order-based proofs are used only once it has left the queue, when
 * its row is final.
 */
export function identify(rows: DeploymentRow[], baseline: Baseline, ticket: Ticket, jobNow?: QueueJob): Identified | undefined {
  const marked = rows.filter((row) => row.description === ticket.marker)
  if (marked.length) return { row: byStart(marked)[0], by: 'reference' }
  if (!ticket.continuous || !ticket.job) return undefined
  const possible = new Set(possibleRows(rows, baseline, ticket).map((row) => row.deploymentId))
  const fresh = byStart(rows.filter((row) => !baseline.rowIds?.has(row.deploymentId)))

  if (ticket.startedOn !== undefined) {
    // no other job of this service can start while ours runs: the first row after it turned active is ours
    const first = fresh.find((row) => startOf(row) >= (ticket.startedOn as number))
    return first && possible.has(first.deploymentId) ? { row: first, by: 'start time' } : undefined
  }
  if (jobNow) return undefined
  const floor = ticket.job.timestamp
  const after = fresh.filter((row) => startOf(row) >= floor)
  const candidate = after[rowsAheadAfter(rows, ticket, floor)]
  return candidate && possible.has(candidate.deploymentId) ? { row: candidate, by: 'queue order' } : undefined
}

/**
 * Jobs seen ahead of ours whose rows start after our enqueue time: every one seen waiting, and an active
 * one unless its row (the first row started after it turned active) started before we enqueued.
 */
export function rowsAheadAfter(rows: DeploymentRow[], ticket: Ticket, floor: number): number {
  const all = byStart(rows)
  let count = 0
  for (const job of ticket.ahead.values()) {
    if (job.state !== 'active' || job.processedOn === undefined) {
      count++
      continue
    }
    const its = all.find((row) => startOf(row) >= (job.processedOn as number))
    if (!its || startOf(its) >= floor) count++
  }
  return count
}
