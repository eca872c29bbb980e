import { describe, expect, it } from '@jest/globals'
import {
  buildOrder,
  identify,
  jobsAhead,
  newTicket,
  observeQueue,
  possibleRows,
  rowsAheadAfter,
  type Baseline,
  type Ticket
} from '../../src/correlate.js'
import type { DeploymentRow, QueueJob } from '../../src/dokploy/api.js'

const APP = 'A1'
const TITLE = 'abc1234 · CD #42'
const MARKER = 'sha abc1234 · ref 0a1b2c3d'
/** Another step of the same workflow: same title, its own reference. */
const OTHER_MARKER = 'sha abc1234 · ref ffee0011'
const COMMIT = 'Commit: 9f8e7d6c'

/** Server time, ms: tests speak in ms after it. */
const BASE = Date.parse('2026-08-20T10:00:00.000Z')
const at = (ms: number): string => new Date(BASE + ms).toISOString()

/** A queue job of our service, queued `ms` after BASE; a push's unless told otherwise. */
const job = (id: string, ms: number, over: Partial<QueueJob> = {}): QueueJob => ({
  id,
  state: 'waiting',
  serviceId: APP,
  title: 'fix: checkout',
  description: COMMIT,
  timestamp: BASE + ms,
  ...over
})
/** Our job (job-7, queued at 0), waiting unless told otherwise. */
const ourJob = (over: Partial<QueueJob> = {}): QueueJob => job('job-7', 0, { title: TITLE, description: MARKER, ...over })
const activeSince = (ms: number): Partial<QueueJob> => ({ state: 'active', processedOn: BASE + ms })

/** A row of our service that started `ms` after BASE: finished and overwritten by its commit unless told otherwise. */
const row = (deploymentId: string, ms: number, over: Partial<DeploymentRow> = {}): DeploymentRow => ({
  deploymentId,
  title: 'fix: checkout',
  description: COMMIT,
  status: 'done',
  errorMessage: null,
  createdAt: at(ms),
  startedAt: at(ms),
  finishedAt: at(ms + 1000),
  logPath: `/etc/dokploy/logs/web/${deploymentId}.log`,
  buildServerId: null,
  ...over
})
const running = (over: Partial<DeploymentRow> = {}): Partial<DeploymentRow> => ({ status: 'running', finishedAt: null, ...over })

/** Rows as deployment.all returns them: newest first. */
const newestFirst = (...rows: DeploymentRow[]): DeploymentRow[] => [...rows].sort((a, b) => Date.parse(b.startedAt ?? '') - Date.parse(a.startedAt ?? ''))

const OLD = row('old-1', -86_400_000, { title: 'last week', description: 'Commit: 0000000' })
const baseline: Baseline = { rowIds: new Set([OLD.deploymentId]) }

/** A ticket that has seen the given queue snapshots, in order. */
function ticketAfter(...snapshots: QueueJob[][]): Ticket {
  const ticket = newTicket(APP, MARKER)
  for (const jobs of snapshots) observeQueue(ticket, jobs)
  return ticket
}

describe('buildOrder and jobsAhead', () => {
  it('puts active jobs first, then waiting ones oldest first, without reordering the input', () => {
    const jobs = [job('w2', 30), job('a', 50, { state: 'active' }), job('w1', 10)]
    expect(buildOrder(jobs).map((j) => j.id)).toEqual(['a', 'w1', 'w2'])
    expect(jobs.map((j) => j.id)).toEqual(['w2', 'a', 'w1'])
  })

  it('orders jobs queued in the same millisecond by their number', () => {
    const jobs = [job('job-12', 5), job('job-9', 5), job('job-10', 5)]
    expect(buildOrder(jobs).map((j) => j.id)).toEqual(['job-9', 'job-10', 'job-12'])
  })

  it('jobsAhead counts the jobs that will build before one, telling apart a reused id by its timestamp', () => {
    const jobs = [job('w2', 30), job('a', 50, { state: 'active' }), job('w1', 10)]
    expect(jobsAhead(jobs, jobs[0])).toBe(2)
    expect(jobsAhead(jobs, jobs[1])).toBe(0)
    expect(jobsAhead(jobs, job('w2', 999))).toBe(-1)
  })

  it('jobsAhead counts only the queue of the job’s own server (its serverId; none: Dokploy’s own host)', () => {
    const jobs = [
      job('job-1', 0, { state: 'active', serviceId: 'other-1' }),
      job('job-2', 5, { state: 'active', serviceId: 'other-2', serverId: 'srv-1' }),
      job('job-3', 10, { serviceId: 'other-3' }),
      job('job-4', 20, { serverId: 'srv-1' }),
      job('job-5', 30)
    ]
    expect(jobsAhead(jobs, jobs[3])).toBe(1)
    expect(jobsAhead(jobs, jobs[4])).toBe(2)
  })
})

describe('queues per server', () => {
  it('a job on another server numbered like ours but queued later (Cloud numbers each server’s queue) is no restart', () => {
    const ticket = newTicket(APP, MARKER)
    observeQueue(ticket, [ourJob({ serverId: 'srv-1' })])
    observeQueue(ticket, [ourJob({ serverId: 'srv-1' }), job('job-3', 500, { serviceId: 'other', serverId: 'srv-2' })])
    expect(ticket.continuous).toBe(true)
    // the same on our own server is one
    observeQueue(ticket, [job('job-3', 600, { serviceId: 'other', serverId: 'srv-1' })])
    expect(ticket.continuous).toBe(false)
  })

  it('jobs of our service on another server are not counted ahead of ours', () => {
    const ticket = newTicket(APP, MARKER)
    observeQueue(ticket, [job('job-5', -20, { serverId: 'srv-2' }), job('job-6', -10, { serverId: 'srv-1' }), ourJob({ serverId: 'srv-1' })])
    expect([...ticket.ahead.values()].map((j) => j.id)).toEqual(['job-6'])
  })
})

describe('observeQueue', () => {
  it('finds our job by its marker only: not by title, not in another service', () => {
    const ticket = newTicket(APP, MARKER)
    const jobs = [
      job('job-5', -20, { title: TITLE, description: OTHER_MARKER }),
      job('job-6', -10, { serviceId: 'B2', title: TITLE, description: MARKER }),
      ourJob(),
      job('job-8', 10, { title: TITLE })
    ]
    expect(observeQueue(ticket, jobs)?.id).toBe('job-7')
    expect(ticket.job).toMatchObject({ id: 'job-7', seq: 7, timestamp: BASE, state: 'waiting' })
    expect(ticket.floor).toBe(BASE)
    expect(ticket.startedOn).toBeUndefined()
  })

  it('returns undefined and learns nothing while our job is not listed', () => {
    const ticket = newTicket(APP, MARKER, BASE - 2000)
    expect(observeQueue(ticket, [job('job-5', -20, { title: TITLE, description: OTHER_MARKER })])).toBeUndefined()
    expect(ticket).toEqual(newTicket(APP, MARKER, BASE - 2000))
  })

  it('records the jobs of this service queued before ours (the ahead set), not later ones nor other services', () => {
    const ticket = ticketAfter([job('job-4', -30, activeSince(-20)), job('job-5', -10), job('job-6', -5, { serviceId: 'B2' }), ourJob(), job('job-8', 10)])
    expect([...ticket.ahead.keys()]).toEqual([`job-4@${BASE - 30}`, `job-5@${BASE - 10}`])
    expect(ticket.ahead.get(`job-4@${BASE - 30}`)).toMatchObject({ state: 'active', processedOn: BASE - 20 })
  })

  it('keeps the jobs ahead across snapshots, with the state they were last seen in', () => {
    const ticket = ticketAfter([job('job-5', -10), ourJob()], [job('job-5', -10, activeSince(3000)), ourJob()], [ourJob()])
    expect(ticket.ahead.size).toBe(1)
    expect(ticket.ahead.get(`job-5@${BASE - 10}`)).toMatchObject({ state: 'active', processedOn: BASE + 3000 })
  })

  it('notes when our job turned active (processedOn)', () => {
    const ticket = ticketAfter([ourJob()], [ourJob(activeSince(4000))])
    expect(ticket.startedOn).toBe(BASE + 4000)
    expect(ticket.job?.state).toBe('active')
  })

  it('continuity holds while job numbers only grow', () => {
    const ticket = ticketAfter([job('job-5', -10), ourJob()], [ourJob(), job('job-9', 20_000)], [job('job-3', -50_000, { serviceId: 'B2' })])
    expect(ticket.continuous).toBe(true)
  })

  it('restart: a job with our old id but another description is not ours, and breaks continuity', () => {
    const ticket = ticketAfter([ourJob()])
    const after = observeQueue(ticket, [job('job-7', 50_000, { title: TITLE, description: OTHER_MARKER })])
    expect(after).toBeUndefined()
    expect(ticket.continuous).toBe(false)
    expect(ticket.job?.timestamp).toBe(BASE)
  })

  it.each([
    ['a lower number', 'job-2'],
    ['the same number', 'job-7']
  ])('restart: %s with a later timestamp (ids numbered again) breaks continuity, in any service', (_, id) => {
    const ticket = ticketAfter([ourJob()])
    observeQueue(ticket, [job(id, 60_000, { serviceId: 'B2', description: 'whatever' })])
    expect(ticket.continuous).toBe(false)
  })
})

describe('possibleRows', () => {
  it('keeps new rows started at or after the floor that are ours or finished; never a stranger running or cancelled', () => {
    const ticket = newTicket(APP, MARKER, BASE)
    const rows = newestFirst(
      OLD,
      row('before', -1),
      row('at-floor', 0),
      row('error', 10, { status: 'error' }),
      row('ours-running', 20, running({ description: MARKER })),
      row('stranger-running', 30, running({ description: OTHER_MARKER })),
      row('stranger-cancelled', 40, { status: 'cancelled', description: OTHER_MARKER })
    )
    expect(possibleRows(rows, baseline, ticket).map((r) => r.deploymentId).sort()).toEqual(['at-floor', 'error', 'ours-running'])
  })

  it('without a floor or a baseline (wait: false, no Date header) every finished row may be ours', () => {
    const ticket = newTicket(APP, MARKER)
    expect(possibleRows([OLD, row('x', -5000, running())], {}, ticket).map((r) => r.deploymentId)).toEqual(['old-1'])
  })
})

describe('identify', () => {
  describe('1. the marker', () => {
    it('a row carrying our marker is ours while it runs, whatever else is new', () => {
      const mine = row('d-mine', 5000, running({ title: TITLE, description: MARKER }))
      const push = row('d-push', 1000)
      const later = row('d-later', 9000, running({ description: OTHER_MARKER }))
      const ticket = ticketAfter([job('job-5', -10), ourJob()])
      expect(identify(newestFirst(OLD, push, mine, later), baseline, ticket, ourJob(activeSince(4900)))).toEqual({ row: mine, by: 'reference' })
    })

    it('a finished row carrying our marker is ours (a docker build keeps its description)', () => {
      const mine = row('d-mine', 5000, { status: 'error', description: MARKER })
      expect(identify(newestFirst(OLD, row('d-push', 7000), mine), baseline, newTicket(APP, MARKER))).toEqual({ row: mine, by: 'reference' })
    })

    it('the marker proves even after the view of the queue was broken, or with no queue at all', () => {
      const mine = row('d-mine', 5000, { description: MARKER })
      const broken = ticketAfter([ourJob()])
      broken.continuous = false
      expect(identify([mine, OLD], baseline, broken)?.by).toBe('reference')
      expect(identify([mine, OLD], {}, newTicket(APP, MARKER))?.by).toBe('reference')
    })
  })

  describe('nothing proven', () => {
    it('no new row yet', () => {
      expect(identify([OLD], baseline, ticketAfter([ourJob(activeSince(10))]), ourJob(activeSince(10)))).toBeUndefined()
    })

    it('our job never seen in the queue: only the marker can prove', () => {
      expect(identify(newestFirst(OLD, row('d-1', 1000)), baseline, newTicket(APP, MARKER, BASE))).toBeUndefined()
    })

    it('our job still waiting in the queue: no order-based proof yet', () => {
      const ticket = ticketAfter([ourJob()])
      expect(identify(newestFirst(OLD, row('d-1', 1000)), baseline, ticket, ourJob())).toBeUndefined()
    })
  })

  describe('2. a push of the same service building ahead of ours', () => {
    // the push turned active at -500, its row was created at +200, after our enqueue at 0
    const pushJob = job('job-6', -3000, activeSince(-500))
    const pushRow = (over: Partial<DeploymentRow> = {}) => row('d-push', 200, { title: 'feat: pushed', ...over })

    it("while ours waits, the push's running row is not ours", () => {
      const ticket = ticketAfter([pushJob, ourJob()])
      expect(identify(newestFirst(OLD, pushRow(running({ description: 'Commit: pushed' }))), baseline, ticket, ourJob())).toBeUndefined()
    })

    it("once both ended overwritten between two polls, ours is the row after the push's, whatever their statuses", () => {
      const ticket = ticketAfter([pushJob, ourJob()])
      const mine = row('d-mine', 31_200, { status: 'error' })
      const found = identify(newestFirst(OLD, pushRow(), mine), baseline, ticket)
      expect(found).toEqual({ row: mine, by: 'queue order' })
      expect(rowsAheadAfter([OLD, pushRow(), mine], ticket, BASE)).toBe(1)
    })

    it("the push's finished row alone is not taken for ours", () => {
      const ticket = ticketAfter([pushJob, ourJob()])
      expect(identify(newestFirst(OLD, pushRow()), baseline, ticket)).toBeUndefined()
    })
  })

  describe('3. two jobs with the same title (custom title, two steps)', () => {
    it('a running row with our title but another description is never ours, whatever the timing', () => {
      const ticket = ticketAfter([ourJob(activeSince(100))])
      const theirs = row('d-theirs', 200, running({ title: TITLE, description: OTHER_MARKER }))
      expect(identify(newestFirst(OLD, theirs), baseline, ticket, ourJob(activeSince(100)))).toBeUndefined()
      expect(identify(newestFirst(OLD, theirs), baseline, ticket)).toBeUndefined()
    })

    it("the other step's row with our title ahead of ours: only the marker decides", () => {
      const ticket = ticketAfter([job('job-6', -10, { title: TITLE, description: OTHER_MARKER }), ourJob()])
      const theirs = row('d-theirs', 100, running({ title: TITLE, description: OTHER_MARKER }))
      const mine = row('d-mine', 9000, running({ title: TITLE, description: MARKER }))
      expect(identify(newestFirst(OLD, theirs), baseline, ticket, ourJob())).toBeUndefined()
      expect(identify(newestFirst(OLD, theirs, mine), baseline, ticket, ourJob(activeSince(8900)))).toEqual({ row: mine, by: 'reference' })
    })
  })

  describe('4. seen active: the first new row started at or after processedOn', () => {
    it('is ours even when its description was already overwritten (a git build that ended)', () => {
      const ticket = ticketAfter([job('job-6', -10), ourJob()], [ourJob(activeSince(30_700))])
      const push = row('d-push', 200)
      const mine = row('d-mine', 30_900)
      const next = row('d-next', 40_000, running({ description: 'Commit: next push' }))
      expect(identify(newestFirst(OLD, push, mine, next), baseline, ticket)).toEqual({ row: mine, by: 'start time' })
      // also while our job is still listed active
      expect(identify(newestFirst(OLD, push, mine), baseline, ticket, ourJob(activeSince(30_700)))).toEqual({ row: mine, by: 'start time' })
    })

    it('the row started in the same millisecond as processedOn counts', () => {
      const ticket = ticketAfter([ourJob(activeSince(5000))])
      expect(identify(newestFirst(OLD, row('d-mine', 5000)), baseline, ticket)?.row.deploymentId).toBe('d-mine')
    })

    it('a running stranger row that started after ours turned active is not taken', () => {
      const ticket = ticketAfter([ourJob(activeSince(5000))])
      const stranger = row('d-stranger', 5100, running({ description: OTHER_MARKER }))
      expect(identify(newestFirst(OLD, stranger), baseline, ticket, ourJob(activeSince(5000)))).toBeUndefined()
    })

    it('a row of the baseline is never taken', () => {
      const ticket = ticketAfter([ourJob(activeSince(5000))])
      const listedBefore = row('d-before', 6000)
      expect(identify([listedBefore, OLD], { rowIds: new Set(['old-1', 'd-before']) }, ticket)).toBeUndefined()
    })
  })

  describe('5. queue order: seen waiting behind k jobs, then gone', () => {
    it('ours is the k-th row started after our enqueue time', () => {
      const ticket = ticketAfter([job('job-5', -20), job('job-6', -10), ourJob(), job('job-8', 50)])
      const rows = newestFirst(OLD, row('d-5', 1000), row('d-6', 2000), row('d-mine', 3000, { status: 'error' }), row('d-8', 4000))
      expect(rowsAheadAfter(rows, ticket, BASE)).toBe(2)
      expect(identify(rows, baseline, ticket)).toEqual({ row: rows.find((r) => r.deploymentId === 'd-mine'), by: 'queue order' })
    })

    it("an active job ahead whose row started before our enqueue time does not count (it started between the step's requests)", () => {
      // job-4 turned active at -3000, its row at -2900: after the baseline listing, before our deploy
      const ticket = ticketAfter([job('job-4', -9000, activeSince(-3000)), job('job-5', -20), ourJob()])
      const rows = newestFirst(OLD, row('d-4', -2900), row('d-5', 1000), row('d-mine', 2000))
      expect(rowsAheadAfter(rows, ticket, BASE)).toBe(1)
      expect(identify(rows, baseline, ticket)?.row.deploymentId).toBe('d-mine')
    })

    it('an active job ahead whose row started after our enqueue time counts', () => {
      const ticket = ticketAfter([job('job-4', -9000, activeSince(-100)), ourJob()])
      const rows = newestFirst(OLD, row('d-4', 300), row('d-mine', 2000))
      expect(rowsAheadAfter(rows, ticket, BASE)).toBe(1)
      expect(identify(rows, baseline, ticket)?.row.deploymentId).toBe('d-mine')
    })

    it('an active job ahead with no row yet counts', () => {
      const ticket = ticketAfter([job('job-4', -9000, activeSince(-100)), ourJob()])
      expect(rowsAheadAfter([OLD], ticket, BASE)).toBe(1)
    })

    it('while fewer rows than that exist, nothing is ours', () => {
      const ticket = ticketAfter([job('job-5', -20), job('job-6', -10), ourJob()])
      expect(identify(newestFirst(OLD, row('d-5', 1000), row('d-6', 2000)), baseline, ticket)).toBeUndefined()
    })

    it('the row in our place is not taken when it is a running stranger', () => {
      const ticket = ticketAfter([ourJob()])
      expect(identify(newestFirst(OLD, row('d-x', 1000, running({ description: OTHER_MARKER }))), baseline, ticket)).toBeUndefined()
    })
  })

  describe('6. after a restart or an outage only the marker proves', () => {
    it('job ids that restarted: no order or start-time proof', () => {
      const ticket = ticketAfter([ourJob(activeSince(100))], [job('job-1', 60_000, { description: 'Commit: after restart' })])
      expect(ticket.continuous).toBe(false)
      const rows = newestFirst(OLD, row('d-mine', 200, { status: 'cancelled', description: MARKER, title: TITLE }))
      expect(identify(rows, baseline, ticket)?.by).toBe('reference')
      expect(identify(newestFirst(OLD, row('d-1', 200)), baseline, ticket)).toBeUndefined()
    })

    it('an outage (continuity broken by the poller) leaves only the marker', () => {
      const ticket = ticketAfter([ourJob()])
      ticket.continuous = false
      expect(identify(newestFirst(OLD, row('d-1', 1000)), baseline, ticket)).toBeUndefined()
    })
  })
})
