import type { DeploymentRow, QueueJob } from './dokploy/api.js'

/**
 * Which deployment row is the one this step's call created? Dokploy creates a row only when the
 * build starts, behind any other build on the server, and git builds overwrite the title when
 * they end; a push can queue a webhook deployment of the same service just before or after us.
 * The signals, strongest first: the title we sent (while the row runs), the queue order seen
 * right after our call (the nth new row of this service), and, on servers without a queue
 * listing, the only new row.
 */
export interface Baseline {
  rowIds: ReadonlySet<string>
  /** undefined when the server has no deployment.queueList (before v0.28.3). */
  queue?: QueueJob[]
}

export interface Ticket {
  title: string
  jobId?: string
  /** How many new rows of this service come before ours (jobs ahead of ours that had not started). */
  rowsAhead?: number
}

export interface Identified {
  row: DeploymentRow
  by: 'title' | 'queue order' | 'only new row' | 'newest new row'
  /** True when the row could not be told apart from another new one. */
  ambiguous: boolean
}

/** Active jobs first, then waiting ones oldest first: the order in which they will build. */
export function buildOrder(jobs: QueueJob[]): QueueJob[] {
  const rank = (job: QueueJob): number => (job.state === 'active' ? 0 : 1)
  return [...jobs].sort((a, b) => rank(a) - rank(b) || a.timestamp - b.timestamp)
}

/** Our job: new since the baseline, for this service, carrying the title we sent. */
export function findJob(jobs: QueueJob[], serviceId: string, baseline: Baseline, ticket: Ticket): QueueJob | undefined {
  if (ticket.jobId) {
    const known = jobs.find((job) => job.id === ticket.jobId)
    if (known) return known
  }
  const before = new Set(baseline.queue?.map((job) => job.id))
  const mine = jobs.filter((job) => job.serviceId === serviceId && !before.has(job.id) && job.title === ticket.title)
  return mine.at(-1)
}

/** Reads our place in the queue right after the deploy call. */
export function ticketFor(jobs: QueueJob[], serviceId: string, baseline: Baseline, title: string): Ticket {
  const ticket: Ticket = { title }
  const job = findJob(jobs, serviceId, baseline, ticket)
  if (!job) return ticket
  const serviceJobs = buildOrder(jobs).filter((j) => j.serviceId === serviceId)
  const startedAtBaseline = new Set(
    (baseline.queue ?? []).filter((j) => j.serviceId === serviceId && j.state === 'active').map((j) => j.id)
  )
  const ahead = serviceJobs.slice(0, serviceJobs.findIndex((j) => j.id === job.id))
  return { title, jobId: job.id, rowsAhead: ahead.filter((j) => !startedAtBaseline.has(j.id)).length }
}

export function jobsAhead(jobs: QueueJob[], job: QueueJob): number {
  return buildOrder(jobs).findIndex((j) => j.id === job.id)
}

const time = (row: DeploymentRow): number => Date.parse(row.createdAt ?? '') || 0

export function identify(rows: DeploymentRow[], baseline: Baseline, ticket: Ticket): Identified | undefined {
  // rows come newest first; oldest first is the order the builds started in
  const fresh = rows
    .map((row, index) => ({ row, index }))
    .filter(({ row }) => !baseline.rowIds.has(row.deploymentId))
    .sort((a, b) => time(a.row) - time(b.row) || b.index - a.index)
    .map(({ row }) => row)
  if (fresh.length === 0) return undefined

  const titled = fresh.filter((row) => row.title === ticket.title)
  if (titled.length === 1) return { row: titled[0], by: 'title', ambiguous: false }

  // A running row shows the title it was queued with: one that is not ours belongs to someone else.
  const couldBeOurs = (row: DeploymentRow): boolean => row.title === ticket.title || row.status !== 'running'
  if (ticket.rowsAhead !== undefined) {
    const candidate = fresh[ticket.rowsAhead]
    return candidate && couldBeOurs(candidate) ? { row: candidate, by: 'queue order', ambiguous: false } : undefined
  }
  const possible = titled.length > 1 ? titled : fresh.filter(couldBeOurs)
  if (possible.length === 0) return undefined
  // Without a queue listing, a finished row whose title was overwritten may still be a neighbour's.
  if (possible.length === 1) return { row: possible[0], by: 'only new row', ambiguous: possible[0].title !== ticket.title }
  return { row: possible[possible.length - 1], by: 'newest new row', ambiguous: true }
}
