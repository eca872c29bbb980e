import { afterEach, describe, expect, it, jest } from '@jest/globals'
import type { Settings } from '../../src/inputs.js'
import type { WaitContext } from '../../src/poller.js'
import type { DokployError as DokployErrorType } from '../../src/dokploy/errors.js'
import {
  buildQueue,
  fakeClock,
  fakeServer,
  noProcedure,
  Raw,
  recordingLog,
  trpcError,
  VOID,
  silentCore,
  type Call,
  type RowSpec
} from './fake-dokploy.js'

jest.unstable_mockModule('@actions/core', silentCore)

const { DokployClient } = await import('../../src/dokploy/client.js')
const { DokployError } = await import('../../src/dokploy/errors.js')
const { TransportError } = await import('../../src/dokploy/transport.js')
const { SPECS } = await import('../../src/operations.js')
const { newOutcome, Recorder, UnknownOutcome } = await import('../../src/outcome.js')
const { serviceSource } = await import('../../src/service.js')
const { TIMINGS } = await import('../../src/timings.js')

/** The service's `.one`, read at most once, as the layer above hands it. */
const serviceOf = (ctx: WaitContext) => serviceSource(ctx.client, ctx.spec, ctx.serviceId, {})
const { runQueued, markDescription } = await import('../../src/deploy.js')

const TITLE = '1a2b3c4 · Deploy #42'
const DESCRIPTION = 'sha 1a2b3c4'
const MARKED = /^sha 1a2b3c4 · ref [0-9a-f]{8}$/
const SERVICE = 'A1'
const MINUTE = 60_000

/** How the fake answers each successive deploy call. */
type Send =
  | 'ok'
  /** Dokploy queued it, then the connection broke before the answer arrived. */
  | 'reset-after'
  /** The connection broke before Dokploy saw the request. */
  | 'reset-before'
  /** Connection refused: the request certainly never left. */
  | 'refused'
  /** Dokploy rejected the input. */
  | 'bad-request'
  /** The runner cancelled the job while the deploy was in flight. */
  | 'cancelled'

const settingsFor = (extra: Partial<Settings> = {}): Settings => ({
  baseUrl: 'https://dokploy.example.com',
  apiKey: 'k',
  headers: {},
  resource: 'application',
  operation: 'deploy',
  target: { ids: [SERVICE] },
  wait: true,
  cancelQueued: true,
  waitTimeoutMs: 30 * MINUTE,
  verify: 'none',
  verifyTimeoutMs: 120_000,
  onFailure: 'none',
  requestTimeoutMs: 30_000,
  pollIntervalMs: 10_000,
  logLines: 50,
  log: 'live',
  retries: 2,
  title: TITLE,
  description: DESCRIPTION,
  warnings: [],
  ...extra
})

afterEach(() => {
  jest.restoreAllMocks()
})

function setup(
  options: {
    sends?: Send[]
    queueSupported?: boolean
    startAfterMs?: number
    buildMs?: number
    result?: 'done' | 'error'
    commitTitle?: string
    deadlineMs?: number
    /** The server's clock runs this far ahead of ours; undefined: its answers carry no Date header. */
    serverAheadMs?: number | null
    strays?: { listedFrom: number; row: RowSpec }[]
  } = {}
) {
  const clock = fakeClock()
  // the client reads its Date headers against Date.now: the fake clock is the only clock
  jest.spyOn(Date, 'now').mockImplementation(clock.now)
  const serverAheadMs = options.serverAheadMs === null ? undefined : (options.serverAheadMs ?? 0)
  const queue = buildQueue(clock, {
    serviceId: SERVICE,
    startAfterMs: options.startAfterMs ?? 20_000,
    buildMs: options.buildMs ?? MINUTE,
    result: options.result,
    commitTitle: options.commitTitle,
    serverAheadMs,
    strays: options.strays
  })
  const sends = [...(options.sends ?? ['ok'])]
  const server = fakeServer(
    clock,
    {
      'deployment.queueList': () => (options.queueSupported === false ? new Raw(noProcedure('deployment.queueList')) : queue.queue()),
      'deployment.all': () => queue.rows(),
      'deployment.readLogs': () => 'Building…\nError: build failed\n',
      'application.deploy': (call: Call) => {
        const send = sends.length > 1 ? sends.shift() : sends[0]
        if (send === 'refused') throw new TransportError('refused', 'connect ECONNREFUSED 10.0.0.5:443', 'ECONNREFUSED')
        if (send === 'bad-request') return new Raw(trpcError(400, 'BAD_REQUEST', 'Invalid input'))
        if (send === 'cancelled') throw new TransportError('cancelled', 'cancelled by the runner')
        if (send !== 'reset-before') queue.submit(String(call.input?.title), call.input?.description as string | undefined)
        if (send !== 'ok') throw new TransportError('lost', 'read ECONNRESET', 'ECONNRESET')
        return new Raw(VOID)
      }
    },
    { serverAheadMs }
  )
  // the client may retry (retries: 2): it must still never resend a deploy whose answer was lost
  const clientSleeps: number[] = []
  const client = new DokployClient({
    baseUrl: 'https://dokploy.example.com',
    apiKey: 'k',
    requestTimeoutMs: 30_000,
    retries: 2,
    transport: server.transport,
    clock: { now: clock.now, sleep: async (ms: number) => void clientSleeps.push(ms) }
  })
  const log = recordingLog(clock)
  const ctx: WaitContext = {
    client,
    spec: SPECS.application,
    serviceId: SERVICE,
    deadline: clock.now() + (options.deadlineMs ?? 30 * MINUTE),
    pollCapMs: 10_000,
    log,
    clock: { now: clock.now, sleep: clock.sleep },
    timings: TIMINGS
  }
  const outcome = newOutcome('application', 'deploy', clock.now())
  const deploys = () => server.calls.filter((c) => c.procedure === 'application.deploy')
  return { clock, queue, server, client, clientSleeps, log, ctx, outcome, deploys }
}

async function rejection(promise: Promise<unknown>): Promise<DokployErrorType> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(DokployError)
    return error as DokployErrorType
  }
  throw new Error('expected a DokployError, runQueued succeeded')
}

async function unknownOutcome(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise
  } catch (error) {
    expect(error).toBeInstanceOf(UnknownOutcome)
    return error as Error
  }
  throw new Error('expected an UnknownOutcome, runQueued succeeded')
}

/** A finished git build of the service that is not ours (a push), overwritten by its commit. */
const pushRow = (startedAt: number): RowSpec => ({
  deploymentId: 'P1',
  title: 'feat: pushed',
  description: 'Commit: 1111111',
  status: 'done',
  startedAt,
  finishedAt: startedAt + 500
})

describe('markDescription', () => {
  it("appends a reference to the user's description", () => {
    expect(markDescription('sha 1a2b3c4', '0a1b2c3d')).toBe('sha 1a2b3c4 · ref 0a1b2c3d')
  })

  it('draws a new 8-hex reference each time', () => {
    const a = markDescription(DESCRIPTION)
    const b = markDescription(DESCRIPTION)
    expect(a).toMatch(MARKED)
    expect(b).toMatch(MARKED)
    expect(a).not.toBe(b)
  })
})

describe('runQueued', () => {
  it('lists the rows (no queue snapshot), deploys once with the title and the marked description, and follows its row to done', async () => {
    const { ctx, server, outcome, log, deploys } = setup({ startAfterMs: 20_000, buildMs: MINUTE })
    await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))

    expect(server.procedures().slice(0, 3)).toEqual(['deployment.all', 'application.deploy', 'deployment.queueList'])
    expect(deploys()).toHaveLength(1)
    expect(deploys()[0]).toMatchObject({ method: 'POST', input: { applicationId: SERVICE, title: TITLE } })
    expect(deploys()[0].input?.description).toMatch(MARKED)
    expect(outcome).toMatchObject({ status: 'done', ok: true, deploymentId: 'D1', matchedBy: 'reference', buildMs: MINUTE })
    expect(outcome.message).toBeUndefined()
    expect(log.infos()).toContain(`Dokploy queued the deploy (title "${TITLE}"). Following it until it ends.`)
    expect(log.infos().at(-1)).toBe('Deployment D1 ended done after 1m 00s of build.')
    expect(log.warnings()).toEqual([])
  })

  it('a git build overwritten at its end is still followed (proven while it ran)', async () => {
    const { ctx, outcome } = setup({ commitTitle: 'feat: the commit' })
    await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))
    expect(outcome).toMatchObject({ status: 'done', ok: true, deploymentId: 'D1', matchedBy: 'reference' })
  })

  it('a failed build: status error, its errorMessage, and the log tail', async () => {
    const { ctx, outcome, server } = setup({ result: 'error' })
    await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))

    expect(outcome).toMatchObject({ status: 'error', ok: false, deploymentId: 'D1', errorMessage: 'Error: build failed\nexit code 1' })
    expect(outcome.message).toBe('Deployment D1 ended error after 1m 00s of build.')
    expect(outcome.logTail).toBe('Building…\nError: build failed')
    expect(server.calls.at(-1)).toMatchObject({ procedure: 'deployment.readLogs', input: { deploymentId: 'D1', tail: 50 } })
  })

  it('a timeout: status timeout, the row left running, and its log tail', async () => {
    const { ctx, outcome } = setup({ startAfterMs: 0, buildMs: 60 * MINUTE, deadlineMs: 2 * MINUTE })
    await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))
    expect(outcome).toMatchObject({ status: 'timeout', ok: false, deploymentId: 'D1', matchedBy: 'reference' })
    expect(outcome.message).toContain('deployment D1 was still running')
    expect(outcome.logTail).toBe('Building…\nError: build failed')
  })

  it('a cancellation while the row builds still reports the row (set the moment it was proven)', async () => {
    const { ctx, outcome } = setup({ startAfterMs: 0, buildMs: 10 * MINUTE })
    const controller = new AbortController()
    ctx.signal = controller.signal
    const sleep = ctx.clock.sleep
    ctx.clock = { now: ctx.clock.now, sleep: async (ms, signal) => {
      if (outcome.deploymentId) controller.abort(new Error('runner cancelled'))
      await sleep(ms, signal)
    } }
    await expect(runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))).rejects.toThrow('runner cancelled')
    expect(outcome).toMatchObject({ deploymentId: 'D1', matchedBy: 'reference' })
  })

  describe('the answer to the deploy is lost (connection reset)', () => {
    it('after Dokploy queued it: finds the marked job, does not resend, and follows it', async () => {
      const { ctx, outcome, log, deploys, clock, clientSleeps } = setup({ sends: ['reset-after'] })
      await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))

      expect(deploys()).toHaveLength(1)
      expect(clientSleeps).toEqual([])
      expect(log.warnings()).toEqual([
        'The connection to https://dokploy.example.com broke during application.deploy (ECONNRESET). Checking whether Dokploy queued it before sending anything again.'
      ])
      expect(log.infos()).toContain('Dokploy did receive it: following that deployment, not sending it again.')
      expect(log.infos().join('\n')).not.toContain('Sending it once more')
      // it gives the job a moment to reach the queue before looking
      expect(clock.sleeps[0]).toEqual({ at: 0, ms: 2000 })
      expect(outcome).toMatchObject({ status: 'done', ok: true, deploymentId: 'D1', matchedBy: 'reference' })
    })

    it('after Dokploy started it: its marked row is found without a queue job, and followed', async () => {
      const { ctx, outcome, deploys } = setup({ sends: ['reset-after'], startAfterMs: 0, buildMs: 1500 })
      await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))
      expect(deploys()).toHaveLength(1)
      expect(outcome).toMatchObject({ status: 'done', deploymentId: 'D1', matchedBy: 'reference' })
    })

    it('close to the deadline: the pause before looking for the job does not run past the deadline, and nothing is resent', async () => {
      // the deploy call itself used up the time: its answer is lost 1 s before wait-timeout
      const { ctx, outcome, deploys, clock } = setup({ sends: ['reset-after'], deadlineMs: 1000 })
      await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx)).catch(() => undefined)

      expect(deploys()).toHaveLength(1)
      expect(clock.sleeps.length).toBeGreaterThan(0)
      for (const s of clock.sleeps) expect(s.at + s.ms).toBeLessThanOrEqual(1000)
    })

    it('a finished row without the marker, started after the send (by the Date header): unknown, not resent', async () => {
      // a fast git build: queued, built and overwritten by its commit before the step looked
      const { ctx, outcome, deploys, queue, log } = setup({ sends: ['reset-after'], startAfterMs: 0, buildMs: 1000, commitTitle: 'feat: the commit' })
      const error = await unknownOutcome(runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx)))

      expect(deploys()).toHaveLength(1)
      expect(queue.submitted).toHaveLength(1)
      expect(error.message).toBe(
        'The answer to application.deploy was lost, and deployment(s) D1 ended since, with title and description overwritten by the commit: one may be this step\'s or someone else\'s. Not resending, which could deploy twice: check the dashboard.'
      )
      expect(log.infos().join('\n')).not.toContain('Sending it once more')
    })

    it("before Dokploy saw it, while a push's row started after the send ended overwritten: unknown, not resent", async () => {
      const { ctx, outcome, deploys } = setup({ sends: ['reset-before', 'ok'], strays: [{ listedFrom: 1, row: pushRow(500) }] })
      await unknownOutcome(runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx)))
      expect(deploys()).toHaveLength(1)
    })

    it('the slack: a row started less than 2 s before the send (by the Date header) still blocks the resend', async () => {
      const { ctx, outcome, deploys } = setup({ sends: ['reset-before', 'ok'], strays: [{ listedFrom: 1, row: pushRow(-1500) }] })
      await unknownOutcome(runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx)))
      expect(deploys()).toHaveLength(1)
    })

    it('before Dokploy saw it, with a queue listing: resends exactly once, and follows the resent one', async () => {
      const { ctx, outcome, log, deploys, queue } = setup({ sends: ['reset-before', 'ok'] })
      await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))

      expect(deploys()).toHaveLength(2)
      expect(deploys()[1].input).toEqual(deploys()[0].input)
      expect(queue.submitted).toHaveLength(1)
      expect(log.infos()).toContain('Dokploy has no trace of it in its queue or its deployments: it never arrived. Sending it once more.')
      expect(outcome).toMatchObject({ status: 'done', ok: true, deploymentId: 'D1', matchedBy: 'reference' })
    })

    it("a row that started before the send, by the server's Date header, does not block the resend (server clock 5 min ahead of ours)", async () => {
      // by our clock the push's row would start after the send; by the server's (its Date header) it started 10 s before
      const ahead = 5 * MINUTE
      const { ctx, outcome, deploys } = setup({ sends: ['reset-before', 'ok'], serverAheadMs: ahead, strays: [{ listedFrom: 1, row: pushRow(ahead - 10_000) }] })
      await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))
      expect(deploys()).toHaveLength(2)
      expect(outcome).toMatchObject({ status: 'done', deploymentId: 'D1', matchedBy: 'reference' })
    })

    it('the same row blocks the resend when the server clock agrees with ours (it started after the send)', async () => {
      const { ctx, outcome, deploys } = setup({ sends: ['reset-before', 'ok'], strays: [{ listedFrom: 1, row: pushRow(5 * MINUTE - 10_000) }] })
      await unknownOutcome(runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx)))
      expect(deploys()).toHaveLength(1)
    })

    it('without a Date header every new finished row blocks the resend', async () => {
      const { ctx, outcome, deploys } = setup({ sends: ['reset-before', 'ok'], serverAheadMs: null, strays: [{ listedFrom: 1, row: pushRow(-60_000) }] })
      await unknownOutcome(runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx)))
      expect(deploys()).toHaveLength(1)
    })

    it('3. before Dokploy saw it, while another step\'s job with the same title waits in the queue: that one is not taken for ours', async () => {
      const { ctx, outcome, log, deploys, queue } = setup({ sends: ['reset-before', 'ok'] })
      queue.submit(TITLE, markDescription(DESCRIPTION, 'ffee0011')) // another step of the same run, queued just before
      await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))

      expect(deploys()).toHaveLength(2)
      expect(log.infos()).toContain('Dokploy has no trace of it in its queue or its deployments: it never arrived. Sending it once more.')
      expect(outcome).toMatchObject({ status: 'done', deploymentId: 'D2', matchedBy: 'reference' })
    })

    it('before Dokploy saw it, twice: resends only once, then fails', async () => {
      const { ctx, outcome, deploys } = setup({ sends: ['reset-before', 'reset-before', 'ok'] })
      const error = await rejection(runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx)))

      expect(error.failure).toBe('network')
      expect(deploys()).toHaveLength(2)
      expect(outcome.ok).toBe(false)
    })

    it.each([
      ['before Dokploy saw it', 'reset-before' as const],
      ['after Dokploy queued it behind another build', 'reset-after' as const]
    ])('%s, on a Dokploy without a queue listing: unknown, not resent, and says why', async (_, send) => {
      const { ctx, outcome, deploys, server } = setup({ sends: [send], queueSupported: false, startAfterMs: 5 * MINUTE })
      const error = await unknownOutcome(runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx)))

      expect(deploys()).toHaveLength(1)
      expect(error.message).toBe(
        'The answer to application.deploy was lost and this Dokploy cannot list its queue, so whether it was queued cannot be known. Not resending, which could deploy twice: check the dashboard.'
      )
      // nothing but reads after the one deploy
      expect(server.procedures().filter((p) => !p.startsWith('deployment.'))).toEqual(['application.deploy'])
      expect(outcome.ok).toBe(false)
    })

    it('after Dokploy started it, on a Dokploy without a queue listing: its marked row shows it arrived, so it is followed', async () => {
      const { ctx, outcome, deploys, server } = setup({ sends: ['reset-after'], queueSupported: false, startAfterMs: 0 })
      await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))

      expect(deploys()).toHaveLength(1)
      expect(outcome).toMatchObject({ status: 'done', ok: true, deploymentId: 'D1', matchedBy: 'reference' })
      // the queue is asked once, after the loss (its 404 is remembered); then only the rows
      expect(server.procedures().filter((p) => p === 'deployment.queueList')).toHaveLength(1)
      const afterQueue = server.procedures().slice(server.procedures().indexOf('deployment.queueList') + 1)
      expect(new Set(afterQueue)).toEqual(new Set(['deployment.all']))
    })
  })

  describe('a failed deploy call that Dokploy cannot have acted on, or a cancellation, is not looked for', () => {
    it('connection refused: the client sends it again at once (it never left), without the lost-answer check', async () => {
      const { ctx, outcome, log, deploys, clock, clientSleeps } = setup({ sends: ['refused', 'ok'] })
      await runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx))

      expect(deploys()).toHaveLength(2)
      expect(clientSleeps).toHaveLength(1)
      expect(log.warnings()).toEqual([])
      expect(clock.sleeps.map((s) => s.ms)).not.toContain(2000)
      expect(outcome).toMatchObject({ status: 'done', deploymentId: 'D1' })
    })

    it.each([
      ['a 400', 'bad-request' as const, 'bad-request'],
      ['a runner cancellation', 'cancelled' as const, 'cancelled']
    ])('%s: fails at once, with nothing resent and nothing looked up', async (_, send, failure) => {
      const { ctx, outcome, log, server } = setup({ sends: [send] })
      const error = await rejection(runQueued(ctx, settingsFor(), new Recorder(outcome), serviceOf(ctx)))

      expect(error.failure).toBe(failure)
      expect(server.procedures()).toEqual(['deployment.all', 'application.deploy'])
      expect(log.warnings()).toEqual([])
    })
  })

  describe('wait: false', () => {
    it('deploys and reports queued, asking nothing before or after the deploy', async () => {
      const { ctx, outcome, server, log, clock } = setup()
      await runQueued(ctx, settingsFor({ wait: false }), new Recorder(outcome), serviceOf(ctx))

      expect(server.procedures()).toEqual(['application.deploy'])
      expect(server.calls[0].input?.description).toMatch(MARKED)
      expect(outcome).toMatchObject({ status: 'queued', ok: true })
      expect(outcome.deploymentId).toBeUndefined()
      expect(log.infos()).toEqual(['Dokploy queued the deploy; not waiting for it (wait: false).'])
      expect(clock.sleeps).toEqual([])
    })

    it('a lost answer is checked for, not resent, when the queue shows the marked job', async () => {
      const { ctx, outcome, server, deploys } = setup({ sends: ['reset-after'] })
      await runQueued(ctx, settingsFor({ wait: false }), new Recorder(outcome), serviceOf(ctx))

      expect(server.procedures()).toEqual(['application.deploy', 'deployment.queueList', 'deployment.all'])
      expect(deploys()).toHaveLength(1)
      expect(outcome).toMatchObject({ status: 'queued', ok: true })
    })

    it('nothing anywhere: rows that started before the send (by the Date header) do not block; resent exactly once', async () => {
      const { ctx, outcome, deploys, queue } = setup({ sends: ['reset-before', 'ok'], strays: [{ listedFrom: 0, row: pushRow(-30_000) }] })
      await runQueued(ctx, settingsFor({ wait: false }), new Recorder(outcome), serviceOf(ctx))
      expect(deploys()).toHaveLength(2)
      expect(queue.submitted).toHaveLength(1)
      expect(outcome).toMatchObject({ status: 'queued', ok: true })
    })

    it('a finished row without the marker started after the send: unknown, not resent', async () => {
      const { ctx, outcome, deploys } = setup({ sends: ['reset-after'], startAfterMs: 0, buildMs: 1000, commitTitle: 'feat: the commit' })
      const error = await unknownOutcome(runQueued(ctx, settingsFor({ wait: false }), new Recorder(outcome), serviceOf(ctx)))
      expect(deploys()).toHaveLength(1)
      expect(error.message).toContain('deployment(s) D1 ended since')
      expect(error.message).not.toContain('OLD1')
      expect(outcome.status).not.toBe('queued')
    })

    it('no queue listing: unknown, not resent', async () => {
      const { ctx, outcome, deploys } = setup({ sends: ['reset-before', 'ok'], queueSupported: false })
      await unknownOutcome(runQueued(ctx, settingsFor({ wait: false }), new Recorder(outcome), serviceOf(ctx)))
      expect(deploys()).toHaveLength(1)
    })
  })
})
