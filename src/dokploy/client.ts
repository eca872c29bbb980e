import { DokployError, ShapeError, type Failure } from './errors.js'
import { TransportError, type RawResponse, type Transport } from './transport.js'
import { readEnvelope } from './envelope.js'
import { answerFailure, shapeFailure, transportFailure } from './wording.js'
import { withRetries, type RetryPolicy } from './retries.js'
import { parseRetryAfter, type Backoff } from '../retry.js'
import { systemClock, type Clock } from '../clock.js'
import { TIMINGS, type Timings } from '../timings.js'

/** Turns the parsed `json` value of a tRPC reply into the few fields a caller needs; throws ShapeError otherwise. */
export type Extractor<T> = (value: unknown) => T

export interface ClientOptions {
  baseUrl: string
  apiKey: string
  /** The headers input: sent on every request (the action's own headers win). */
  headers?: Record<string, string>
  requestTimeoutMs: number
  retries: number
  transport: Transport
  /** Epoch ms after which no request is started and no retry waited for. */
  deadline?: number
  signal?: AbortSignal
  clock?: Clock
  timings?: Timings
  backoff?: Backoff
  debug?: (line: string) => void
  /** Where a pause long enough to look like a hang is announced. */
  info?: (line: string) => void
}

export interface CallOptions {
  /** Longer bound for calls that legitimately take minutes (a database deploy). */
  timeoutMs?: number
  /** May run this long past the deadline: the log tail of a build that timed out. */
  graceMs?: number
}

export interface ClientStats {
  requests: number
  /** Silences long enough for Dokploy to have restarted in them (no connection, a proxy's 5xx, no answer in time). */
  outages: number
  retries: number
  bytesSent: number
  bytesReceived: number
}

/** Failures that are a silence of the server, not an answer. */
const OUTAGE: ReadonlySet<Failure> = new Set(['network', 'gateway', 'unavailable', 'timeout'])

interface Request {
  method: 'GET' | 'POST'
  path: string
  body?: string
}

/**
 * Dokploy's tRPC API: queries are GET `?input=`, mutations POST `{"json": …}`. Response bodies never leave
 * this class: callers get what their extractor picked, or a DokployError whose message quotes no body.
 * Retries (retries.ts), envelopes (envelope.ts) and wording (wording.ts) are each their own module.
 */
export class DokployClient {
  readonly stats: ClientStats
  private answered = 0
  /** When Dokploy last answered, and when the silence after it began (an outage failure), if it has. */
  private lastAnswerAt?: number
  private silentSince?: number
  /** The latest Date header and when it arrived, to bound the server's clock. */
  private serverClock?: { serverMs: number; receivedAt: number }
  private readonly clock: Clock
  private readonly timings: Timings
  private readonly policy: RetryPolicy

  constructor(
    private readonly options: ClientOptions,
    stats?: ClientStats
  ) {
    this.stats = stats ?? { requests: 0, outages: 0, retries: 0, bytesSent: 0, bytesReceived: 0 }
    this.clock = options.clock ?? systemClock
    this.timings = options.timings ?? TIMINGS
    this.policy = {
      retries: options.retries,
      backoff: options.backoff ?? { baseMs: this.timings.retryBaseMs, capMs: this.timings.retryCapMs },
      sleep: async (ms, signal) => {
        this.stats.retries++
        await this.clock.sleep(ms, signal)
      },
      signal: options.signal,
      visiblePauseMs: this.timings.visiblePauseMs,
      debug: options.debug,
      info: options.info
    }
  }

  query<T>(procedure: string, input: object | undefined, extract: Extractor<T>, options: CallOptions = {}): Promise<T> {
    const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`
    return this.call('query', procedure, { method: 'GET', path: `${procedure}${query}` }, extract, options, input)
  }

  mutate<T>(procedure: string, input: object, extract: Extractor<T>, options: CallOptions = {}): Promise<T> {
    return this.call('mutation', procedure, { method: 'POST', path: procedure, body: JSON.stringify({ json: input }) }, extract, options, input)
  }

  /**
   * The step's last requests after the runner cancelled it or wait-timeout passed (taking its queued deploy
   * back): not aborted by the runner's signal, bounded by their own deadline, counted in the same stats.
   */
  detached(deadline: number): DokployClient {
    return new DokployClient({ ...this.options, signal: undefined, deadline, retries: 0 }, this.stats)
  }

  /**
   * A lower bound of the server's clock at our local time `localMs`, from the latest Date header (whole
   * seconds, so never ahead of the truth); undefined before any dated answer.
   */
  serverTimeAtLeast(localMs: number): number | undefined {
    return this.serverClock && this.serverClock.serverMs - (this.serverClock.receivedAt - localMs)
  }

  private call<T>(kind: 'query' | 'mutation', procedure: string, request: Request, extract: Extractor<T>, options: CallOptions, input?: object): Promise<T> {
    return withRetries(procedure, kind, this.policy, () => this.remainingMs(options), async () => {
      try {
        return await this.attempt(procedure, request, extract, options, input)
      } catch (error) {
        if (error instanceof DokployError && OUTAGE.has(error.failure)) this.silentSince ??= this.clock.now()
        throw error
      }
    })
  }

  /** Dokploy answered: a silence before it long enough to hide a restart counts as an outage. */
  private heard(): void {
    const now = this.clock.now()
    if (this.silentSince !== undefined && now - (this.lastAnswerAt ?? this.silentSince) >= this.timings.restartMinMs) this.stats.outages++
    this.silentSince = undefined
    this.lastAnswerAt = now
  }

  private remainingMs(options: CallOptions): number {
    return this.options.deadline === undefined ? Infinity : this.options.deadline + (options.graceMs ?? 0) - this.clock.now()
  }

  private async attempt<T>(procedure: string, request: Request, extract: Extractor<T>, options: CallOptions, input?: object): Promise<T> {
    const { baseUrl, apiKey, transport, signal, debug } = this.options
    const bound = options.timeoutMs ?? this.options.requestTimeoutMs
    const budget = Math.min(bound, this.remainingMs(options))
    if (budget <= 0) throw new DokployError('timeout', `Gave up on ${procedure}: wait-timeout reached.`, 'not-processed')
    const headers: Record<string, string> = { ...this.options.headers, 'x-api-key': apiKey, accept: 'application/json' }
    if (request.body !== undefined) headers['content-type'] = 'application/json'
    const started = this.clock.now()
    this.stats.requests++
    this.stats.bytesSent += Buffer.byteLength(request.body ?? '')
    let response: RawResponse
    try {
      response = await transport({ method: request.method, url: `${baseUrl}/api/trpc/${request.path}`, headers, body: request.body, timeoutMs: budget, signal })
    } catch (error) {
      if (!(error instanceof TransportError)) throw error
      debug?.(`${request.method} ${procedure} → ${error.reason} after ${this.clock.now() - started} ms`)
      throw transportFailure(procedure, error, { baseUrl, answeredBefore: this.answered, cutByDeadline: budget < bound })
    }
    this.stats.bytesReceived += response.bytes
    const date = Date.parse(response.header('date') ?? '')
    if (Number.isFinite(date)) this.serverClock = { serverMs: date, receivedAt: this.clock.now() }
    debug?.(`${request.method} ${procedure} → ${response.status} in ${this.clock.now() - started} ms, ${response.bytes} B`)
    const value = this.valueOf(procedure, request.method, response, input)
    this.answered++
    this.heard()
    try {
      return extract(value)
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error
      throw shapeFailure(procedure, error.expected, response.status)
    }
  }

  /** The reply's `json` value, or the matching DokployError. */
  private valueOf(procedure: string, method: 'GET' | 'POST', response: RawResponse, input?: object): unknown {
    const envelope = readEnvelope(response.text)
    const ok = response.status >= 200 && response.status < 300
    if (ok && envelope.kind === 'value') return envelope.value
    const failure = answerFailure({
      procedure,
      method,
      status: response.status,
      header: response.header,
      text: response.text,
      bytes: response.bytes,
      envelope,
      input,
      answeredBefore: this.answered,
      baseUrl: this.options.baseUrl,
      retryAfterMs: parseRetryAfter(response.header('retry-after'), this.clock.now())
    })
    if (failure) throw failure
    return undefined
  }
}
