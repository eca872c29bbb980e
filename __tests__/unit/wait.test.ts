import { describe, expect, it, jest } from '@jest/globals'
import type { Baseline, Ticket } from '../../src/correlate.js'
import type { WaitContext } from '../../src/wait.js'
import type { ResourceSpec } from '../../src/operations.js'
import {
  deploymentRow,
  fakeClock,
  fakeServer,
  noProcedure,
  phase,
  queueEntry,
  Raw,
  recordingLog,
  silentCore,
  trpcError,
  type Handler,
  type JobSpec
} from './fake-dokploy.js'

jest.unstable_mockModule('@actions/core', silentCore)

const { DokployClient } = await import('../../src/dokploy/client.js')
const { DokployError } = await import('../../src/dokploy/errors.js')
const { TransportError } = await import('../../src/dokploy/transport.js')
const { SPECS } = await import('../../src/operations.js')
const { followDeployment, followStatus, logTail, FIRST_POLL_MS, LOST_AFTER_MS } = await import('../../src/wait.js')
const { formatDuration } = await import('../../src/logger.js')

const TITLE = '1a2b3c4 · Deploy #42'
const SERVICE = 'A1'
const MINUTE = 60_000

/** A client over a fake Dokploy, a fake clock and a recording log, bound into a WaitContext. */
function setup(handlers: Record<string, Handler>, options: { deadlineMs?: number; capMs?: number; spec?: ResourceSpec; serviceId?: string } = {}) {
  const clock = fakeClock()
  const server = fakeServer(clock, handlers)
  const client = new DokployClient({ baseUrl: 'https://dokploy.example.com', apiKey: 'k', requestTimeoutMs: 30_000, retries: 0, transport: server.transport })
  const log = recordingLog(clock)
  const ctx: WaitContext = {
    client,
    spec: options.spec ?? SPECS.application,
    serviceId: options.serviceId ?? SERVICE,
    deadline: clock.now() + (options.deadlineMs ?? 60 * MINUTE),
    pollCapMs: options.capMs ?? 10_000,
    log,
    sleep: clock.sleep,
    now: clock.now
  }
  return { clock, server, log, ctx, client }
}

const ours = (state: JobSpec['state']): JobSpec => ({ id: 'job-7', state, serviceId: SERVICE, title: TITLE, queuedAt: 0 })
const other = (id: string, state: JobSpec['state'], serviceId = 'B1'): JobSpec => ({ id, state, serviceId, title: `push ${id}`, queuedAt: -60_000 })
const running = (startedAt = 0) => deploymentRow({ deploymentId: 'D9', title: TITLE, status: 'running', startedAt })
const OLD = deploymentRow({ deploymentId: 'OLD1', title: 'yesterday', status: 'done', startedAt: -86_400_000, finishedAt: -86_300_000 })

/** The snapshot taken before the deploy: one old row, and whatever other jobs were queued. */
const baseline = (queue: JobSpec[] = []): Baseline => ({
  rowIds: new Set(['OLD1']),
  queue: queue.map((j) => ({ id: j.id, state: j.state, serviceId: j.serviceId, title: j.title, timestamp: j.queuedAt }))
})
const ticket = (): Ticket => ({ title: TITLE, jobId: 'job-7', rowsAhead: 0 })

/** Each poll delay from the first: 1 s, then ×1.5 (rounded) up to the cap. */
function expectedDelays(count: number, capMs: number): number[] {
  const delays = [FIRST_POLL_MS]
  while (delays.length < count) delays.push(Math.min(capMs, Math.round(delays[delays.length - 1] * 1.5)))
  return delays
}

const heartbeats = (lines: { text: string; at: number; level: string }[], prefix: string) =>
  lines.filter((l) => l.level === 'info' && l.text.startsWith(`${prefix} (`))

/** A build that started at once (our job active, its row running) and stays running. */
const forever: Record<string, Handler> = {
  'deployment.queueList': () => [queueEntry(ours('active'))],
  'deployment.all': () => [running(), OLD]
}

describe('followDeployment: poll timing', () => {
  it('polls after 1 s, then 1.5× longer each time up to the cap, and the last sleep ends exactly at the deadline', async () => {
    const { ctx, clock, server } = setup(forever, { deadlineMs: MINUTE, capMs: 10_000 })
    const result = await followDeployment(ctx, baseline(), ticket(), true)

    expect(result.status).toBe('timeout')
    const delays = clock.sleeps.map((s) => s.ms)
    expect(delays.slice(0, 7)).toEqual([1000, 1500, 2250, 3375, 5063, 7595, 10_000])
    // then the cap, until the deadline cuts the last one short
    expect(delays).toEqual([...expectedDelays(delays.length - 1, 10_000), 60_000 - 50_783])
    expect(delays.every((ms) => ms <= 10_000)).toBe(true)
    for (const s of clock.sleeps) expect(s.at + s.ms).toBeLessThanOrEqual(MINUTE)
    expect(clock.elapsed()).toBe(MINUTE)
    // no request is started at or past the deadline
    expect(server.calls.every((c) => c.at < MINUTE)).toBe(true)
  })

  it('backs off to a smaller cap (poll-interval 3 s)', async () => {
    const { ctx, clock } = setup(forever, { deadlineMs: 30_000, capMs: 3000 })
    await followDeployment(ctx, baseline(), ticket(), true)
    const delays = clock.sleeps.map((s) => s.ms)
    expect(delays.slice(0, 6)).toEqual([1000, 1500, 2250, 3000, 3000, 3000])
    expect(Math.max(...delays)).toBe(3000)
    expect(clock.elapsed()).toBe(30_000)
  })

  it('shortens the sleep that would pass a near deadline, and gives up without another request', async () => {
    const { ctx, clock, server } = setup(forever, { deadlineMs: 3000 })
    const result = await followDeployment(ctx, baseline(), ticket(), true)
    expect(clock.sleeps).toEqual([
      { at: 0, ms: 1000 },
      { at: 1000, ms: 1500 },
      { at: 2500, ms: 500 }
    ])
    expect(result.status).toBe('timeout')
    expect(server.calls.map((c) => c.at)).not.toContain(3000)
  })
})

describe('followDeployment: what it prints and what it asks', () => {
  /**
   * Our job waits behind two builds (45 s), then one (25 s), is next (20 s), builds for 5 minutes
   * from 90 s, and ends done at 390 s.
   */
  function queuedThenBuilt() {
    const { ctx, clock, server, log } = setup({
      'deployment.queueList': ({ at }) =>
        phase(at, [
          [0, [other('job-1', 'active'), other('job-2', 'waiting', 'B2'), ours('waiting')]],
          [45_000, [other('job-2', 'active', 'B2'), ours('waiting')]],
          [70_000, [ours('waiting')]],
          [90_000, [ours('active')]],
          [390_000, []]
        ]).map(queueEntry),
      'deployment.all': ({ at }) =>
        phase(at, [
          [0, [OLD]],
          [90_000, [running(90_000), OLD]],
          [390_000, [deploymentRow({ deploymentId: 'D9', title: 'feat: the commit', status: 'done', startedAt: 90_000, finishedAt: 390_000 }), OLD]]
        ])
    })
    return { ctx, clock, server, log, base: baseline([other('job-1', 'active'), other('job-2', 'waiting', 'B2')]) }
  }

  it('prints one line per change of state: queued N → next → started → running, then done', async () => {
    const { ctx, log, base } = queuedThenBuilt()
    const result = await followDeployment(ctx, base, ticket(), true)

    expect(result.status).toBe('done')
    expect(result.row?.deploymentId).toBe('D9')
    const changes = log.lines.filter((l) => !/^Still (queued|building) \(/.test(l.text)).map((l) => l.text)
    expect(changes).toEqual([
      'Queued: behind 2 other build(s) on this server.',
      'Queued: behind 1 other build(s) on this server.',
      'Queued: next to build.',
      'Build started: deployment D9, matched by the title this step sent.'
    ])
    expect(log.warnings()).toEqual([])
  })

  it('prints a heartbeat with the elapsed time at most every 30 s, not one per poll', async () => {
    const { ctx, log, server, base } = queuedThenBuilt()
    await followDeployment(ctx, base, ticket(), true)

    // 45 s behind two builds: one "Still queued" after 30 s
    const queued = heartbeats(log.lines, 'Still queued')
    expect(queued).toHaveLength(1)
    // a 5-minute build: about one heartbeat every 30 s, about ten in all
    const building = heartbeats(log.lines, 'Still building')
    expect(building.length).toBeGreaterThanOrEqual(8)
    expect(building.length).toBeLessThanOrEqual(10)
    const polls = server.calls.filter((c) => c.procedure === 'deployment.all').length
    expect(polls).toBeGreaterThan(3 * building.length)

    const infos = log.lines.filter((l) => l.level === 'info')
    for (let i = 1; i < infos.length; i++) {
      if (/^Still /.test(infos[i].text)) {
        // a heartbeat comes 30 s (and at most one poll more) after the line before it
        expect(infos[i].at - infos[i - 1].at).toBeGreaterThanOrEqual(30_000)
        expect(infos[i].at - infos[i - 1].at).toBeLessThanOrEqual(30_000 + 10_000)
      }
    }
    // each heartbeat tells the time elapsed since following began (fake time)
    for (const line of [...queued, ...building]) expect(line.text).toMatch(new RegExp(`\\(${formatDuration(line.at)}\\)$`))
    // in all: four state lines and the heartbeats, for ~45 polls
    expect(infos.length).toBe(4 + queued.length + building.length)
    expect(infos.length).toBeLessThanOrEqual(16)
  })

  it('asks only for the queue while the job waits in it, and only for the deployment list once its row is found', async () => {
    const { ctx, server, base } = queuedThenBuilt()
    await followDeployment(ctx, base, ticket(), true)

    const waiting = server.calls.filter((c) => c.at < 90_000)
    expect(waiting.length).toBeGreaterThan(5)
    expect(new Set(waiting.map((c) => c.procedure))).toEqual(new Set(['deployment.queueList']))

    const firstList = server.calls.findIndex((c) => c.procedure === 'deployment.all')
    expect(server.calls[firstList].at).toBeGreaterThanOrEqual(90_000)
    // the poll that found the row asked the queue first; after it, only this service's list
    expect(server.calls[firstList - 1].procedure).toBe('deployment.queueList')
    expect(new Set(server.procedures().slice(firstList))).toEqual(new Set(['deployment.all']))
    // only the service's own list, with its id
    expect(server.calls[firstList].input).toEqual({ applicationId: SERVICE })
  })

  it('uses the queue read right after the deploy for its first poll', async () => {
    const { ctx, server } = setup(forever, { deadlineMs: 500 })
    await followDeployment(ctx, baseline(), ticket(), true, [{ id: 'job-7', state: 'active', serviceId: SERVICE, title: TITLE, timestamp: 0 }])
    expect(server.procedures()).toEqual(['deployment.all'])
  })

  it('stays within a bound of requests per waited minute over a 10-minute build (default cap 10 s)', async () => {
    const { ctx, server } = setup({
      'deployment.queueList': ({ at }) => (at < 10 * MINUTE ? [queueEntry(ours('active'))] : []),
      'deployment.all': ({ at }) =>
        at < 10 * MINUTE
          ? [running(), OLD]
          : [deploymentRow({ deploymentId: 'D9', title: TITLE, status: 'done', startedAt: 0, finishedAt: 10 * MINUTE }), OLD]
    })
    const result = await followDeployment(ctx, baseline(), ticket(), true)
    expect(result.status).toBe('done')

    const perMinute = new Array<number>(11).fill(0)
    for (const c of server.calls) perMinute[Math.floor(c.at / MINUTE)]++
    // the first minute backs off from 1 s; afterwards one request every 10 s
    expect(perMinute[0]).toBeLessThanOrEqual(12)
    for (let minute = 1; minute < 10; minute++) expect(perMinute[minute]).toBeLessThanOrEqual(8)
    expect(server.calls.length).toBeLessThanOrEqual(70)
  })
})

describe('followDeployment: results', () => {
  const ended = (status: 'done' | 'error' | 'cancelled', errorMessage?: string) =>
    setup({
      'deployment.queueList': ({ at }) => (at < 20_000 ? [queueEntry(ours('active'))] : []),
      'deployment.all': ({ at }) => [
        at < 20_000 ? running() : deploymentRow({ deploymentId: 'D9', title: TITLE, status, errorMessage, startedAt: 0, finishedAt: 20_000 }),
        OLD
      ]
    })

  it('done: the row that ended done', async () => {
    const { ctx, log } = ended('done')
    const result = await followDeployment(ctx, baseline(), ticket(), true)
    expect(result).toMatchObject({ status: 'done', row: { deploymentId: 'D9', status: 'done' }, identified: { by: 'title', ambiguous: false } })
    expect(result.detail).toBe('Deployment D9 ended done after 20s of build.')
    expect(log.infos()).toContain('Build started: deployment D9, matched by the title this step sent.')
  })

  it("error: the row, with its errorMessage kept for the report", async () => {
    const { ctx } = ended('error', 'Error: build failed\n::error::exit code 1')
    const result = await followDeployment(ctx, baseline(), ticket(), true)
    expect(result.status).toBe('error')
    expect(result.row?.errorMessage).toBe('Error: build failed\n::error::exit code 1')
    expect(result.detail).toBe('Deployment D9 ended error after 20s of build.')
  })

  it('cancelled: a server restart cancels the running row', async () => {
    const { ctx } = ended('cancelled')
    const result = await followDeployment(ctx, baseline(), ticket(), true)
    expect(result.status).toBe('cancelled')
    expect(result.detail).toBe('Deployment D9 ended cancelled after 20s of build.')
  })

  it('an unknown final status counts as an error', async () => {
    const { ctx } = setup({ 'deployment.queueList': () => [], 'deployment.all': () => [{ ...(running() as object), status: 'exploded' }, OLD] })
    const result = await followDeployment(ctx, baseline(), ticket(), true)
    expect(result.status).toBe('error')
  })

  it('timeout while building: reports the row it found, which is left running', async () => {
    const { ctx } = setup(forever, { deadlineMs: MINUTE })
    const result = await followDeployment(ctx, baseline(), ticket(), true)
    expect(result.status).toBe('timeout')
    expect(result.row?.deploymentId).toBe('D9')
    expect(result.identified?.by).toBe('title')
    expect(result.detail).toContain('Gave up after 1m 00s (wait-timeout): deployment D9 was still running.')
    expect(result.detail).toContain('does not kill builds')
  })

  it('timeout while queued: the build had not started, and there is no row', async () => {
    const { ctx, server } = setup(
      { 'deployment.queueList': () => [other('job-1', 'active'), ours('waiting')].map(queueEntry), 'deployment.all': () => [OLD] },
      { deadlineMs: 2 * MINUTE }
    )
    const result = await followDeployment(ctx, baseline([other('job-1', 'active')]), ticket(), true)
    expect(result.status).toBe('timeout')
    expect(result.row).toBeUndefined()
    expect(result.identified).toBeUndefined()
    expect(result.detail).toContain('Gave up after 2m 00s (wait-timeout): the build had not started.')
    expect(server.procedures()).not.toContain('deployment.all')
  })

  it('lost: our job left the queue and no row appeared for LOST_AFTER_MS', async () => {
    const { ctx, server, clock } = setup({
      'deployment.queueList': ({ at }) => (at < 5000 ? [queueEntry(ours('waiting'))] : []),
      'deployment.all': () => [OLD]
    })
    const result = await followDeployment(ctx, baseline(), ticket(), true)
    expect(result.status).toBe('lost')
    expect(result.row).toBeUndefined()
    expect(result.detail).toMatch(/neither in the build queue nor in the deployment list \(for \d+s\): the server probably restarted/)

    // declared at the first poll at least LOST_AFTER_MS after the first one that missed the job
    const lists = server.calls.filter((c) => c.procedure === 'deployment.all').map((c) => c.at)
    const missedAt = lists[0]
    expect(missedAt).toBeGreaterThanOrEqual(5000)
    expect(lists.at(-1)! - missedAt).toBeGreaterThanOrEqual(LOST_AFTER_MS)
    expect(lists.at(-2)! - missedAt).toBeLessThan(LOST_AFTER_MS)
    expect(clock.elapsed()).toBe(lists.at(-1))
  })

  it('not lost: the job left the queue and its row showed up within LOST_AFTER_MS (title already overwritten)', async () => {
    const { ctx } = setup({
      'deployment.queueList': ({ at }) => (at < 5000 ? [queueEntry(ours('waiting'))] : []),
      'deployment.all': ({ at }) =>
        at < 15_000 ? [OLD] : [deploymentRow({ deploymentId: 'D9', title: 'feat: the commit', status: 'done', startedAt: 5000, finishedAt: 6000 }), OLD]
    })
    const result = await followDeployment(ctx, baseline(), ticket(), true)
    expect(result.status).toBe('done')
    expect(result.identified).toMatchObject({ by: 'queue order', row: { deploymentId: 'D9' } })
  })

  it('a job seen again resets the lost timer', async () => {
    // gone 5–17 s, back 17–30 s (a flaky listing), gone again from 30 s: lost only 15 s after 30 s
    const { ctx, clock } = setup({
      'deployment.queueList': ({ at }) => (phase(at, [[0, true], [5000, false], [17_000, true], [30_000, false]]) ? [queueEntry(ours('waiting'))] : []),
      'deployment.all': () => [OLD]
    })
    const result = await followDeployment(ctx, baseline(), ticket(), true)
    expect(result.status).toBe('lost')
    expect(clock.elapsed()).toBeGreaterThanOrEqual(30_000 + LOST_AFTER_MS)
  })

  it('lost: the row it followed vanished from the list', async () => {
    const { ctx } = setup({
      'deployment.queueList': () => [queueEntry(ours('active'))],
      'deployment.all': ({ at }) => (at < 10_000 ? [running(), OLD] : [OLD])
    })
    const result = await followDeployment(ctx, baseline(), ticket(), true)
    expect(result.status).toBe('lost')
    expect(result.row?.deploymentId).toBe('D9')
    expect(result.detail).toBe("Deployment D9 vanished from Dokploy's list (was it deleted?).")
  })
})

describe('followDeployment without a queue listing (before v0.28.3)', () => {
  const noQueue = (rows: Handler): Record<string, Handler> => ({
    'deployment.queueList': () => new Raw(noProcedure('deployment.queueList')),
    'deployment.all': rows
  })
  const noQueueBaseline = (): Baseline => ({ rowIds: new Set(['OLD1']) })

  it('waits as long as it takes for a row, never declaring the build lost, and never asks for the queue', async () => {
    const { ctx, server, log } = setup(
      noQueue(({ at }) =>
        at < 5 * MINUTE ? [OLD] : [deploymentRow({ deploymentId: 'D9', title: 'feat: the commit', status: 'done', startedAt: 4 * MINUTE, finishedAt: 5 * MINUTE }), OLD]
      )
    )
    const result = await followDeployment(ctx, noQueueBaseline(), { title: TITLE }, false)

    expect(result.status).toBe('done')
    expect(result.identified).toMatchObject({ by: 'only new row', ambiguous: true })
    expect(server.procedures()).not.toContain('deployment.queueList')
    const infos = log.infos()
    expect(infos.filter((l) => l === 'Waiting for the build to start (this Dokploy cannot list its queue).')).toHaveLength(1)
    const beats = heartbeats(log.lines, 'Still waiting for the build to start')
    expect(beats.length).toBeGreaterThanOrEqual(8)
    expect(beats.length).toBeLessThanOrEqual(10)
  })

  it('times out, not lost, when no row ever appears', async () => {
    const { ctx } = setup(noQueue(() => [OLD]), { deadlineMs: 10 * MINUTE })
    const result = await followDeployment(ctx, noQueueBaseline(), { title: TITLE }, false)
    expect(result.status).toBe('timeout')
    expect(result.detail).toContain('the build had not started')
  })
})

describe('followStatus (a synchronous call whose answer was lost)', () => {
  const postgres = (status: Handler, options: { deadlineMs?: number } = {}) =>
    setup({ 'postgres.one': (call) => ({ postgresId: 'P1', name: 'db', appName: 'db-q1', applicationStatus: status(call) }) }, { ...options, spec: SPECS.postgres, serviceId: 'P1' })

  it('follows running until done, reading only the status, with the same back-off', async () => {
    const { ctx, server, clock, log } = postgres(({ at }) => (at < 45_000 ? 'running' : 'done'))
    const result = await followStatus(ctx, 'done')

    expect(result).toEqual({ ok: true, status: 'done', detail: 'Dokploy reports postgres status done.' })
    expect(new Set(server.procedures())).toEqual(new Set(['postgres.one']))
    expect(server.calls[0].input).toEqual({ postgresId: 'P1' })
    expect(clock.sleeps.map((s) => s.ms)).toEqual(expectedDelays(clock.sleeps.length, 10_000))
    expect(log.infos()).toEqual(['Dokploy is still working on the postgres (status running).', `Still running (${formatDuration(30_783)})`])
  })

  it('follows running until error, which is not the expected status', async () => {
    const { ctx } = postgres(({ at }) => (at < 10_000 ? 'running' : 'error'))
    const result = await followStatus(ctx, 'done')
    expect(result).toEqual({ ok: false, status: 'error', detail: 'Dokploy reports postgres status error, expected done.' })
  })

  it('answers at once when the status is already final', async () => {
    const { ctx, server, clock } = postgres(() => 'idle')
    expect(await followStatus(ctx, 'idle')).toMatchObject({ ok: true, status: 'idle' })
    expect(server.calls).toHaveLength(1)
    expect(clock.sleeps).toEqual([])
  })

  it('times out at the deadline when it stays running', async () => {
    const { ctx, clock, server } = postgres(() => 'running', { deadlineMs: 90_000 })
    const result = await followStatus(ctx, 'done')
    expect(result).toEqual({ ok: false, status: 'timeout', detail: 'Gave up after 1m 30s (wait-timeout): the postgres was still running.' })
    expect(clock.elapsed()).toBe(90_000)
    for (const s of clock.sleeps) expect(s.at + s.ms).toBeLessThanOrEqual(90_000)
    expect(server.calls.every((c) => c.at < 90_000)).toBe(true)
  })
})

describe('logTail', () => {
  const withLogs = (handler: Handler) => setup({ 'deployment.readLogs': handler })

  it('returns the tail without trailing blank lines, asking for the number of lines wanted', async () => {
    const { client, server, log } = withLogs(() => 'step 1\nstep 2\nERROR: failed\n\n')
    expect(await logTail(client, 'D9', 50, log)).toBe('step 1\nstep 2\nERROR: failed')
    expect(server.calls).toEqual([expect.objectContaining({ procedure: 'deployment.readLogs', method: 'GET', input: { deploymentId: 'D9', tail: 50 } })])
  })

  it('returns undefined for an empty log', async () => {
    const { client, log } = withLogs(() => '  \n')
    expect(await logTail(client, 'D9', 50, log)).toBeUndefined()
  })

  it('asks nothing when log-lines is 0', async () => {
    const { client, server, log } = withLogs(() => 'x')
    expect(await logTail(client, 'D9', 0, log)).toBeUndefined()
    expect(server.calls).toEqual([])
  })

  it('says the server cannot return build logs on a 404 "No procedure found" (before v0.29.6)', async () => {
    const { client, log } = withLogs(() => new Raw(noProcedure('deployment.readLogs')))
    expect(await logTail(client, 'D9', 50, log)).toBeUndefined()
    expect(log.infos()).toEqual(['This Dokploy cannot return build logs (deployment.readLogs needs v0.29.6): see the dashboard.'])
  })

  it('logs any other failure and returns undefined', async () => {
    const { client, log } = withLogs(() => new Raw(trpcError(404, 'NOT_FOUND', 'Deployment not found')))
    expect(await logTail(client, 'D9', 50, log)).toBeUndefined()
    expect(log.infos()).toHaveLength(1)
    expect(log.infos()[0]).toMatch(/^Could not read the build log: Dokploy found nothing for deployment\.readLogs/)
  })

  it('lets a runner cancellation through', async () => {
    const { client, log } = withLogs(() => {
      throw new TransportError('cancelled', 'cancelled by the runner')
    })
    await expect(logTail(client, 'D9', 50, log)).rejects.toBeInstanceOf(DokployError)
    expect(log.lines).toEqual([])
  })
})
