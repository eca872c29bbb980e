// The emulator's live build log over real TCP, read with a raw RFC 6455 client written here: the handshake,
// the frames on the wire, and Dokploy's checks and `tail -f` behind `/listen-deployment`.
import http from 'node:http'
import { randomBytes } from 'node:crypto'
import type { Duplex } from 'node:stream'
import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './e2e/at-once.js'
import { startEmulator, type Emulator, type EmulatorOptions } from './emulator/server.js'
import { acceptValue } from './emulator/websocket.js'

interface Frame {
  fin: boolean
  opcode: number
  masked: boolean
  payload: Buffer
}

interface Upgrade {
  status: number
  headers: http.IncomingHttpHeaders
  body: string
  socket?: Duplex
  frames: Frame[]
  /** Resolves when the TCP connection has ended. */
  ended: Promise<void>
  /** Resolves with the frames once one matches. */
  until: (match: (frame: Frame) => boolean, timeoutMs?: number) => Promise<Frame>
  send: (opcode: number, payload: Buffer | string, options?: { masked?: boolean; fin?: boolean }) => void
}

const TEXT = 0x1
const CLOSE = 0x8
const PING = 0x9
const PONG = 0xa

/** One client frame, masked unless told otherwise. */
function clientFrame(opcode: number, payload: Buffer, masked = true, fin = true): Buffer {
  const header = Buffer.from([(fin ? 0x80 : 0) | opcode, (masked ? 0x80 : 0) | payload.length])
  if (!masked) return Buffer.concat([header, payload])
  const mask = randomBytes(4)
  return Buffer.concat([header, mask, Buffer.from(payload.map((byte, i) => byte ^ mask[i % 4]))])
}

/** Parses server frames off the front of `buffer`. */
function parseFrames(buffer: Buffer): { frames: Frame[]; rest: Buffer } {
  const frames: Frame[] = []
  let rest = buffer
  for (;;) {
    if (rest.length < 2) break
    let length = rest[1] & 0x7f
    let offset = 2
    if (length === 126) {
      if (rest.length < 4) break
      length = rest.readUInt16BE(2)
      offset = 4
    } else if (length === 127) {
      if (rest.length < 10) break
      length = Number(rest.readBigUInt64BE(2))
      offset = 10
    }
    const masked = (rest[1] & 0x80) !== 0
    if (masked) offset += 4
    if (rest.length < offset + length) break
    frames.push({ fin: (rest[0] & 0x80) !== 0, opcode: rest[0] & 0x0f, masked, payload: rest.subarray(offset, offset + length) })
    rest = rest.subarray(offset + length)
  }
  return { frames, rest }
}

// Each test starts an emulator of its own and runs beside the others; all are closed at the end of the file.
const running: Emulator[] = []
async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ buildMs: 600, rowLagMs: 0, overwriteLagMs: 0, ...options })
  running.push(emu)
  return emu
}
afterAll(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()))
})

function upgrade(emu: Emulator, path: string, headers: Record<string, string> = {}, key = randomBytes(16).toString('base64')): Promise<Upgrade> {
  const { port } = new URL(emu.url)
  return new Promise((resolve, reject) => {
    const request = http.request({
      host: '127.0.0.1',
      port,
      path,
      headers: { connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-version': '13', 'sec-websocket-key': key, 'x-api-key': emu.apiKey, ...headers }
    })
    request.on('error', reject)
    request.on('response', (response) => {
      let body = ''
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body, frames: [], ended: Promise.resolve(), until: () => Promise.reject(new Error('no socket')), send: () => undefined }))
    })
    request.on('upgrade', (response, socket, head) => {
      const frames: Frame[] = []
      const waiters: (() => void)[] = []
      let buffer: Buffer = Buffer.from(head)
      const take = (chunk: Buffer): void => {
        const parsed = parseFrames(Buffer.concat([buffer, chunk]))
        buffer = parsed.rest
        frames.push(...parsed.frames)
        waiters.forEach((wake) => wake())
      }
      socket.on('data', take)
      take(Buffer.alloc(0))
      const ended = new Promise<void>((done) => socket.on('close', () => done()))
      resolve({
        status: response.statusCode ?? 0,
        headers: response.headers,
        body: '',
        socket,
        frames,
        ended,
        until: (match, timeoutMs = 3000) =>
          new Promise((found, fail) => {
            const check = (): boolean => {
              const hit = frames.find(match)
              if (hit) found(hit)
              return !!hit
            }
            if (check()) return
            const timer = setTimeout(() => fail(new Error(`no such frame; got ${JSON.stringify(frames.map((f) => [f.opcode, f.payload.toString()]))}`)), timeoutMs)
            waiters.push(() => check() && clearTimeout(timer))
          }),
        send: (opcode, payload, options = {}) => socket.write(clientFrame(opcode, Buffer.from(payload), options.masked ?? true, options.fin ?? true))
      })
    })
    request.end()
  })
}

const text = (upgraded: Upgrade): string =>
  upgraded.frames
    .filter((f) => f.opcode === TEXT)
    .map((f) => f.payload.toString('utf8'))
    .join('')
const closeOf = (frame: Frame): { code?: number; reason: string } => ({
  code: frame.payload.length >= 2 ? frame.payload.readUInt16BE(0) : undefined,
  reason: frame.payload.subarray(2).toString('utf8')
})
const isClose = (f: Frame): boolean => f.opcode === CLOSE
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Deploys web and waits for its row: the path to stream. */
async function deployment(emu: Emulator, id = emu.ids.web) {
  const before = emu.deployments.length
  const r = await fetch(`${emu.url}/api/trpc/application.deploy`, {
    method: 'POST',
    headers: { 'x-api-key': emu.apiKey, 'content-type': 'application/json' },
    body: JSON.stringify({ json: { applicationId: id } })
  })
  expect(r.status).toBe(200)
  for (let i = 0; i < 100 && emu.deployments.length === before; i++) await sleep(5)
  return emu.deployments[before]
}
/** Resolves once an upgrade was accepted and the log so far sent on it: a build held until then goes on streamed. */
const streamed = (emu: Emulator): Promise<void> =>
  new Promise((resolve) => void emu.hook({ procedure: 'listen-deployment', when: 'after', run: () => resolve() }))
const pathOf = (row: { logPath: string }) => `/listen-deployment?logPath=${encodeURIComponent(row.logPath)}`

heading('RFC 6455 on the wire', () => {
  concurrent('the handshake answers 101 with the Sec-WebSocket-Accept of the key (the RFC’s own example)', async () => {
    expect(acceptValue('dGhlIHNhbXBsZSBub25jZQ==')).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
    const emu = await start()
    const row = await deployment(emu)
    const ws = await upgrade(emu, pathOf(row), {}, 'dGhlIHNhbXBsZSBub25jZQ==')
    expect(ws.status).toBe(101)
    expect(ws.headers.upgrade).toBe('websocket')
    expect(ws.headers.connection).toBe('Upgrade')
    expect(ws.headers['sec-websocket-accept']).toBe('s3pPLMBiTxaQ9kYGzzhZRbK+xOo=')
    expect(emu.requests.at(-1)).toMatchObject({ api: 'websocket', path: '/listen-deployment', status: 101, input: { logPath: row.logPath } })
  })

  concurrent.each([
    ['no key', { 'sec-websocket-key': '' }, 400],
    ['a key that is not 16 bytes', { 'sec-websocket-key': 'c2hvcnQ=' }, 400],
    ['another protocol version', { 'sec-websocket-version': '8' }, 426]
  ])('a bad upgrade (%s) is refused with an HTTP answer', async (_name, headers, status) => {
    const emu = await start()
    const ws = await upgrade(emu, '/listen-deployment?logPath=/etc/dokploy/logs/x.log', headers)
    expect(ws.status).toBe(status)
    if (status === 426) expect(ws.headers['sec-websocket-version']).toBe('13')
  })

  concurrent('server frames are whole, unmasked text frames; a ping gets a pong with its payload', async () => {
    const emu = await start()
    const row = await deployment(emu)
    const ws = await upgrade(emu, pathOf(row))
    await ws.until((f) => f.opcode === TEXT)
    ws.send(PING, 'are you there')
    const pong = await ws.until((f) => f.opcode === PONG)
    expect(pong.payload.toString()).toBe('are you there')
    expect(ws.frames.every((f) => f.fin && !f.masked)).toBe(true)
  })

  concurrent('a close from the client is echoed with its code, and the server ends the TCP connection', async () => {
    const emu = await start()
    const row = await deployment(emu)
    const ws = await upgrade(emu, pathOf(row))
    await ws.until((f) => f.opcode === TEXT)
    const body = Buffer.alloc(2)
    body.writeUInt16BE(1000)
    ws.send(CLOSE, body)
    expect(closeOf(await ws.until(isClose)).code).toBe(1000)
    await ws.ended
    expect(emu.openLogSockets()).toBe(0)
  })

  concurrent('an unmasked client frame is a protocol error: close 1002', async () => {
    const emu = await start()
    const row = await deployment(emu)
    const ws = await upgrade(emu, pathOf(row))
    ws.send(TEXT, 'hello', { masked: false })
    expect(closeOf(await ws.until(isClose))).toEqual({ code: 1002, reason: 'client frames must be masked' })
    await ws.ended
  })

  concurrent('a long line goes out in one frame with a 16-bit length', async () => {
    const emu = await start()
    const long = 'x'.repeat(70_000)
    // the long line is written once the socket is open, however busy the machine: it comes alone, as a line written live
    const open = streamed(emu)
    emu.setBuild(emu.ids.web, { durationMs: 300, echo: [long], echoAfterMs: 100, holdBefore: (event) => (event === 'echo' ? open : undefined) })
    const row = await deployment(emu)
    const ws = await upgrade(emu, pathOf(row))
    const frame = await ws.until((f) => f.payload.length > 65_535)
    expect(frame.payload.toString()).toBe(`${long}\n`)
  })
})

heading("Dokploy's /listen-deployment", () => {
  concurrent('the whole log so far at once, then each line as the build writes it, until the client goes; never closed by the server', async () => {
    const emu = await start({ doneLagMs: 300 })
    // the build goes past its first lines once the socket is open, however busy the machine
    const open = streamed(emu)
    emu.setBuild(emu.ids.web, { durationMs: 600, echo: ['echoed mid-build'], echoAfterMs: 200, holdBefore: (event) => (event === 'step-1' ? open : undefined) })
    const row = await deployment(emu)
    const ws = await upgrade(emu, pathOf(row))
    const first = await ws.until((f) => f.opcode === TEXT)
    expect(first.payload.toString()).toMatch(/^Initializing deployment\n.*\nBuilding web-\w+ \(dockerfile\)\n$/s)
    await ws.until((f) => f.payload.toString() === 'Docker Deployed: ✅\n')
    const lines = text(ws).trimEnd().split('\n')
    expect(lines.slice(3)).toEqual([
      '#5 [build 1/4] RUN step-1 ... done (0.12s)',
      'echoed mid-build',
      '#6 [build 2/4] RUN step-2 ... done (0.24s)',
      '#7 [build 3/4] RUN step-3 ... done (0.36s)',
      '#8 [build 4/4] RUN step-4 ... done (0.48s)',
      'Docker Deployed: ✅'
    ])
    // the row turns done a lag after its last line, and the emulator records when
    expect(row.status).toBe('running')
    for (let i = 0; i < 100 && row.status === 'running'; i++) await sleep(10)
    const settled = emu.settledAt(row.deploymentId) as number
    expect(row.status).toBe('done')
    expect(settled - Date.parse(row.startedAt)).toBeGreaterThanOrEqual(600 + 300 - 20)
    // tail -f goes on after the end
    await sleep(100)
    expect(ws.frames.some(isClose)).toBe(false)
    expect(emu.openLogSockets()).toBe(1)
  })

  concurrent('a wrong key: the upgrade succeeds, then the socket closes with no code and no data', async () => {
    const emu = await start()
    const row = await deployment(emu)
    const ws = await upgrade(emu, pathOf(row), { 'x-api-key': 'wrong-key' })
    expect(ws.status).toBe(101)
    const close = await ws.until(isClose)
    expect(close.payload.length).toBe(0)
    expect(ws.frames.filter((f) => f.opcode === TEXT)).toEqual([])
  })

  concurrent.each([
    ['no logPath', '/listen-deployment', 'logPath no provided'],
    ['a logPath outside /etc/dokploy', '/listen-deployment?logPath=/etc/passwd', 'Invalid log path'],
    ['a logPath that climbs out of it', '/listen-deployment?logPath=/etc/dokploy/../passwd', 'Invalid log path'],
    ['a logPath with a shell character', '/listen-deployment?logPath=/etc/dokploy/logs/a;b.log', 'Invalid log path']
  ])('%s: close 4000', async (_name, path, reason) => {
    const emu = await start()
    const ws = await upgrade(emu, path)
    expect(closeOf(await ws.until(isClose))).toEqual({ code: 4000, reason })
  })

  concurrent('a file that is not there: tail’s error as text, then close', async () => {
    const emu = await start()
    const ws = await upgrade(emu, '/listen-deployment?logPath=/etc/dokploy/logs/web/missing.log')
    await ws.until(isClose)
    expect(text(ws)).toBe("tail error: tail: cannot open '/etc/dokploy/logs/web/missing.log' for reading: No such file or directory\n")
  })

  concurrent('a remote server’s build: its log is on that server only; a missing, wrong or unknown serverId gets Dokploy’s error', async () => {
    const emu = await start()
    emu.placeService(emu.ids.web, { serverId: 'srv-remote-1' })
    emu.placeService(emu.ids.api, { serverId: 'srv-remote-2' })
    const row = await deployment(emu)
    // Dokploy never fills a row's serverId; the service says where it runs
    expect(row.serverId).toBeNull()
    expect(row.buildServerId).toBeNull()
    const at = (serverId?: string) => upgrade(emu, `${pathOf(row)}${serverId ? `&serverId=${serverId}` : ''}`)
    const local = await at()
    await local.until(isClose)
    expect(text(local)).toBe(`tail error: tail: cannot open '${row.logPath}' for reading: No such file or directory\n`)
    const wrong = await at('srv-remote-2')
    await wrong.until(isClose)
    expect(text(wrong)).toBe(`tail: cannot open '${row.logPath}' for reading: No such file or directory\n`)
    const unknown = await at('srv-nowhere')
    await unknown.until(isClose)
    expect(text(unknown)).toBe('Server not found')
    const remote = await at('srv-remote-1')
    await remote.until((f) => f.payload.toString().startsWith('Initializing deployment'))
  })

  concurrent('a build server’s build: the row names it, and its log is on it, not where the service runs', async () => {
    const emu = await start()
    emu.placeService(emu.ids.web, { serverId: 'srv-remote-1', buildServerId: 'srv-build-1' })
    const row = await deployment(emu)
    expect(row.serverId).toBeNull()
    expect(row.buildServerId).toBe('srv-build-1')
    const runsOn = await upgrade(emu, `${pathOf(row)}&serverId=srv-remote-1`)
    await runsOn.until(isClose)
    expect(text(runsOn)).toMatch(/^tail: cannot open/)
    const buildsOn = await upgrade(emu, `${pathOf(row)}&serverId=srv-build-1`)
    await buildsOn.until((f) => f.payload.toString().startsWith('Initializing deployment'))
  })

  concurrent('a rate-limited key spends one request on the upgrade', async () => {
    const emu = await start()
    const row = await deployment(emu)
    emu.setRateLimit(emu.apiKey, 1)
    const first = await upgrade(emu, pathOf(row))
    await first.until((f) => f.opcode === TEXT)
    const second = await upgrade(emu, pathOf(row))
    expect((await second.until(isClose)).payload.length).toBe(0)
  })
})

heading('switches', () => {
  concurrent.each([
    ['forbidden', 403, 'cloudflare'],
    ['not-found', 404, undefined],
    ['redirect', 301, undefined]
  ] as const)('refuseUpgrades(%s): an HTTP %i, no socket', async (refusal, status, server) => {
    const emu = await start()
    emu.refuseUpgrades(refusal)
    const ws = await upgrade(emu, '/listen-deployment?logPath=/etc/dokploy/logs/x.log')
    expect(ws.status).toBe(status)
    if (server) expect(ws.headers.server).toBe(server)
    if (status === 301) expect(ws.headers.location).toMatch(/^https:\/\//)
    expect(emu.requests.at(-1)).toMatchObject({ api: 'websocket', status, fault: refusal })
    emu.refuseUpgrades(undefined)
    expect((await upgrade(emu, '/listen-deployment?logPath=/etc/dokploy/logs/x.log')).status).toBe(101)
  })

  concurrent('refuseUpgrades(unauthorized): upgraded, then closed with no data, as a key not accepted there', async () => {
    const emu = await start()
    const row = await deployment(emu)
    emu.refuseUpgrades('unauthorized')
    const ws = await upgrade(emu, pathOf(row))
    expect(ws.status).toBe(101)
    expect((await ws.until(isClose)).payload.length).toBe(0)
    expect(text(ws)).toBe('')
  })

  concurrent('refuseUpgrades(hang): no answer at all', async () => {
    const emu = await start()
    emu.refuseUpgrades('hang')
    const answered = await Promise.race([upgrade(emu, '/listen-deployment?logPath=/etc/dokploy/logs/x.log').then(() => true), sleep(300).then(() => false)])
    expect(answered).toBe(false)
  })

  concurrent('dropLogSockets cuts the TCP connections without a close frame; a restart does too', async () => {
    const emu = await start({ buildMs: 5000 })
    const row = await deployment(emu)
    const a = await upgrade(emu, pathOf(row))
    await a.until((f) => f.opcode === TEXT)
    expect(emu.dropLogSockets()).toBe(1)
    await a.ended
    expect(a.frames.some(isClose)).toBe(false)

    const b = await upgrade(emu, pathOf(row))
    await b.until((f) => f.opcode === TEXT)
    await emu.restart({ downMs: 100, down: 'proxy-502' })
    await b.ended
    expect(text(b)).toContain('Deployment interrupted: server restarted')
    expect(emu.settledAt(row.deploymentId)).toBeDefined()
  })
})

heading('staging on the socket', () => {
  concurrent('a listen-deployment hook runs once an upgrade was accepted and the log so far sent on it', async () => {
    const emu = await start()
    const seenAtHook: string[] = []
    const row = await deployment(emu)
    emu.hook({ procedure: 'listen-deployment', when: 'after', run: () => void seenAtHook.push(`${emu.openLogSockets()}`) })
    const ws = await upgrade(emu, pathOf(row))
    await ws.until((f) => f.opcode === TEXT)
    expect(text(ws)).toContain('Initializing deployment')
    // once, with the socket open
    expect(seenAtHook).toEqual(['1'])
  })
})
