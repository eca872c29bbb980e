import { describe, expect, it } from '@jest/globals'
import { buildOrder, findJob, identify, jobsAhead, ticketFor, type Baseline } from '../../src/correlate.js'
import type { DeploymentRow, QueueJob } from '../../src/dokploy/api.js'

const APP = 'A1'
const OURS = 'abc1234 · CD #42'

const job = (id: string, timestamp: number, over: Partial<QueueJob> = {}): QueueJob => ({
  id,
  state: 'waiting',
  serviceId: APP,
  title: 'webhook',
  timestamp,
  ...over
})

const row = (deploymentId: string, createdAt: string, over: Partial<DeploymentRow> = {}): DeploymentRow => ({
  deploymentId,
  title: 'old',
  status: 'done',
  errorMessage: null,
  createdAt,
  startedAt: createdAt,
  finishedAt: null,
  ...over
})

const T = (minute: number): string => `2026-08-20T10:${String(minute).padStart(2, '0')}:00.000Z`

/** Rows as deployment.all returns them: newest first. */
const newestFirst = (...rows: DeploymentRow[]): DeploymentRow[] => [...rows].sort((a, b) => Date.parse(b.createdAt ?? '') - Date.parse(a.createdAt ?? ''))

const OLD = row('old-1', T(0), { title: 'last week' })

describe('buildOrder', () => {
  it('puts active jobs first, then waiting ones oldest first', () => {
    const jobs = [job('w2', 30), job('a', 50, { state: 'active' }), job('w1', 10)]
    expect(buildOrder(jobs).map((j) => j.id)).toEqual(['a', 'w1', 'w2'])
    expect(jobs.map((j) => j.id)).toEqual(['w2', 'a', 'w1'])
  })

  it('jobsAhead counts the jobs that will build before one', () => {
    const jobs = [job('w2', 30), job('a', 50, { state: 'active' }), job('w1', 10)]
    expect(jobsAhead(jobs, jobs[0])).toBe(2)
    expect(jobsAhead(jobs, jobs[1])).toBe(0)
  })
})

describe('findJob', () => {
  const baseline: Baseline = { rowIds: new Set(), queue: [job('before', 1, { title: OURS })] }

  it('finds our new job of this service by title, ignoring jobs from the baseline and other services', () => {
    const jobs = [job('before', 1, { title: OURS }), job('other-svc', 2, { serviceId: 'B2', title: OURS }), job('mine', 3, { title: OURS }), job('hook', 4)]
    expect(findJob(jobs, APP, baseline, { title: OURS })?.id).toBe('mine')
  })

  it('follows a known job id', () => {
    const jobs = [job('x', 1, { title: 'renamed' })]
    expect(findJob(jobs, APP, baseline, { title: OURS, jobId: 'x' })?.id).toBe('x')
  })

  it('returns undefined when no new job carries our title', () => {
    expect(findJob([job('before', 1, { title: OURS }), job('hook', 2)], APP, baseline, { title: OURS })).toBeUndefined()
  })
})

describe('ticketFor', () => {
  it('has no place in the queue when our job is not listed', () => {
    expect(ticketFor([], APP, { rowIds: new Set(), queue: [] }, OURS)).toEqual({ title: OURS })
  })

  it('counts a webhook job queued just before ours', () => {
    const jobs = [job('hook', 100), job('mine', 101, { title: OURS })]
    expect(ticketFor(jobs, APP, { rowIds: new Set(), queue: [] }, OURS)).toEqual({ title: OURS, jobId: 'mine', rowsAhead: 1 })
  })

  it('does not count a webhook job queued after ours, nor another service', () => {
    const jobs = [job('other', 50, { serviceId: 'B2' }), job('mine', 101, { title: OURS }), job('hook', 102)]
    expect(ticketFor(jobs, APP, { rowIds: new Set(), queue: [] }, OURS).rowsAhead).toBe(0)
  })

  it('does not count a job that was already building at the baseline (its row already existed)', () => {
    const building = job('building', 10, { state: 'active' })
    const jobs = [building, job('waiting-before', 20), job('mine', 101, { title: OURS })]
    const ticket = ticketFor(jobs, APP, { rowIds: new Set(['old-1']), queue: [building, job('waiting-before', 20)] }, OURS)
    expect(ticket).toEqual({ title: OURS, jobId: 'mine', rowsAhead: 1 })
  })
})

describe('identify', () => {
  const baseline: Baseline = { rowIds: new Set([OLD.deploymentId]), queue: [] }

  it('returns undefined while there is no new row', () => {
    expect(identify([OLD], baseline, { title: OURS, rowsAhead: 0 })).toBeUndefined()
  })

  it('matches the new row carrying our title', () => {
    const mine = row('d-2', T(2), { title: OURS, status: 'running' })
    const hook = row('d-1', T(1), { title: 'webhook', status: 'done' })
    expect(identify(newestFirst(OLD, hook, mine), baseline, { title: OURS, rowsAhead: 1 })).toEqual({ row: mine, by: 'title', ambiguous: false })
  })

  it('webhook queued before ours: ours is the 2nd new row even after its title was overwritten', () => {
    const hook = row('d-hook', T(1), { title: 'fix: checkout', status: 'done' })
    const mine = row('d-mine', T(2), { title: 'fix: checkout', status: 'done' })
    const found = identify(newestFirst(OLD, hook, mine), baseline, { title: OURS, jobId: 'mine', rowsAhead: 1 })
    expect(found).toEqual({ row: mine, by: 'queue order', ambiguous: false })
  })

  it('webhook queued before ours: while only the webhook row exists, nothing is ours yet', () => {
    const hook = row('d-hook', T(1), { title: 'fix: checkout', status: 'done' })
    expect(identify(newestFirst(OLD, hook), baseline, { title: OURS, rowsAhead: 1 })).toBeUndefined()
  })

  it('webhook queued after ours: ours is the 1st new row', () => {
    const mine = row('d-mine', T(1), { title: 'fix: checkout', status: 'error' })
    const hook = row('d-hook', T(2), { title: 'webhook', status: 'running' })
    expect(identify(newestFirst(OLD, mine, hook), baseline, { title: OURS, rowsAhead: 0 })).toEqual({ row: mine, by: 'queue order', ambiguous: false })
  })

  it('orders rows of the same second by their position in the list', () => {
    const first = row('d-first', T(1), { title: 'x', status: 'done' })
    const second = row('d-second', T(1), { title: 'x', status: 'done' })
    // newest first: second is listed before first
    expect(identify([second, first, OLD], baseline, { title: OURS, rowsAhead: 1 })?.row.deploymentId).toBe('d-second')
    expect(identify([second, first, OLD], baseline, { title: OURS, rowsAhead: 0 })?.row.deploymentId).toBe('d-first')
  })

  it('never takes a running row with a foreign title, by queue order', () => {
    const hook = row('d-hook', T(1), { title: 'webhook', status: 'running' })
    expect(identify(newestFirst(OLD, hook), baseline, { title: OURS, rowsAhead: 0 })).toBeUndefined()
  })

  it('never takes a running row with a foreign title, without queue information', () => {
    const hook = row('d-hook', T(1), { title: 'webhook', status: 'running' })
    expect(identify(newestFirst(OLD, hook), { rowIds: baseline.rowIds }, { title: OURS })).toBeUndefined()
  })

  it('without queue information, takes the only new row, flagged ambiguous when its title differs', () => {
    const overwritten = row('d-1', T(1), { title: 'fix: checkout', status: 'done' })
    expect(identify(newestFirst(OLD, overwritten), { rowIds: baseline.rowIds }, { title: OURS })).toEqual({
      row: overwritten,
      by: 'only new row',
      ambiguous: true
    })
  })

  it('without queue information, the only new row with our title is not ambiguous', () => {
    const mine = row('d-1', T(1), { title: OURS, status: 'done' })
    expect(identify(newestFirst(OLD, mine), { rowIds: baseline.rowIds }, { title: OURS })).toMatchObject({ row: mine, ambiguous: false })
  })

  it('without queue information, ignores a foreign running row and takes the other one', () => {
    const mine = row('d-1', T(1), { title: 'fix: checkout', status: 'done' })
    const hook = row('d-2', T(2), { title: 'webhook', status: 'running' })
    expect(identify(newestFirst(OLD, mine, hook), { rowIds: baseline.rowIds }, { title: OURS })).toEqual({
      row: mine,
      by: 'only new row',
      ambiguous: true
    })
  })

  it('with several candidate new rows, takes the newest and says it is ambiguous', () => {
    const a = row('d-a', T(1), { title: 'fix: a', status: 'done' })
    const b = row('d-b', T(3), { title: 'fix: b', status: 'error' })
    const c = row('d-c', T(2), { title: 'fix: c', status: 'done' })
    expect(identify(newestFirst(OLD, a, b, c), { rowIds: baseline.rowIds }, { title: OURS })).toEqual({
      row: b,
      by: 'newest new row',
      ambiguous: true
    })
  })

  it('with several new rows carrying our title, takes the newest of those, ambiguous', () => {
    const a = row('d-a', T(1), { title: OURS, status: 'done' })
    const b = row('d-b', T(2), { title: OURS, status: 'running' })
    const other = row('d-c', T(3), { title: 'fix', status: 'done' })
    expect(identify(newestFirst(OLD, a, b, other), { rowIds: baseline.rowIds }, { title: OURS })).toEqual({
      row: b,
      by: 'newest new row',
      ambiguous: true
    })
  })
})
