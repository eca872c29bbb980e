import { afterEach, beforeEach, describe, expect, it, jest } from '@jest/globals'
import type { Identified } from '../../src/correlate.js'
import type { WebSocketLike } from '../../src/dokploy/log-socket.js'
import type { LogSink } from '../../src/logger.js'
import type { WaitContext } from '../../src/poller.js'
import { deploymentRow, EPOCH, fakeServer, recordingLog, silentCore, type FakeClock, type Handler } from './fake-dokploy.js'

jest.unstable_mockModule('@actions/core', silentCore)

const { DokployClient } = await import('../../src/dokploy/client.js')
const { TransportError } = await import('../../src/dokploy/transport.js')
const { SPECS } = await import('../../src/operations.js')
const { Poller } = await import('../../src/poller.js')
const { followRow } = await import('../../src/follow-row.js')
const { LiveLog, endLookOffset } = await import('../../src/live-log.js')
const { serviceSource } = await import('../../src/service.js')
const { TIMINGS } = await import('../../src/timings.js')
const QUIET_LOOK_MS = TIMINGS.quietLookMs

/** The service's `.one`, read at most once, as the layer above hands it. */
const serviceOf = (ctx: WaitContext) => serviceSource(ctx.client, ctx.spec, ctx.serviceId, {})
const { webSockets } = await import('../../src/dokploy/log-socket.js')
const { sleep } = await import('../../src/sleep.js')

/**
 * The live log over a fake WebSocket, with jest's fake timers as the clock: lines arrive when a test
 * sends them, the follower reads the status (a fake Dokploy) when the live log says so.
 */
class FakeSocket implements WebSocketLike {
  static all: FakeSocket[] = []
  binaryType = 'blob'
  readyState = 0
  closedByClient = false
  private readonly listeners = new Map<string, ((event: never) => void)[]>()

  constructor(
    readonly url: string,
    readonly init: { headers: Record<string, string> }
  ) {
    FakeSocket.all.push(this)
  }

  addEventListener(type: string, listener: (event: never) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener])
  }

  close(): void {
    if (this.readyState >= 2) return
    this.closedByClient = true
    this.readyState = 2
    // the server answers the close frame a moment later
    setTimeout(() => this.end(1005, ''), 0)
  }

  private emit(type: string, event: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener(event as never)
  }

  // what the server does
  open(): void {
    this.readyState = 1
    this.emit('open', {})
  }

  send(text: string): void {
    if (this.readyState === 1) this.emit('message', { data: text })
  }

  end(code: number, reason = '', error?: string): void {
    if (this.readyState === 3) return
    if (error) this.emit('error', { message: error })
    this.readyState = 3
    this.emit('close', { code, reason })
  }
}

const SERVICE = 'A1'
const DEPLOYMENT = 'D9'
const MARKER = 'sha 1a2b3c4 · ref 0a1b2c3d'
const SECRET = 'S3CR3T-unit-env-5a8e'

/** The fake Dokploy: our row runs until `endsAt` (ms after EPOCH), then turns `result`. */
function dokploy(endsAt: () => number, result: 'done' | 'error' = 'done', extra: Record<string, Handler> = {}) {
  const row = (status: 'running' | 'done' | 'error') =>
    deploymentRow({ deploymentId: DEPLOYMENT, title: 'Deploy #42', description: MARKER, status, startedAt: 0, finishedAt: status === 'running' ? undefined : endsAt() })
  return {
    'deployment.all': () => [row(Date.now() - EPOCH >= endsAt() ? result : 'running')],
    'application.one': () => ({ applicationId: SERVICE, name: 'web', applicationStatus: 'running', env: `NODE_ENV=production\nDB_PASSWORD=${SECRET}` }),
    ...extra
  } as Record<string, Handler>
}

function setup(handlers: Record<string, Handler>, options: { deadlineMs?: number; openTimeoutMs?: number; signal?: AbortSignal } = {}) {
  const clock: FakeClock = { now: () => Date.now(), elapsed: () => Date.now() - EPOCH, sleep, sleeps: [] }
  const server = fakeServer(clock, handlers)
  const client = new DokployClient({ baseUrl: 'https://dokploy.example.com', apiKey: 'key-1', requestTimeoutMs: 30_000, retries: 0, transport: server.transport })
  const log = recordingLog(clock)
  const out: { at: number; text: string }[] = []
  const write = (text: string): void => void out.push({ at: Date.now() - EPOCH, text })
  const sink: LogSink = {
    startGroup: (title) => write(`::group::${title}`),
    line: write,
    endGroup: () => write('::endgroup::'),
    notice: (message) => write(`::notice::${message}`)
  }
  const ctx: WaitContext = {
    client,
    spec: SPECS.application,
    serviceId: SERVICE,
    deadline: EPOCH + (options.deadlineMs ?? 3_600_000),
    pollCapMs: 10_000,
    log,
    clock: { now: () => Date.now(), sleep },
    timings: TIMINGS,
    signal: options.signal,
    liveLog: {
      baseUrl: 'https://dokploy.example.com',
      apiKey: 'key-1',
      openTimeoutMs: options.openTimeoutMs ?? 30_000,
      sockets: webSockets(FakeSocket),
      sink
    }
  }
  const poller = new Poller(ctx)
  const found: Identified = {
    by: 'reference',
    row: {
      deploymentId: DEPLOYMENT,
      title: 'Deploy #42',
      description: MARKER,
      status: 'running',
      errorMessage: null,
      createdAt: null,
      startedAt: null,
      finishedAt: null,
      logPath: '/etc/dokploy/logs/web-x1y2z3/web-x1y2z3-2026-08-20T10-00-00-000Z.log',
      buildServerId: null
    }
  }
  /** Starts the live log and follows the row with it; resolves with the result and the live log. */
  const follow = async () => {
    const live = await LiveLog.start(ctx, ctx.liveLog!, poller, found, 5, serviceOf(ctx))
    try {
      return { result: await followRow(ctx, poller, found, live), live }
    } finally {
      live.close()
    }
  }
  /** deployment.all requests, at ms after EPOCH. */
  const looks = () => server.calls.filter((c) => c.procedure === 'deployment.all').map((c) => c.at)
  const lines = () => out.map((o) => o.text)
  return { ctx, server, log, out, lines, follow, looks, found }
}

const socket = (): FakeSocket => {
  const last = FakeSocket.all.at(-1)
  if (!last) throw new Error('no socket was opened')
  return last
}
const advance = (ms: number) => jest.advanceTimersByTimeAsync(ms)

beforeEach(() => {
  FakeSocket.all = []
  jest.useFakeTimers({ now: EPOCH })
})
afterEach(() => {
  jest.useRealTimers()
  delete process.env.HTTPS_PROXY
  delete process.env.NO_PROXY
})

describe('streaming', () => {
  it('learns the service’s secrets, then opens the socket with the key and the row’s logPath; lines go into one group, masked', async () => {
    let end = Infinity
    const s = setup(dokploy(() => end))
    const following = s.follow()
    await advance(0)
    expect(s.server.procedures()).toEqual(['application.one'])
    const ws = socket()
    expect(ws.url).toBe('wss://dokploy.example.com/listen-deployment?logPath=%2Fetc%2Fdokploy%2Flogs%2Fweb-x1y2z3%2Fweb-x1y2z3-2026-08-20T10-00-00-000Z.log')
    expect(ws.init.headers['x-api-key']).toBe('key-1')
    ws.open()
    ws.send('Initializing deployment\nCloning github.com/acme/web.git: ✅\n')
    await advance(2000)
    ws.send(`#5 RUN echo $DATABASE_URL\npostgres://app:${SECRET}@db/app\n::set-output name=status::done\n`)
    await advance(2000)
    ws.send('✅ Docker build completed.\n')
    end = Date.now() - EPOCH + 900
    await advance(5000)
    const { result, live } = await following

    expect(result.status).toBe('done')
    expect(s.lines()).toEqual([
      '::group::Build log of web · deployment D9',
      'Initializing deployment',
      'Cloning github.com/acme/web.git: ✅',
      '#5 RUN echo $DATABASE_URL',
      'postgres://app:***@db/app',
      '│ ::set-output name=status::done',
      '✅ Docker build completed.',
      '::endgroup::'
    ])
    expect(live.complete).toBe(true)
    // the last log-lines lines, masked; the report puts them behind its gutter
    expect(live.tail()).toBe('Cloning github.com/acme/web.git: ✅\n#5 RUN echo $DATABASE_URL\npostgres://app:***@db/app\n::set-output name=status::done\n✅ Docker build completed.')
    expect(ws.closedByClient).toBe(true)
  })

  it('reads the status 150 ms after Dokploy’s last line, then 1 s after it, then every 0.5 s while it lags: two reads for a lag of up to a second', async () => {
    const expected: Record<number, number[]> = { 40: [150], 1000: [150, 1000], 1200: [150, 1000, 1500], 2500: [150, 1000, 1500, 2000, 2500] }
    for (const lagMs of [40, 1000, 1200, 2500]) {
      FakeSocket.all = []
      let end = Infinity
      const s = setup(dokploy(() => end))
      const following = s.follow()
      await advance(0)
      socket().open()
      socket().send('Initializing deployment\n')
      await advance(10_000)
      socket().send('Error occurred ❌, check the logs for details.\n')
      const lastLine = Date.now() - EPOCH
      end = lastLine + lagMs
      await advance(10_000)
      const { result } = await following
      expect(result.status).toBe('done')
      const afterEnd = s.looks().map((at) => at - lastLine)
      expect(afterEnd).toEqual(expected[lagMs])
    }
  })

  it('reads nothing while a long build keeps writing, and reads the status when the socket ends', async () => {
    let end = Infinity
    const s = setup(dokploy(() => end))
    const following = s.follow()
    await advance(0)
    socket().open()
    for (let second = 0; second < 300; second += 5) {
      socket().send(`step ${second}\n`)
      await advance(5000)
    }
    expect(s.looks()).toEqual([])
    end = Date.now() - EPOCH
    socket().end(1006, '')
    await advance(0)
    const { result, live } = await following
    expect(result.status).toBe('done')
    expect(s.looks()).toEqual([300_000])
    // the stream dropped: its tail is not known to be whole
    expect(live.complete).toBe(false)
  })

  it('with the log quiet, reads the status every 30 s (a stalled socket never says the build ended)', async () => {
    const s = setup(dokploy(() => 100_000))
    const following = s.follow()
    await advance(0)
    socket().open()
    socket().send('Initializing deployment\n')
    await advance(200_000)
    const { result } = await following
    expect(result.status).toBe('done')
    expect(s.looks()).toEqual([QUIET_LOOK_MS, 2 * QUIET_LOOK_MS, 3 * QUIET_LOOK_MS, 4 * QUIET_LOOK_MS])
  })

  it('a line after one of Dokploy’s last lines means the build went on: the quick reads stop', async () => {
    const s = setup(dokploy(() => 60_000))
    const following = s.follow()
    await advance(0)
    socket().open()
    socket().send('✅ Nixpacks build completed.\n')
    // before the first look, due 150 ms after that line
    await advance(100)
    socket().send('docker cp static files\n')
    await advance(100_000)
    await following
    expect(s.looks()).toEqual([100 + QUIET_LOOK_MS, 100 + 2 * QUIET_LOOK_MS])
  })

  it('never waits past the deadline: a build still running then is a timeout', async () => {
    const s = setup(dokploy(() => Infinity), { deadlineMs: 45_000 })
    const following = s.follow()
    await advance(0)
    socket().open()
    socket().send('Initializing deployment\n')
    await advance(60_000)
    const { result } = await following
    expect(result.status).toBe('timeout')
    expect(s.looks()).toEqual([30_000])
    expect(s.lines().at(-1)).toBe('::endgroup::')
  })

  it('stops at once when the runner cancels, and closes its group', async () => {
    const controller = new AbortController()
    const s = setup(dokploy(() => Infinity), { signal: controller.signal })
    const following = s.follow()
    await advance(0)
    socket().open()
    socket().send('Initializing deployment\n')
    await advance(1000)
    controller.abort(new Error('cancelled by the runner (SIGINT)'))
    await expect(following).rejects.toThrow('cancelled by the runner')
    expect(s.lines().at(-1)).toBe('::endgroup::')
    expect(socket().closedByClient).toBe(true)
  })
})

describe('falling back to polling, with one notice', () => {
  const notices = (s: ReturnType<typeof setup>) => s.lines().filter((line) => line.startsWith('::notice::'))

  it.each([
    ['an upgrade refused before it opened', (ws: FakeSocket) => ws.end(1006, '', 'Received network error or non-101 status code.'), 'the WebSocket upgrade was refused (Received network error or non-101 status code.)'],
    ['a socket closed at once with no data (a key not accepted there)', (ws: FakeSocket) => (ws.open(), ws.end(1005)), 'it did not accept the API key there'],
    ['a log path refused', (ws: FakeSocket) => (ws.open(), ws.end(4000, 'Invalid log path')), 'Dokploy refused the log path (4000 Invalid log path)'],
    ['a log file tail cannot open', (ws: FakeSocket) => (ws.open(), ws.send("tail error: tail: cannot open '/etc/dokploy/logs/x.log' for reading\n"), ws.end(1005)), "Dokploy could not read the deployment's log file"]
  ])('%s', async (_name, refuse, why) => {
    const s = setup(dokploy(() => 20_000))
    const following = s.follow()
    await advance(0)
    refuse(socket())
    await advance(30_000)
    const { result, live } = await following
    expect(result.status).toBe('done')
    expect(notices(s)).toHaveLength(1)
    expect(notices(s)[0]).toContain(why)
    expect(notices(s)[0]).toContain('Following the deployment by polling instead.')
    expect(s.lines().filter((line) => !line.startsWith('::notice::'))).toEqual([])
    // polled as without the live log: backing off from 1 s
    expect(s.looks().slice(0, 3)).toEqual([1000, 2500, 4750])
    expect(live.complete).toBe(false)
    expect(live.tail()).toBeUndefined()
    expect(FakeSocket.all).toHaveLength(1)
  })

  it('an upgrade with no answer within request-timeout', async () => {
    const s = setup(dokploy(() => 20_000), { openTimeoutMs: 5000 })
    const following = s.follow()
    await advance(30_000)
    await following
    expect(notices(s)).toEqual(['::notice::No live build log: Dokploy did not answer the WebSocket upgrade within 5 s. Following the deployment by polling instead.'])
    expect(socket().closedByClient).toBe(true)
    // polled from the timeout on (the fake socket's close event comes a tick later)
    expect(s.looks()[0]).toBeGreaterThanOrEqual(5000 + 1000)
    expect(s.looks()[0]).toBeLessThan(5000 + 1100)
  })

  it('a socket that drops mid-build: the status is read at once, the socket reopened once, and no line printed twice', async () => {
    const s = setup(dokploy(() => 100_000))
    const following = s.follow()
    await advance(0)
    socket().open()
    socket().send('one\ntwo\npart')
    await advance(3000)
    socket().end(1006)
    await advance(0)
    expect(s.looks()).toEqual([3000])
    expect(FakeSocket.all).toHaveLength(2)
    const again = socket()
    again.open()
    // the server sends the file from its start again
    again.send('one\ntwo\npartial line\nthree\n')
    await advance(10_000)
    expect(s.lines()).toEqual(['::group::Build log of web · deployment D9', 'one', 'two', '[The live log dropped: reopening it once; lines already shown are not repeated.]', 'partial line', 'three'])
    // the second drop ends the stream: polling from then on
    again.end(1006)
    await advance(100_000)
    const { result, live } = await following
    expect(result.status).toBe('done')
    expect(notices(s)).toEqual(['::notice::No live build log: the log socket dropped a second time (code 1006). Following the deployment by polling instead.'])
    expect(FakeSocket.all).toHaveLength(2)
    expect(s.lines().filter((line) => line === '::endgroup::')).toHaveLength(1)
    expect(live.tail()).toBeUndefined()
  })

  it('a reopen that is refused falls back, saying Dokploy stopped answering (a restart), not blaming a proxy', async () => {
    const s = setup(dokploy(() => 50_000))
    const following = s.follow()
    await advance(0)
    socket().open()
    socket().send('one\n')
    socket().end(1006)
    await advance(0)
    socket().end(1006, '', 'connect ECONNREFUSED 10.0.0.5:443')
    await advance(60_000)
    await following
    expect(notices(s)).toHaveLength(1)
    expect(notices(s)[0]).toContain('the log socket dropped and could not be reopened: Dokploy stopped answering (connect ECONNREFUSED 10.0.0.5:443): it is probably restarting')
    expect(notices(s)[0]).not.toContain('proxy')
  })

  it('a proxy for Dokploy no longer rules the socket out (it goes through the proxy, issue 17): no notice', async () => {
    process.env.HTTPS_PROXY = 'http://proxy.internal:3128'
    const s = setup(dokploy(() => Infinity))
    const live = await LiveLog.start(s.ctx, s.ctx.liveLog!, new Poller(s.ctx), s.found, 5, serviceOf(s.ctx))
    live.close()
    expect(FakeSocket.all).toHaveLength(1)
    expect(s.server.procedures()).toContain('application.one')
    expect(notices(s)).toEqual([])
  })

  it('secrets that cannot be read: no line is printed, since one could hold them', async () => {
    const s = setup({
      ...dokploy(() => 3000),
      'application.one': () => {
        throw new TransportError('refused', 'connect ECONNREFUSED')
      }
    })
    const following = s.follow()
    await advance(10_000)
    await following
    expect(FakeSocket.all).toEqual([])
    expect(notices(s)).toHaveLength(1)
    expect(notices(s)[0]).toContain("the service's secrets could not be read first")
  })

  it('a WebSocket the runtime refuses to create', async () => {
    class Refusing extends FakeSocket {
      constructor(url: string, init: { headers: Record<string, string> }) {
        super(url, init)
        throw new SyntaxError(`Invalid URL: ${url.slice(0, 12)}…`)
      }
    }
    const s = setup(dokploy(() => 3000))
    s.ctx.liveLog = { ...s.ctx.liveLog!, sockets: webSockets(Refusing) }
    const following = s.follow()
    await advance(10_000)
    const { result } = await following
    expect(result.status).toBe('done')
    expect(notices(s)).toEqual(['::notice::No live build log: the WebSocket could not be created (Invalid URL: wss://dokplo…). Following the deployment by polling instead.'])
  })

  it('a runtime with no WebSocket', async () => {
    const s = setup(dokploy(() => 3000))
    const live = await LiveLog.start(s.ctx, { ...s.ctx.liveLog!, sockets: webSockets(undefined) }, new Poller(s.ctx), s.found, 5, serviceOf(s.ctx))
    live.close()
    expect(s.server.procedures()).toEqual([])
    expect(notices(s)[0]).toMatch(/^::notice::No live build log: this Node \(v[\d.]+\) has no WebSocket\./)
  })
})

describe('endLookOffset', () => {
  it('reads 150 ms after the line, 1 s after it, every 0.5 s up to 3 s, then less and less often', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 7, 8].map((k) => endLookOffset(k, TIMINGS))).toEqual([150, 1000, 1500, 2000, 2500, 3000, 3750, 4875, 6563])
  })
})
