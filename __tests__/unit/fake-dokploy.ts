/**
 * Test doubles for the waiting code: a fake clock whose sleep returns at once and moves time on,
 * a fake tRPC transport answered per procedure (answers may depend on the fake time), a small
 * build-queue simulation, and a Log that records every line with the fake time it was printed at.
 *
 * Only types are imported from src/: the client (which pulls in @actions/core) is built by the
 * test after it has mocked @actions/core.
 */
import { jest } from '@jest/globals'
import type { RawRequest, RawResponse, Transport } from '../../src/dokploy/transport.js'
import type { Log } from '../../src/logger.js'
import type { Sleep } from '../../src/sleep.js'

/** An epoch in August 2026, so timestamps look real; tests speak in ms after it. */
export const EPOCH = Date.parse('2026-08-20T10:00:00.000Z')

export interface FakeClock {
  now: () => number
  /** Fake ms since EPOCH. */
  elapsed: () => number
  sleep: Sleep
  /** Every sleep asked for: when (ms since EPOCH) and how long. */
  sleeps: { at: number; ms: number }[]
}

export function fakeClock(): FakeClock {
  let t = EPOCH
  const sleeps: { at: number; ms: number }[] = []
  return {
    now: () => t,
    elapsed: () => t - EPOCH,
    sleep: async (ms, signal) => {
      if (signal?.aborted) throw signal.reason
      sleeps.push({ at: t - EPOCH, ms })
      t += Math.max(0, ms)
    },
    sleeps
  }
}

/** Picks the value of the last phase that has begun: `phase(t, [[0, a], [20_000, b]])`. */
export function phase<T>(t: number, phases: [number, T][]): T {
  let value = phases[0][1]
  for (const [from, v] of phases) if (t >= from) value = v
  return value
}

// ---- wire format ----

export function reply(status: number, body: unknown): RawResponse {
  const text = JSON.stringify(body)
  return { status, header: (name) => (name.toLowerCase() === 'content-type' ? 'application/json' : null), text, bytes: Buffer.byteLength(text) }
}

export const ok = (json: unknown): RawResponse => reply(200, { result: { data: { json } } })
export const VOID = reply(200, { result: { data: { json: null, meta: { values: ['undefined'], v: 1 } } } })

export const trpcError = (status: number, code: string, message: string, path = 'x'): RawResponse =>
  reply(status, { error: { json: { message, code: -32000, data: { code, httpStatus: status, path, zodError: null } } } })

/** What a Dokploy older than the procedure answers. */
export const noProcedure = (procedure: string): RawResponse =>
  trpcError(404, 'NOT_FOUND', `No procedure found on path "${procedure}"`, procedure)

/** Marks a handler's result as the whole HTTP response rather than the `json` value to wrap. */
export class Raw {
  constructor(readonly response: RawResponse) {}
}

export interface Call {
  procedure: string
  method: 'GET' | 'POST'
  input: Record<string, unknown> | undefined
  /** Fake ms since EPOCH when the request was sent. */
  at: number
}

/** Answers one procedure: a value is sent as the tRPC `json`, a Raw as is; a thrown error is the transport's. */
export type Handler = (call: Call) => unknown

/** The response with a `date` header: the server's clock, in whole seconds as HTTP sends it. */
export const dated = (response: RawResponse, serverMs: number): RawResponse => ({
  ...response,
  header: (name) => (name.toLowerCase() === 'date' ? new Date(serverMs).toUTCString() : response.header(name))
})

export interface ServerOptions {
  /**
   * When set, every answer carries a `date` header from the server's clock, which runs this many ms
   * ahead of the fake clock (negative: behind). Unset: no `date` header at all.
   */
  serverAheadMs?: number
}

/** A Dokploy that answers from handlers and records every request; an unknown procedure is a test failure. */
export function fakeServer(
  clock: FakeClock,
  handlers: Record<string, Handler>,
  options: ServerOptions = {}
): { transport: Transport; calls: Call[]; procedures: () => string[] } {
  const calls: Call[] = []
  const transport: Transport = async (request: RawRequest) => {
    const url = new URL(request.url)
    const procedure = url.pathname.replace(/^\/api\/trpc\//, '')
    const encoded = request.method === 'GET' ? url.searchParams.get('input') : request.body
    const input = encoded ? (JSON.parse(encoded) as { json: Record<string, unknown> }).json : undefined
    const call: Call = { procedure, method: request.method, input, at: clock.elapsed() }
    calls.push(call)
    const handler = handlers[procedure]
    if (!handler) throw new Error(`unexpected request ${request.method} ${procedure}`)
    const answer = handler(call)
    const response = answer instanceof Raw ? answer.response : ok(answer)
    return options.serverAheadMs === undefined ? response : dated(response, clock.now() + options.serverAheadMs)
  }
  return { transport, calls, procedures: () => calls.map((c) => c.procedure) }
}

// ---- Dokploy objects ----

export interface JobSpec {
  id: string
  state: 'waiting' | 'active'
  serviceId: string
  title: string
  /** The description it was queued with (`data.descriptionLog`). */
  description?: string
  /** ms since EPOCH when it was queued. */
  queuedAt: number
  /** ms since EPOCH when it turned active (`processedOn`), for an active job. */
  processedOn?: number
}

/** A `deployment.queueList` entry as the server sends it (API.md §4). */
export const queueEntry = (job: JobSpec): unknown => ({
  id: job.id,
  name: 'deployments',
  data: { applicationId: job.serviceId, titleLog: job.title, descriptionLog: job.description, type: 'deploy', applicationType: 'application' },
  timestamp: EPOCH + job.queuedAt,
  processedOn: job.processedOn === undefined ? undefined : EPOCH + job.processedOn,
  state: job.state,
  servicePath: {}
})

export interface RowSpec {
  deploymentId: string
  title: string
  /** The description it was queued with, or the commit's once a git build overwrote it. */
  description?: string | null
  status: 'running' | 'done' | 'error' | 'cancelled'
  errorMessage?: string
  /** ms since EPOCH. */
  startedAt: number
  finishedAt?: number
  serviceId?: string
}

/** A `deployment.all` row as the server sends it (API.md §4). */
export const deploymentRow = (row: RowSpec): unknown => ({
  deploymentId: row.deploymentId,
  title: row.title,
  description: row.description ?? null,
  status: row.status,
  logPath: `/etc/dokploy/logs/web/${row.deploymentId}.log`,
  pid: null,
  errorMessage: row.errorMessage ?? null,
  applicationId: row.serviceId ?? 'A1',
  composeId: null,
  serverId: null,
  createdAt: new Date(EPOCH + row.startedAt).toISOString(),
  startedAt: new Date(EPOCH + row.startedAt).toISOString(),
  finishedAt: row.finishedAt === undefined ? null : new Date(EPOCH + row.finishedAt).toISOString()
})

/** What a git build writes over its row's description when it ends (the title becomes the commit message). */
export const COMMIT_DESCRIPTION = 'Commit: 9f8e7d6c5b4a'

/**
 * One build server running a service's deploys: each waits `startAfterMs` in the queue (another
 * build ahead), then runs `buildMs` as an active job (processedOn = its start) with a `running` row
 * carrying its title and description, then its row ends with `result` and, like a git build, its
 * title and description become the commit's; only then does the job leave the queue. Times are the
 * server's clock: the fake clock plus `serverAheadMs`. `strays` are other rows of the service, each
 * listed from a fake time on (a push's row created between two requests of the step).
 */
export function buildQueue(
  clock: FakeClock,
  options: {
    serviceId: string
    startAfterMs: number
    buildMs: number
    result?: 'done' | 'error'
    commitTitle?: string
    serverAheadMs?: number
    strays?: { listedFrom: number; row: RowSpec }[]
  }
) {
  const submitted: { id: string; title: string; description?: string; at: number }[] = []
  const oldRows: RowSpec[] = [{ deploymentId: 'OLD1', title: 'yesterday', status: 'done', startedAt: -86_400_000, finishedAt: -86_300_000 }]
  const window = (at: number) => ({ start: at + options.startAfterMs, end: at + options.startAfterMs + options.buildMs })
  const serverNow = () => clock.elapsed() + (options.serverAheadMs ?? 0)

  return {
    submitted,
    submit(title: string, description?: string): void {
      submitted.push({ id: `job-${submitted.length + 1}`, title, description, at: serverNow() })
    },
    queue(): unknown[] {
      const t = serverNow()
      return submitted
        .filter((s) => t < window(s.at).end)
        .map((s) => {
          const { start } = window(s.at)
          const active = t >= start
          return queueEntry({
            id: s.id,
            state: active ? 'active' : 'waiting',
            serviceId: options.serviceId,
            title: s.title,
            description: s.description,
            queuedAt: s.at,
            processedOn: active ? start : undefined
          })
        })
    },
    rows(): unknown[] {
      const t = serverNow()
      const ours = submitted
        .filter((s) => t >= window(s.at).start)
        .map((s, index): RowSpec => {
          const { start, end } = window(s.at)
          const finished = t >= end
          const overwritten = finished && options.commitTitle !== undefined
          return {
            deploymentId: `D${index + 1}`,
            title: overwritten ? (options.commitTitle as string) : s.title,
            description: overwritten ? COMMIT_DESCRIPTION : s.description,
            status: finished ? (options.result ?? 'done') : 'running',
            errorMessage: finished && options.result === 'error' ? 'Error: build failed\nexit code 1' : undefined,
            startedAt: start,
            finishedAt: finished ? end : undefined,
            serviceId: options.serviceId
          }
        })
      const strays = (options.strays ?? []).filter((s) => clock.elapsed() >= s.listedFrom).map((s) => s.row)
      // newest first, as Dokploy lists them
      const all = [...ours.reverse(), ...strays, ...oldRows].sort((a, b) => b.startedAt - a.startedAt)
      return all.map(deploymentRow)
    }
  }
}

// ---- log ----

export interface Line {
  level: 'info' | 'warning' | 'debug' | 'group'
  text: string
  /** Fake ms since EPOCH. */
  at: number
}

export function recordingLog(clock: FakeClock): Log & { lines: Line[]; infos: () => string[]; warnings: () => string[] } {
  const lines: Line[] = []
  const add = (level: Line['level']) => (text: string) => void lines.push({ level, text, at: clock.elapsed() })
  return {
    lines,
    info: add('info'),
    warning: add('warning'),
    debug: add('debug'),
    group: (title, body) => void lines.push({ level: 'group', text: `${title}\n${body}`, at: clock.elapsed() }),
    infos: () => lines.filter((l) => l.level === 'info').map((l) => l.text),
    warnings: () => lines.filter((l) => l.level === 'warning').map((l) => l.text)
  }
}

/** @actions/core with every function a silent mock: for modules that mask or log. */
export const silentCore = () => ({
  setSecret: jest.fn(),
  info: jest.fn(),
  warning: jest.fn(),
  debug: jest.fn(),
  startGroup: jest.fn(),
  endGroup: jest.fn()
})
