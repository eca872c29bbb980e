import { describe, expect, it, jest } from '@jest/globals'
import type { Baseline, Identified, Ticket } from '../../src/correlate.js'
import type { QueueJob } from '../../src/dokploy/api.js'
import type { WaitContext } from '../../src/poller.js'
import type { RawResponse } from '../../src/dokploy/transport.js'
import type { ResourceSpec } from '../../src/operations.js'
import {
  deploymentRow,
  EPOCH,
  fakeClock,
  fakeServer,
  noProcedure,
  phase,
  queueEntry,
  Raw,
  recordingLog,
  reply,
  silentCore,
  trpcError,
  type Handler,
  type JobSpec,
  type RowSpec
} from './fake-dokploy.js'

jest.unstable_mockModule('@actions/core', silentCore)

const { DokployClient } = await import('../../src/dokploy/client.js')
const { DokployError } = await import('../../src/dokploy/errors.js')
const { TransportError } = await import('../../src/dokploy/transport.js')
const { SPECS } = await import('../../src/operations.js')
const { identifyOwnRow } = await import('../../src/identify.js')
const { ended, followRow } = await import('../../src/follow-row.js')
const { followStatus } = await import('../../src/follow-status.js')
const { logTail } = await import('../../src/log-tail.js')
const { Poller } = await import('../../src/poller.js')
const { TIMINGS } = await import('../../src/timings.js')
const FIRST_POLL_MS = TIMINGS.firstPollMs
const LOST_AFTER_MS = TIMINGS.lostAfterMs
const { newTicket } = await import('../../src/correlate.js')
const { formatDuration } = await import('../../src/logger.js')

const TITLE = '1a2b3c4 · Deploy #42'
/** The description this step sent: the user's plus its reference. */
const MARKER = 'sha 1a2b3c4 · ref 0a1b2c3d'
/** Another step's deploy with the same custom title. */
const OTHER_MARKER = 'sha 1a2b3c4 · ref ffee0011'
const SERVICE = 'A1'
const MINUTE = 60_000

/** A client over a fake Dokploy, a fake clock and a recording log, bound into a WaitContext. */
function setup(handlers: Record<string, Handler>, options: { deadlineMs?: number; capMs?: number; spec?: ResourceSpec; serviceId?: string } = {}) {
  const clock = fakeClock()
  const server = fakeServer(clock, handlers)
  const client = new DokployClient({ baseUrl: 'https://dokploy.example.com', apiKey: 'k', requestTimeoutMs: 30_000, retries: 0, transport: server.transport, clock: { now: clock.now, sleep: clock.sleep } })
  const log = recordingLog(clock)
  const ctx: WaitContext = {
    client,
    spec: options.spec ?? SPECS.application,
    serviceId: options.serviceId ?? SERVICE,
    deadline: clock.now() + (options.deadlineMs ?? 60 * MINUTE),
    pollCapMs: options.capMs ?? 10_000,
    log,
    clock: { now: clock.now, sleep: clock.sleep },
    timings: TIMINGS
  }
  return { clock, server, log, ctx, client }
}

/** Our job: job-7, queued at 0 with our marker; active since `processedOn` (0 unless told). */
const ours = (state: JobSpec['state'], over: Partial<JobSpec> = {}): JobSpec => ({
  id: 'job-7',
  state,
  serviceId: SERVICE,
  title: TITLE,
  description: MARKER,
  queuedAt: 0,
  processedOn: state === 'active' ? 0 : undefined,
  ...over
})
/** Someone else's job (a push), of another service unless told. */
const other = (id: string, state: JobSpec['state'], serviceId = 'B1', over: Partial<JobSpec> = {}): JobSpec => ({
  id,
  state,
  serviceId,
  title: `push ${id}`,
  description: `Commit: ${id}`,
  queuedAt: -60_000,
  processedOn: state === 'active' ? -30_000 : undefined,
  ...over
})
/** A row of our service. */
const row = (deploymentId: string, startedAt: number, over: Partial<RowSpec> = {}) =>
  deploymentRow({ deploymentId, title: 'feat: the commit', description: 'Commit: 9f8e7d6', status: 'done', startedAt, finishedAt: startedAt + 1000, ...over })
/** Our row while it builds: it shows our marker. */
const running = (startedAt = 0) => deploymentRow({ deploymentId: 'D9', title: TITLE, description: MARKER, status: 'running', startedAt })
const OLD = deploymentRow({ deploymentId: 'OLD1', title: 'yesterday', status: 'done', startedAt: -86_400_000, finishedAt: -86_300_000 })

/** The rows listed before the deploy: one old row. */
const baseline = (): Baseline => ({ rowIds: new Set(['OLD1']) })
const ticket = (): Ticket => newTicket(SERVICE, MARKER)

/** A proxy's HTML error page. */
const html502: RawResponse = {
  status: 502,
  header: (name) => (name.toLowerCase() === 'content-type' ? 'text/html' : null),
  text: '<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>',
  bytes: 80
}
const refused = (): never => {
  throw new TransportError('refused', 'connect ECONNREFUSED 10.0.0.5:443', 'ECONNREFUSED')
}

/** Identifies the step's own row, then follows it by polling; records each identification with the fake time it came at. */
async function follow(
  s: ReturnType<typeof setup>,
  options: { queueSupported?: boolean; firstQueue?: QueueJob[]; ticket?: Ticket; baseline?: Baseline } = {}
) {
  const identified: { at: number; found: Identified }[] = []
  const poller = new Poller(s.ctx)
  const search = { baseline: options.baseline ?? baseline(), ticket: options.ticket ?? ticket(), queueSupported: options.queueSupported ?? true, firstQueue: options.firstQueue }
  const found = await identifyOwnRow(s.ctx, poller, search)
  if ('status' in found) return { result: found, identified }
  identified.push({ at: s.clock.elapsed(), found })
  const result = found.row.status === 'running' ? await followRow(s.ctx, poller, found) : ended(found)
  return { result, identified }
}

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

/** Poll times with the default cap: 0, 1 s, 2.5 s, 4.75 s, 8.125 s, 13.188 s, 20.783 s, 30.783 s, 40.783 s, … */
const MATCHED_BY_MARKER = 'Build started: deployment D9, matched by the reference this step put in its description.'

describe('following a deployment: poll timing', () => {
  it('polls after 1 s, then 1.5× longer each time up to the cap, and the last sleep ends exactly at the deadline', async () => {
    const s = setup(forever, { deadlineMs: MINUTE, capMs: 10_000 })
    const { result } = await follow(s)
    const { clock, server } = s

    expect(result.status).toBe('timeout')
    const delays = clock.sleeps.map((x) => x.ms)
    expect(delays.slice(0, 7)).toEqual([1000, 1500, 2250, 3375, 5063, 7595, 10_000])
    // then the cap, until the deadline cuts the last one short
    expect(delays).toEqual([...expectedDelays(delays.length - 1, 10_000), 60_000 - 50_783])
    expect(delays.every((ms) => ms <= 10_000)).toBe(true)
    for (const x of clock.sleeps) expect(x.at + x.ms).toBeLessThanOrEqual(MINUTE)
    expect(clock.elapsed()).toBe(MINUTE)
    // no request is started at or past the deadline
    expect(server.calls.every((c) => c.at < MINUTE)).toBe(true)
  })

  it('backs off to a smaller cap (poll-interval 3 s)', async () => {
    const s = setup(forever, { deadlineMs: 30_000, capMs: 3000 })
    await follow(s)
    const delays = s.clock.sleeps.map((x) => x.ms)
    expect(delays.slice(0, 6)).toEqual([1000, 1500, 2250, 3000, 3000, 3000])
    expect(Math.max(...delays)).toBe(3000)
    expect(s.clock.elapsed()).toBe(30_000)
  })

  it('shortens the sleep that would pass a near deadline, and gives up without another request', async () => {
    const s = setup(forever, { deadlineMs: 3000 })
    const { result } = await follow(s)
    expect(s.clock.sleeps).toEqual([
      { at: 0, ms: 1000 },
      { at: 1000, ms: 1500 },
      { at: 2500, ms: 500 }
    ])
    expect(result.status).toBe('timeout')
    expect(s.server.calls.map((c) => c.at)).not.toContain(3000)
  })
})

describe('following a deployment: what it prints and what it asks', () => {
  /**
   * Our job waits behind two builds of other services (45 s), then one (25 s), is next (20 s), builds
   * for 5 minutes from 90 s, and ends done at 390 s.
   */
  function queuedThenBuilt() {
    return setup({
      'deployment.queueList': ({ at }) =>
        phase(at, [
          [0, [other('job-1', 'active'), other('job-2', 'waiting', 'B2'), ours('waiting')]],
          [45_000, [other('job-2', 'active', 'B2'), ours('waiting')]],
          [70_000, [ours('waiting')]],
          [90_000, [ours('active', { processedOn: 90_000 })]],
          [390_000, []]
        ]).map(queueEntry),
      'deployment.all': ({ at }) =>
        phase(at, [
          [0, [OLD]],
          [90_000, [running(90_000), OLD]],
          [390_000, [row('D9', 90_000, { finishedAt: 390_000 }), OLD]]
        ])
    })
  }

  it('prints one line per change of state: queued N → next → started → running, then done', async () => {
    const s = queuedThenBuilt()
    const { result } = await follow(s)

    expect(result.status).toBe('done')
    expect(result.row?.deploymentId).toBe('D9')
    const changes = s.log.lines.filter((l) => !/^Still (queued|building) \(/.test(l.text)).map((l) => l.text)
    expect(changes).toEqual([
      'Queued: behind 2 other build(s) on this server.',
      'Queued: behind 1 other build(s) on this server.',
      'Queued: next to build.',
      MATCHED_BY_MARKER
    ])
    expect(s.log.warnings()).toEqual([])
  })

  it('prints a heartbeat with the elapsed time at most every 30 s, not one per poll', async () => {
    const s = queuedThenBuilt()
    await follow(s)
    const { log, server } = s

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
    const s = queuedThenBuilt()
    await follow(s)
    const { server } = s

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
    const s = setup(forever, { deadlineMs: 500 })
    const first: QueueJob[] = [{ id: 'job-7', state: 'active', serviceId: SERVICE, title: TITLE, description: MARKER, timestamp: EPOCH, processedOn: EPOCH }]
    await follow(s, { firstQueue: first })
    expect(s.server.procedures()).toEqual(['deployment.all'])
  })

  it('stays within a bound of requests per waited minute over a 10-minute build (default cap 10 s)', async () => {
    const s = setup({
      'deployment.queueList': ({ at }) => (at < 10 * MINUTE ? [queueEntry(ours('active'))] : []),
      'deployment.all': ({ at }) => (at < 10 * MINUTE ? [running(), OLD] : [row('D9', 0, { description: MARKER, finishedAt: 10 * MINUTE }), OLD])
    })
    const { result } = await follow(s)
    expect(result.status).toBe('done')

    const perMinute = new Array<number>(11).fill(0)
    for (const c of s.server.calls) perMinute[Math.floor(c.at / MINUTE)]++
    // the first minute backs off from 1 s; afterwards one request every 10 s
    expect(perMinute[0]).toBeLessThanOrEqual(12)
    for (let minute = 1; minute < 10; minute++) expect(perMinute[minute]).toBeLessThanOrEqual(8)
    expect(s.server.calls.length).toBeLessThanOrEqual(70)
  })
})

describe('following a deployment: results', () => {
  const ended = (status: 'done' | 'error' | 'cancelled', errorMessage?: string) =>
    setup({
      'deployment.queueList': ({ at }) => (at < 20_000 ? [queueEntry(ours('active'))] : []),
      'deployment.all': ({ at }) => [
        at < 20_000
          ? running()
          : deploymentRow({ deploymentId: 'D9', title: TITLE, description: MARKER, status, errorMessage, startedAt: 0, finishedAt: status === 'cancelled' ? undefined : 20_000 }),
        OLD
      ]
    })

  it('done: the row that ended done, matched by its marker', async () => {
    const s = ended('done')
    const { result } = await follow(s)
    expect(result).toMatchObject({ status: 'done', row: { deploymentId: 'D9', status: 'done' }, identified: { by: 'reference' } })
    expect(result.detail).toBe('Deployment D9 ended done after 20s of build.')
    expect(s.log.infos()).toContain(MATCHED_BY_MARKER)
  })

  it('9. onIdentified hears of the row the moment it is proven, long before it ends, and only once', async () => {
    const s = ended('done')
    const { identified } = await follow(s)
    expect(identified).toHaveLength(1)
    expect(identified[0].at).toBe(0)
    expect(identified[0].found).toMatchObject({ by: 'reference', row: { deploymentId: 'D9', status: 'running' } })
    expect(s.clock.elapsed()).toBeGreaterThan(20_000)
  })

  it('error: the row, with its errorMessage kept for the report', async () => {
    const s = ended('error', 'Error: build failed\n::error::exit code 1')
    const { result } = await follow(s)
    expect(result.status).toBe('error')
    expect(result.row?.errorMessage).toBe('Error: build failed\n::error::exit code 1')
    expect(result.detail).toBe('Deployment D9 ended error after 20s of build.')
  })

  it('cancelled: a server restart cancels the running row (which keeps its marker), and the detail says so', async () => {
    const s = ended('cancelled')
    const { result } = await follow(s)
    expect(result.status).toBe('cancelled')
    expect(result.identified?.by).toBe('reference')
    expect(result.detail).toBe('Deployment D9 ended cancelled (Dokploy cancels running deployments when it restarts).')
  })

  it('an unknown final status counts as an error', async () => {
    const s = setup({ 'deployment.queueList': () => [], 'deployment.all': () => [{ ...(running() as object), status: 'exploded' }, OLD] })
    const { result } = await follow(s)
    expect(result.status).toBe('error')
  })

  it('timeout while building: reports the row it found, which is left running', async () => {
    const s = setup(forever, { deadlineMs: MINUTE })
    const { result, identified } = await follow(s)
    expect(result.status).toBe('timeout')
    expect(result.row?.deploymentId).toBe('D9')
    expect(result.identified?.by).toBe('reference')
    expect(identified).toHaveLength(1)
    expect(result.detail).toContain('Still running when the step stopped waiting after 1m 00s (wait-timeout): deployment D9 was still running.')
    expect(result.detail).toContain('does not kill builds')
  })

  it('timeout while queued: the build had not started, and there is no row', async () => {
    const s = setup({ 'deployment.queueList': () => [other('job-1', 'active'), ours('waiting')].map(queueEntry), 'deployment.all': () => [OLD] }, { deadlineMs: 2 * MINUTE })
    const { result, identified } = await follow(s)
    expect(result.status).toBe('timeout')
    expect(result.row).toBeUndefined()
    expect(result.identified).toBeUndefined()
    expect(identified).toEqual([])
    expect(result.detail).toContain('after 2m 00s (wait-timeout): the build had not started.')
    expect(s.server.procedures()).not.toContain('deployment.all')
  })

  it('active but no row yet: says the build started, and keeps looking', async () => {
    const s = setup({
      'deployment.queueList': ({ at }) => [queueEntry(ours('active', { processedOn: 500 }))].filter(() => at < 30_000),
      'deployment.all': ({ at }) => (at < 8000 ? [OLD] : at < 30_000 ? [running(7000), OLD] : [row('D9', 7000, { status: 'error' }), OLD])
    })
    const { result, identified } = await follow(s)
    expect(result.status).toBe('error')
    expect(identified[0]).toMatchObject({ at: 8125, found: { by: 'reference' } })
    expect(s.log.infos().slice(0, 2)).toEqual(['Build started; waiting for Dokploy to create its deployment row.', MATCHED_BY_MARKER])
  })

  it('lost: the row it followed vanished from the list', async () => {
    const s = setup({
      'deployment.queueList': () => [queueEntry(ours('active'))],
      'deployment.all': ({ at }) => (at < 10_000 ? [running(), OLD] : [OLD])
    })
    const { result } = await follow(s)
    expect(result.status).toBe('lost')
    expect(result.row?.deploymentId).toBe('D9')
    expect(result.detail).toBe("Deployment D9 vanished from Dokploy's list (was it deleted?).")
  })
})

describe('following a deployment: which row is ours', () => {
  it('1. the marker: our row, running then finished, among other new rows of the service', async () => {
    const s = setup({
      'deployment.queueList': ({ at }) => (at < 20_000 ? [queueEntry(ours('active', { processedOn: 3000 }))] : []),
      'deployment.all': ({ at }) => [
        row('D12', 25_000, { status: 'running', description: 'Commit: next push', finishedAt: undefined }),
        at < 20_000 ? running(3000) : row('D9', 3000, { description: MARKER, status: 'error', finishedAt: 20_000 }),
        row('D8', 1000, { status: 'done' }),
        OLD
      ]
    })
    const { result } = await follow(s)
    expect(result).toMatchObject({ status: 'error', row: { deploymentId: 'D9' }, identified: { by: 'reference' } })
  })

  it("2. a push of the same service active with no row yet, ours behind it: ours is the row after the push's, and its status is reported", async () => {
    // the push (job-6) turned active at -0.5 s; its row is created at 0.2 s and ends done at 30 s.
    // ours waits until 31 s, builds 31–40 s (between two polls) and ends in error, overwritten by its commit.
    const push = other('job-6', 'active', SERVICE, { queuedAt: -3000, processedOn: -500 })
    const pushRow = (at: number) => row('D8', 200, at < 30_000 ? { status: 'running', description: 'Commit: job-6', finishedAt: undefined } : { finishedAt: 30_000 })
    const s = setup({
      'deployment.queueList': ({ at }) =>
        phase(at, [
          [0, [push, ours('waiting')]],
          [30_000, [ours('waiting')]],
          [31_000, [ours('active', { processedOn: 31_000 })]],
          [40_000, []]
        ]).map(queueEntry),
      'deployment.all': ({ at }) =>
        [
          at >= 31_200 ? row('D9', 31_200, at < 40_000 ? { status: 'running', description: MARKER, finishedAt: undefined } : { status: 'error', finishedAt: 40_000 }) : undefined,
          at >= 200 ? pushRow(at) : undefined,
          OLD
        ].filter((r) => r !== undefined)
    })
    const { result, identified } = await follow(s)

    expect(s.clock.sleeps.map((x) => x.at)).not.toContain(31_000)
    expect(result).toMatchObject({ status: 'error', row: { deploymentId: 'D9' }, identified: { by: 'queue order' } })
    expect(identified.map((i) => i.found.row.deploymentId)).toEqual(['D9'])
    expect(s.log.infos()).toContain('Queued: behind 1 other build(s) on this server.')
    expect(s.log.infos()).toContain("Deployment D9: matched by its place among this service's builds queued with this step's job.")
  })

  it('3. two steps with the same title: the other step\'s row is never taken for ours, only the marker decides', async () => {
    const theirs = other('job-6', 'active', SERVICE, { title: TITLE, description: OTHER_MARKER, queuedAt: -10, processedOn: 0 })
    const s = setup({
      'deployment.queueList': ({ at }) =>
        phase(at, [
          [0, [theirs, ours('waiting')]],
          [10_000, [ours('active', { processedOn: 10_000 })]],
          [30_000, []]
        ]).map(queueEntry),
      'deployment.all': ({ at }) => [
        ...(at >= 10_000 ? [deploymentRow({ deploymentId: 'D9', title: TITLE, description: MARKER, status: at < 30_000 ? 'running' : 'done', startedAt: 10_100 })] : []),
        deploymentRow({ deploymentId: 'D8', title: TITLE, description: OTHER_MARKER, status: at < 10_000 ? 'running' : 'error', startedAt: 100 }),
        OLD
      ]
    })
    const { result, identified } = await follow(s)
    expect(result).toMatchObject({ status: 'done', row: { deploymentId: 'D9' }, identified: { by: 'reference' } })
    expect(identified.map((i) => i.found.row.deploymentId)).toEqual(['D9'])
  })

  it('4. seen active: the first new row started after processedOn is ours, though already overwritten when listed', async () => {
    // a push (job-6) ahead builds 2–30 s; ours turns active at 30.7 s (seen at the 30.783 s poll, no row
    // yet), its row starts at 30.9 s and ends overwritten before the next poll (40.783 s)
    const s = setup({
      'deployment.queueList': ({ at }) =>
        phase(at, [
          [0, [other('job-6', 'waiting', SERVICE, { queuedAt: -10 }), ours('waiting')]],
          [2000, [other('job-6', 'active', SERVICE, { queuedAt: -10, processedOn: 2000 }), ours('waiting')]],
          [30_000, [ours('waiting')]],
          [30_700, [ours('active', { processedOn: 30_700 })]],
          [36_000, []]
        ]).map(queueEntry),
      'deployment.all': ({ at }) => [...(at >= 30_900 ? [row('D9', 30_900, { finishedAt: 35_000 })] : []), row('D8', 2100, { finishedAt: 30_000 }), OLD]
    })
    const { result } = await follow(s)
    expect(result).toMatchObject({ status: 'done', row: { deploymentId: 'D9' }, identified: { by: 'start time' } })
    expect(s.log.infos()).toContain('Build started; waiting for Dokploy to create its deployment row.')
    expect(s.log.infos()).toContain("Deployment D9: matched as the first deployment of this service started after this step's queue job.")
  })

  it('5. queue order: seen behind two waiting jobs and one active since before our enqueue, all gone between two polls: done, not lost', async () => {
    // job-4 turned active at -3 s and its row started at -2.9 s (after the baseline listing, before our deploy)
    const job4 = other('job-4', 'active', SERVICE, { queuedAt: -9000, processedOn: -3000 })
    const s = setup({
      'deployment.queueList': ({ at }) =>
        (at < 14_000 ? [job4, other('job-5', 'waiting', SERVICE, { queuedAt: -20 }), other('job-6', 'waiting', SERVICE, { queuedAt: -10 }), ours('waiting')] : []).map(
          queueEntry
        ),
      'deployment.all': ({ at }) =>
        at < 14_000
          ? [row('D4', -2900, { status: 'running', description: 'Commit: job-4', finishedAt: undefined }), OLD]
          : [row('D9', 11_000, { finishedAt: 13_000 }), row('D6', 7000, { status: 'error' }), row('D5', 3000), row('D4', -2900), OLD]
    })
    const { result } = await follow(s)
    expect(result).toMatchObject({ status: 'done', row: { deploymentId: 'D9' }, identified: { by: 'queue order' } })
    expect(s.log.infos()[0]).toBe('Queued: behind 3 other build(s) on this server.')
  })

  it('a rate limit (429) while queued is ridden out without breaking the view of the queue', async () => {
    const s = setup({
      'deployment.queueList': ({ at }) =>
        at >= 2000 && at < 5000 ? new Raw(reply(429, 'slow down')) : (at < 10_000 ? [ours('waiting')] : []).map(queueEntry),
      'deployment.all': () => [row('D9', 5000), OLD]
    })
    const { result } = await follow(s)
    expect(result).toMatchObject({ status: 'done', identified: { by: 'queue order' } })
  })
})

describe('following a deployment: lost or unknown', () => {
  it('7. lost: our job left the queue and no row appeared for LOST_AFTER_MS', async () => {
    const s = setup({
      'deployment.queueList': ({ at }) => (at < 5000 ? [queueEntry(ours('waiting'))] : []),
      'deployment.all': () => [OLD]
    })
    const { result } = await follow(s)
    expect(result.status).toBe('lost')
    expect(result.row).toBeUndefined()
    expect(result.detail).toMatch(/neither in the build queue nor in the deployment list \(for \d+s\): the server probably restarted/)

    // declared at the first poll at least LOST_AFTER_MS after the first one that missed the job
    const lists = s.server.calls.filter((c) => c.procedure === 'deployment.all').map((c) => c.at)
    const missedAt = lists[0]
    expect(missedAt).toBeGreaterThanOrEqual(5000)
    expect(lists.at(-1)! - missedAt).toBeGreaterThanOrEqual(LOST_AFTER_MS)
    expect(lists.at(-2)! - missedAt).toBeLessThan(LOST_AFTER_MS)
    expect(s.clock.elapsed()).toBe(lists.at(-1))
  })

  it('not lost: the job left the queue and its row showed up within LOST_AFTER_MS (already overwritten)', async () => {
    const s = setup({
      'deployment.queueList': ({ at }) => (at < 5000 ? [queueEntry(ours('waiting'))] : []),
      'deployment.all': ({ at }) => (at < 15_000 ? [OLD] : [row('D9', 5000, { finishedAt: 6000 }), OLD])
    })
    const { result } = await follow(s)
    expect(result.status).toBe('done')
    expect(result.identified).toMatchObject({ by: 'queue order', row: { deploymentId: 'D9' } })
  })

  it('a job seen again resets the lost timer', async () => {
    // gone 5–17 s, back 17–30 s (a flaky listing), gone again from 30 s: lost only 15 s after 30 s
    const s = setup({
      'deployment.queueList': ({ at }) => (phase(at, [[0, true], [5000, false], [17_000, true], [30_000, false]]) ? [queueEntry(ours('waiting'))] : []),
      'deployment.all': () => [OLD]
    })
    const { result } = await follow(s)
    expect(result.status).toBe('lost')
    expect(s.clock.elapsed()).toBeGreaterThanOrEqual(30_000 + LOST_AFTER_MS)
  })

  it('6. an outage breaks the view of the queue: a finished overwritten row that may be ours ends as unknown, not as ours', async () => {
    // ours waits until 5 s; Dokploy refuses connections 5–20 s; meanwhile ours ran and was overwritten
    const s = setup({
      'deployment.queueList': ({ at }) => (at < 5000 ? [queueEntry(ours('waiting'))] : at < 20_000 ? refused() : []),
      'deployment.all': () => [row('D9', 8000), OLD]
    })
    const { result, identified } = await follow(s)
    expect(result.status).toBe('unknown')
    expect(result.row).toBeUndefined()
    expect(identified).toEqual([])
    expect(result.detail).toContain('new deployment(s) D9 (done) ended with their title and description overwritten')
    expect(result.detail).toContain('Dokploy was unreachable (or restarted) in between')
    expect(s.clock.elapsed()).toBeGreaterThanOrEqual(20_000 + LOST_AFTER_MS)
  })

  it('7. lost, not unknown: the only new finished row started before our enqueue time', async () => {
    const s = setup({
      'deployment.queueList': ({ at }) => (at < 5000 ? [queueEntry(ours('waiting'))] : at < 20_000 ? refused() : []),
      'deployment.all': () => [row('D8', -5000), OLD]
    })
    const { result } = await follow(s)
    expect(result.status).toBe('lost')
  })

  it('6. restart: a new job-7 with another description is not ours; its finished row ends the wait as unknown', async () => {
    // seen waiting at 0–8 s; the server restarts at 9 s, losing ours; a push is queued at 12 s as job-7 again
    const theirs = other('job-7', 'active', SERVICE, { queuedAt: 12_000, processedOn: 12_000 })
    const s = setup({
      'deployment.queueList': ({ at }) => phase(at, [[0, [ours('waiting')]], [9000, []], [12_000, [theirs]], [25_000, []]]).map(queueEntry),
      'deployment.all': ({ at }) =>
        at < 12_100
          ? [OLD]
          : [row('D9', 12_100, at < 25_000 ? { status: 'running', description: 'Commit: job-7', finishedAt: undefined } : { finishedAt: 25_000 }), OLD]
    })
    const { result, identified } = await follow(s)
    expect(identified).toEqual([])
    expect(result.status).toBe('unknown')
    expect(result.detail).toContain('D9 (done)')
  })

  it('unknown: our job was never seen in the queue and a new finished row appeared', async () => {
    const s = setup({ 'deployment.queueList': () => [], 'deployment.all': () => [row('D9', 1000), OLD] })
    const { result } = await follow(s)
    expect(result.status).toBe('unknown')
    expect(result.detail).toContain('its queue job was not seen')
    expect(result.detail).toContain('re-running this step deploys again')
  })
})

describe('following a deployment: Dokploy failing while followed', () => {
  it('8. several refused and HTML 502 polls do not end the wait; one line when it starts failing, one when it answers again', async () => {
    const s = setup({
      'deployment.queueList': () => [queueEntry(ours('active'))],
      'deployment.all': ({ at }) => {
        if (at >= 4000 && at < 9000) return refused()
        if (at >= 9000 && at < 25_000) return new Raw(html502)
        return at < 40_000 ? [running(), OLD] : [row('D9', 0, { status: 'error', description: MARKER, finishedAt: 40_000 }), OLD]
      }
    })
    const { result } = await follow(s)
    expect(result).toMatchObject({ status: 'error', row: { deploymentId: 'D9' } })
    const failed = s.server.calls.filter((c) => c.at >= 4000 && c.at < 25_000)
    expect(failed.length).toBeGreaterThanOrEqual(3)
    const notAnswering = s.log.infos().filter((l) => l.startsWith('Dokploy is not answering'))
    expect(notAnswering).toEqual([
      'Dokploy is not answering (Dokploy at https://dokploy.example.com stopped answering (ECONNREFUSED) on deployment.all after 4 answered request(s): it is probably restarting or was stopped.). Still following until wait-timeout.'
    ])
    const again = s.log.lines.filter((l) => l.text.startsWith('Dokploy answers again after '))
    expect(again).toHaveLength(1)
    expect(again[0].at).toBeGreaterThanOrEqual(25_000)
    expect(again[0].text).toMatch(/^Dokploy answers again after \d+s\.$/)
    expect(s.log.warnings()).toEqual([])
  })

  it('8. an outage before our row is proven: the marker still identifies it afterwards', async () => {
    const s = setup({
      'deployment.queueList': ({ at }) => (at < 2000 ? [queueEntry(ours('waiting'))] : at < 20_000 ? new Raw(html502) : [queueEntry(ours('active', { processedOn: 15_000 }))]),
      'deployment.all': ({ at }) => (at < 40_000 ? [running(15_100), OLD] : [row('D9', 15_100, { description: MARKER }), OLD])
    })
    const { result } = await follow(s)
    expect(result).toMatchObject({ status: 'done', identified: { by: 'reference' } })
    expect(s.log.infos().filter((l) => l.startsWith('Dokploy is not answering'))).toHaveLength(1)
  })

  it('8. an outage lasting to the deadline ends as timeout', async () => {
    const s = setup({ 'deployment.queueList': () => refused(), 'deployment.all': () => [OLD] }, { deadlineMs: 2 * MINUTE })
    const { result } = await follow(s)
    expect(result.status).toBe('timeout')
    expect(s.clock.elapsed()).toBe(2 * MINUTE)
  })

  it.each([
    ['while queued', 0, 'the deployment'],
    ['after its row was found', 1, 'deployment D9']
  ])('8. a 401 %s ends with unknown, telling not to re-run', async (_, active, which) => {
    const s = setup({
      'deployment.queueList': ({ at }) => (at < 5000 ? [queueEntry(active ? ours('active') : ours('waiting'))] : new Raw(trpcError(401, 'UNAUTHORIZED', 'Unauthorized'))),
      'deployment.all': ({ at }) => (at < 5000 ? [running(), OLD] : new Raw(trpcError(401, 'UNAUTHORIZED', 'Unauthorized')))
    })
    const { result } = await follow(s)
    expect(result.status).toBe('unknown')
    expect(result.detail).toContain(`Dokploy queued ${which}, then rejected the API key`)
    expect(result.detail).toContain('Do not re-run this step to retry')
    if (active) expect(result.row?.deploymentId).toBe('D9')
  })

  it('a failure that is not passing (404 not found) is thrown, not ridden out', async () => {
    const s = setup({
      'deployment.queueList': () => [queueEntry(ours('active'))],
      'deployment.all': () => new Raw(trpcError(404, 'NOT_FOUND', 'Application not found'))
    })
    await expect(follow(s)).rejects.toMatchObject({ failure: 'not-found' })
    expect(s.server.calls).toHaveLength(2)
  })
})

describe('following a deployment without a queue listing (before v0.28.3)', () => {
  const noQueue = (rows: Handler): Record<string, Handler> => ({
    'deployment.queueList': () => new Raw(noProcedure('deployment.queueList')),
    'deployment.all': rows
  })

  it('waits as long as it takes for our row, proven by its marker, and never asks for the queue', async () => {
    const s = setup(noQueue(({ at }) => (at < 5 * MINUTE ? [OLD] : [row('D9', 4 * MINUTE, { description: MARKER, finishedAt: 5 * MINUTE }), OLD])))
    const { result } = await follow(s, { queueSupported: false })

    expect(result.status).toBe('done')
    expect(result.identified).toMatchObject({ by: 'reference' })
    expect(s.server.procedures()).not.toContain('deployment.queueList')
    const infos = s.log.infos()
    expect(infos.filter((l) => l === 'Waiting for the build to start (this Dokploy cannot list its queue).')).toHaveLength(1)
    const beats = heartbeats(s.log.lines, 'Still waiting for the build to start')
    expect(beats.length).toBeGreaterThanOrEqual(8)
    expect(beats.length).toBeLessThanOrEqual(10)
  })

  it('a new finished row without our marker cannot be proven ours: unknown', async () => {
    const s = setup(noQueue(({ at }) => (at < 2 * MINUTE ? [OLD] : [row('D9', 100_000), OLD])))
    const { result } = await follow(s, { queueSupported: false })
    expect(result.status).toBe('unknown')
    expect(result.detail).toContain('this Dokploy (before v0.28.3) cannot list its queue')
  })

  it('a stranger building keeps it waiting (ours may be behind it)', async () => {
    const stranger = row('D8', 1000, { status: 'running', description: OTHER_MARKER, finishedAt: undefined })
    const s = setup(noQueue(() => [stranger, row('D7', 500), OLD]), { deadlineMs: 3 * MINUTE })
    const { result } = await follow(s, { queueSupported: false })
    expect(result.status).toBe('timeout')
  })

  it('times out, not lost, when no row ever appears', async () => {
    const s = setup(noQueue(() => [OLD]), { deadlineMs: 10 * MINUTE })
    const { result } = await follow(s, { queueSupported: false })
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
    expect(result).toEqual({ ok: false, status: 'timeout', detail: 'The postgres was still deploying when the step stopped waiting after 1m 30s (wait-timeout).' })
    expect(clock.elapsed()).toBe(90_000)
    for (const s of clock.sleeps) expect(s.at + s.ms).toBeLessThanOrEqual(90_000)
    expect(server.calls.every((c) => c.at < 90_000)).toBe(true)
  })
})

describe('logTail', () => {
  const withLogs = (handler: Handler) => setup({ 'deployment.readLogs': handler })

  it('returns the tail without trailing blank lines, asking for the number of lines wanted', async () => {
    const { client, server, log } = withLogs(() => 'step 1\nstep 2\nERROR: failed\n\n')
    expect(await logTail(client, 'D9', 50, log, 5000)).toBe('step 1\nstep 2\nERROR: failed')
    expect(server.calls).toEqual([expect.objectContaining({ procedure: 'deployment.readLogs', method: 'GET', input: { deploymentId: 'D9', tail: 50 } })])
  })

  it('returns undefined for an empty log', async () => {
    const { client, log } = withLogs(() => '  \n')
    expect(await logTail(client, 'D9', 50, log, 5000)).toBeUndefined()
  })

  it('asks nothing when log-lines is 0', async () => {
    const { client, server, log } = withLogs(() => 'x')
    expect(await logTail(client, 'D9', 0, log, 5000)).toBeUndefined()
    expect(server.calls).toEqual([])
  })

  it('says the server cannot return build logs on a 404 "No procedure found" (before v0.29.6)', async () => {
    const { client, log } = withLogs(() => new Raw(noProcedure('deployment.readLogs')))
    expect(await logTail(client, 'D9', 50, log, 5000)).toBeUndefined()
    expect(log.infos()).toEqual(['This Dokploy cannot return build logs (deployment.readLogs needs v0.29.6): see the dashboard.'])
  })

  it('logs any other failure and returns undefined', async () => {
    const { client, log } = withLogs(() => new Raw(trpcError(404, 'NOT_FOUND', 'Deployment not found')))
    expect(await logTail(client, 'D9', 50, log, 5000)).toBeUndefined()
    expect(log.infos()).toHaveLength(1)
    expect(log.infos()[0]).toMatch(/^Could not read the build log: Dokploy found nothing for deployment\.readLogs/)
  })

  it('lets a runner cancellation through', async () => {
    const { client, log } = withLogs(() => {
      throw new TransportError('cancelled', 'cancelled by the runner')
    })
    await expect(logTail(client, 'D9', 50, log, 5000)).rejects.toBeInstanceOf(DokployError)
    expect(log.lines).toEqual([])
  })
})
