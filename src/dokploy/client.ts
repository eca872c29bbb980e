import { DokployError, ShapeError, isRetryable, preview, type Delivery, type Failure } from './errors.js'
import { TransportError, type RawResponse, type Transport } from './transport.js'
import { backoffDelay, parseRetryAfter, type Backoff, DEFAULT_BACKOFF } from '../retry.js'
import { sleep as realSleep, type Sleep } from '../sleep.js'
import { redact } from '../secrets.js'
import { formatDuration } from '../logger.js'
import { scaled } from '../time-scale.js'

/** Turns the parsed `json` value of a tRPC reply into the few fields a caller needs; throws ShapeError otherwise. */
export type Extract<T> = (value: unknown) => T

export interface ClientOptions {
  baseUrl: string
  apiKey: string
  requestTimeoutMs: number
  retries: number
  transport: Transport
  /** Epoch ms after which no request is started and no retry waited for. */
  deadline?: number
  signal?: AbortSignal
  sleep?: Sleep
  backoff?: Backoff
  debug?: (line: string) => void
  /** Where a pause long enough to look like a hang is announced. */
  info?: (line: string) => void
  /** The clock of silences and of the server's Date headers (tests give a fake one). */
  now?: () => number
}

/** Retry pauses from this long on are said at info level; shorter ones only under debug. */
export const VISIBLE_PAUSE_MS = 3000

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

/**
 * Dokploy's tRPC API: queries are GET `?input=`, mutations POST `{"json": …}`; replies come in
 * `{"result":{"data":{"json": …}}}` or `{"error":{"json": …}}`. Response bodies never leave this
 * class: callers get what their `extract` picked, or a DokployError whose message quotes no body.
 */
const OUTAGE: ReadonlySet<Failure> = new Set(['network', 'gateway', 'unavailable', 'timeout'])

/**
 * Dokploy takes several seconds to answer again after a restart (about 8 s measured on v0.30.2): a
 * silence shorter than this, between two answers, cannot hide one.
 */
export const RESTART_MIN_MS = scaled(2000)

export class DokployClient {
  readonly stats: ClientStats = { requests: 0, outages: 0, retries: 0, bytesSent: 0, bytesReceived: 0 }
  private answered = 0
  /** When Dokploy last answered, and when the silence after it began (an outage failure), if it has. */
  private lastAnswerAt?: number
  private silentSince?: number
  /** The latest Date header and when it arrived, to bound the server's clock. */
  private clock?: { serverMs: number; receivedAt: number }
  private readonly sleep: Sleep

  constructor(private readonly options: ClientOptions) {
    this.sleep = options.sleep ?? realSleep
  }

  query<T>(procedure: string, input: object | undefined, extract: Extract<T>, options: CallOptions = {}): Promise<T> {
    const query = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`
    return this.call('query', procedure, { method: 'GET', path: `${procedure}${query}` }, extract, options, input)
  }

  mutate<T>(procedure: string, input: object, extract: Extract<T>, options: CallOptions = {}): Promise<T> {
    const body = JSON.stringify({ json: input })
    return this.call('mutation', procedure, { method: 'POST', path: procedure, body }, extract, options, input)
  }

  private async call<T>(
    kind: 'query' | 'mutation',
    procedure: string,
    request: { method: 'GET' | 'POST'; path: string; body?: string },
    extract: Extract<T>,
    options: CallOptions = {},
    input?: object
  ): Promise<T> {
    const { retries, backoff = DEFAULT_BACKOFF } = this.options
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.attempt(procedure, request, extract, options, input)
      } catch (error) {
        if (error instanceof DokployError && OUTAGE.has(error.failure)) this.silentSince ??= this.now()
        if (!(error instanceof DokployError) || !isRetryable(error, kind) || attempt >= retries) throw error
        const delay = Math.max(error.retryAfterMs ?? 0, backoffDelay(attempt, backoff))
        if (this.remainingMs(options) <= delay) throw error
        this.announceRetry(procedure, error, delay, attempt + 1)
        this.stats.retries++
        await this.sleep(delay, this.options.signal)
      }
    }
  }

  /**
   * A lower bound of the server's clock at our local time `localMs`, from the latest Date header (whole
   * seconds, so never ahead of the truth); undefined before any dated answer.
   */
  serverTimeAtLeast(localMs: number): number | undefined {
    return this.clock && this.clock.serverMs - (this.clock.receivedAt - localMs)
  }

  /** Dokploy answered: a silence before it long enough to hide a restart counts as an outage. */
  private heard(): void {
    const now = this.now()
    if (this.silentSince !== undefined && now - (this.lastAnswerAt ?? this.silentSince) >= RESTART_MIN_MS) this.stats.outages++
    this.silentSince = undefined
    this.lastAnswerAt = now
  }

  /** A pause of 60 s with nothing printed looks like a hang: a long one is said at info level. */
  private announceRetry(procedure: string, error: DokployError, delayMs: number, retry: number): void {
    const { retries, debug, info } = this.options
    debug?.(`${procedure}: ${error.failure}, retry ${retry}/${retries} in ${delayMs} ms`)
    if (delayMs < VISIBLE_PAUSE_MS) return
    const asked = error.retryAfterMs !== undefined && error.retryAfterMs >= delayMs
    info?.(`${whatWentWrong(procedure, error)}; waiting ${formatDuration(delayMs)}${asked ? ' as it asks' : ''} (retry ${retry}/${retries}).`)
  }

  private now(): number {
    return (this.options.now ?? Date.now)()
  }

  private remainingMs(options: CallOptions): number {
    return this.options.deadline === undefined ? Infinity : this.options.deadline + (options.graceMs ?? 0) - Date.now()
  }

  private async attempt<T>(
    procedure: string,
    request: { method: 'GET' | 'POST'; path: string; body?: string },
    extract: Extract<T>,
    options: CallOptions,
    input?: object
  ): Promise<T> {
    const { baseUrl, apiKey, transport, signal, debug } = this.options
    const budget = Math.min(options.timeoutMs ?? this.options.requestTimeoutMs, this.remainingMs(options))
    if (budget <= 0) throw new DokployError('timeout', `Gave up on ${procedure}: wait-timeout reached.`, 'not-processed')
    const headers: Record<string, string> = { 'x-api-key': apiKey, accept: 'application/json' }
    if (request.body !== undefined) headers['content-type'] = 'application/json'
    const started = Date.now()
    this.stats.requests++
    this.stats.bytesSent += Buffer.byteLength(request.body ?? '')
    let response: RawResponse
    try {
      response = await transport({
        method: request.method,
        url: `${baseUrl}/api/trpc/${request.path}`,
        headers,
        body: request.body,
        timeoutMs: budget,
        signal
      })
    } catch (error) {
      if (!(error instanceof TransportError)) throw error
      debug?.(`${request.method} ${procedure} → ${error.reason} after ${Date.now() - started} ms`)
      const cutByDeadline = budget < (options.timeoutMs ?? this.options.requestTimeoutMs)
      throw this.transportFailure(procedure, error, cutByDeadline)
    }
    this.stats.bytesReceived += response.bytes
    const date = Date.parse(response.header('date') ?? '')
    if (Number.isFinite(date)) this.clock = { serverMs: date, receivedAt: this.now() }
    debug?.(`${request.method} ${procedure} → ${response.status} in ${Date.now() - started} ms, ${response.bytes} B`)
    const value = this.interpret(procedure, request.method, response, input)
    this.answered++
    this.heard()
    try {
      return extract(value)
    } catch (error) {
      if (!(error instanceof ShapeError)) throw error
      throw new DokployError(
        'bad-shape',
        `Dokploy's answer to ${procedure} did not have the expected shape (${error.expected}): is this a Dokploy version the action supports (v0.19 or later)?`,
        'processed',
        response.status
      )
    }
  }

  private transportFailure(procedure: string, error: TransportError, cutByDeadline: boolean): DokployError {
    const origin = new URL(this.options.baseUrl).origin
    switch (error.reason) {
      case 'cancelled':
        return new DokployError('cancelled', `${procedure} was cancelled by the runner.`, 'maybe-processed')
      case 'timeout':
        return new DokployError(
          'timeout',
          cutByDeadline
            ? `wait-timeout was reached while waiting for Dokploy to answer ${procedure}.`
            : `Dokploy did not answer ${procedure} within the request timeout (${error.message}); raise request-timeout if the server is slow.`,
          'maybe-processed'
        )
      case 'refused':
        // a server that answered earlier in this run is at the right address: it went away
        return new DokployError(
          'network',
          this.answered > 0
            ? `Dokploy at ${origin} stopped answering (${error.code ?? error.message}) on ${procedure} after ${this.answered} answered request(s): it is probably restarting or was stopped.`
            : `Could not reach Dokploy at ${origin} (${error.code ?? error.message}): check the url input and that the runner can reach the server.`,
          'not-processed'
        )
      case 'tls':
        // the handshake failed, so no request left the runner: nothing was done
        return new DokployError('tls', `${describeCertificateProblem(origin, error)} Nothing was sent to Dokploy.`, 'not-processed')
      case 'too-large':
        // an answer came: Dokploy did act on the request
        return new DokployError(
          'too-large',
          `Dokploy's answer to ${procedure} was ${error.message}, so the action stopped reading it: no Dokploy reply is that big; check that the url input is the Dokploy base URL and what a proxy in front of it sends.`,
          'processed'
        )
      default:
        return new DokployError(
          'network',
          `The connection to ${origin} broke during ${procedure} (${error.code ?? error.message}).`,
          'maybe-processed'
        )
    }
  }

  /** Decodes a reply into its `json` value, or throws the matching DokployError. */
  private interpret(procedure: string, method: 'GET' | 'POST', response: RawResponse, input?: object): unknown {
    const { status, text } = response
    const fail = (failure: Failure, message: string, delivery: Delivery, retryAfterMs?: number): DokployError =>
      new DokployError(failure, message, delivery, status, retryAfterMs)
    if (status >= 300 && status < 400) {
      const location = response.header('location') ?? '(no Location header)'
      throw fail(
        'redirect',
        `${this.options.baseUrl} answered ${procedure} with a ${status} redirect to ${location}. Redirects are not followed (they turn a POST into a GET): set the url input to the final address, usually https://.`,
        'not-processed'
      )
    }
    const retryAfterMs = parseRetryAfter(response.header('retry-after'))
    const contentType = response.header('content-type') ?? 'no content type'
    let envelope: unknown
    let parsed = false
    if (text.trim() !== '') {
      try {
        envelope = JSON.parse(text)
        parsed = true
      } catch {
        // handled below, by status and content type
      }
    }

    if (!parsed) {
      const looksJson = /json/i.test(contentType) || /^\s*[[{]/.test(text)
      if (status === 403 && response.header('cf-mitigated')) {
        throw fail(
          'cloudflare',
          `Cloudflare blocked the request to ${procedure} with a bot challenge (403, cf-mitigated: ${response.header('cf-mitigated')}): allow GitHub's runners past bot protection for /api/*, or use a DNS-only host name for Dokploy.`,
          'not-processed'
        )
      }
      if (status >= 200 && status < 300 && text.trim() === '') {
        // some versions answer a void mutation with nothing at all; a query always has a value
        if (method === 'POST') return undefined
        throw fail('truncated', `Dokploy answered ${procedure} with an empty body (${status}, ${contentType}).`, 'maybe-processed')
      }
      if (status === 429) throw fail('rate-limited', `A proxy rate-limited ${procedure} (429).`, 'not-processed', retryAfterMs)
      if (status === 503) throw fail('unavailable', `Dokploy or its proxy is unavailable (503) on ${procedure}.`, 'not-processed', retryAfterMs)
      if (status >= 500) {
        throw fail(
          'gateway',
          `A proxy answered ${procedure} with ${status} (${contentType}, ${preview(text, redact)}) instead of Dokploy: the server or its proxy failed or timed out.`,
          'maybe-processed',
          retryAfterMs
        )
      }
      if (looksJson && status >= 200 && status < 300) {
        throw fail('truncated', `Dokploy's answer to ${procedure} was cut short (${response.bytes} bytes of invalid JSON).`, 'maybe-processed')
      }
      throw fail(
        'not-json',
        `Expected JSON from Dokploy on ${procedure} but got ${status} ${contentType} (${preview(text, redact)}): something other than Dokploy answered; check the url input.`,
        'not-processed'
      )
    }

    const error = readErrorEnvelope(envelope)
    if (error || status >= 400) return this.failWithStatus(procedure, status, error, input, retryAfterMs, response)
    const result = (envelope as { result?: { data?: { json?: unknown } } })?.result
    if (result && typeof result === 'object' && result.data && typeof result.data === 'object') return result.data.json
    throw fail(
      'bad-shape',
      `Dokploy's answer to ${procedure} is JSON but not a tRPC reply: is the url the Dokploy base URL (not a path inside it)?`,
      'processed'
    )
  }

  private failWithStatus(
    procedure: string,
    status: number,
    error: TrpcError | undefined,
    input: object | undefined,
    retryAfterMs: number | undefined,
    response: RawResponse
  ): never {
    const code = error?.code
    const quoted = error?.message ? `: "${redact(error.message).slice(0, 300)}"` : ''
    const ids = describeIds(input)
    const fail = (failure: Failure, message: string, delivery: Delivery): DokployError =>
      new DokployError(failure, message, delivery, status, retryAfterMs)
    if (status === 401 || code === 'UNAUTHORIZED') {
      if (error?.message && /permission|access/i.test(error.message)) {
        throw fail('unauthorized', `Dokploy refused ${procedure}${ids} (401)${quoted}: the key's user lacks rights on this service.`, 'not-processed')
      }
      if (this.answered > 0) {
        throw fail(
          'unauthorized',
          `Dokploy rejected the API key (401) on ${procedure} after ${this.answered} accepted request(s): most likely the key's rate limit is spent (keys created through the API allow 10 requests a day by default). Use a key without a rate limit.`,
          'not-processed'
        )
      }
      throw fail(
        'unauthorized',
        `Dokploy rejected the API key (401) on ${procedure}: check that the api-key secret is a valid, enabled, unexpired key of this Dokploy, and that its rate limit is not spent.`,
        'not-processed'
      )
    }
    if (status === 403 || code === 'FORBIDDEN') {
      if (response.header('cf-mitigated')) {
        throw fail('cloudflare', `Cloudflare blocked the request to ${procedure} (403 challenge): allow the runner, or use a DNS-only host name.`, 'not-processed')
      }
      throw fail('forbidden', `Dokploy forbade ${procedure}${ids} (403)${quoted}: the key belongs to another organisation.`, 'not-processed')
    }
    if (status === 404 || code === 'NOT_FOUND') {
      if (error?.message?.startsWith('No procedure found')) {
        throw fail('no-procedure', `This Dokploy has no ${procedure} (404): the server is older than this call needs; upgrade Dokploy.`, 'not-processed')
      }
      throw fail('not-found', `Dokploy found nothing for ${procedure}${ids} (404)${quoted}: check the id, and that this key's organisation can see it.`, 'not-processed')
    }
    if (status === 400 || code === 'BAD_REQUEST') {
      throw fail('bad-request', `Dokploy rejected ${procedure} (400): ${describeBadRequest(error)}.`, 'not-processed')
    }
    if (status === 405) {
      throw fail('method', `Dokploy refused the HTTP method of ${procedure} (405): a proxy may have rewritten the request; use the final https:// URL.`, 'not-processed')
    }
    if (status === 429) throw fail('rate-limited', `Rate-limited on ${procedure} (429).`, 'not-processed')
    if (status === 503) throw fail('unavailable', `Dokploy is unavailable (503) on ${procedure}${quoted}.`, 'not-processed')
    if (status === 502 || status === 504 || status === 524) {
      throw fail('gateway', `A proxy answered ${procedure} with ${status}${quoted}.`, 'maybe-processed')
    }
    throw fail('server-error', `Dokploy failed on ${procedure}${ids} (${status})${quoted || ' without a message'}.`, 'processed')
  }
}

/** What failed, for the info line of a long retry pause. */
function whatWentWrong(procedure: string, error: DokployError): string {
  switch (error.failure) {
    case 'rate-limited':
      return `Dokploy is rate-limiting ${procedure} (429)`
    case 'unavailable':
      return `Dokploy is unavailable (503) on ${procedure}`
    case 'gateway':
      return `A proxy answered ${procedure} with ${error.status ?? 'an error'}`
    case 'truncated':
      return `Dokploy's answer to ${procedure} was cut short`
    case 'timeout':
      return `Dokploy did not answer ${procedure} in time`
    case 'network':
      return `The connection to Dokploy failed on ${procedure}`
    default:
      return `${procedure} failed (${error.failure})`
  }
}

const UNTRUSTED = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'INVALID_CA'
])

/** The certificate problem and its fix. The reason may quote names from the certificate: server text. */
function describeCertificateProblem(origin: string, error: TransportError): string {
  const code = error.code ?? 'TLS'
  // eslint-disable-next-line no-control-regex -- control characters are what is being removed
  const reason = redact(error.message).replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/[\s:]+$/, '').slice(0, 200)
  const certificate = `The TLS certificate of ${origin}`
  if (UNTRUSTED.has(code)) {
    return `${certificate} is not trusted (${code}: ${reason}): it is self-signed or issued by a private CA. Set NODE_EXTRA_CA_CERTS in the step's env to the path of that CA's certificate (PEM) on the runner, or give Dokploy a publicly trusted certificate.`
  }
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return `${certificate} is for another host name (${code}: ${reason}): set the url input to a host name the certificate names.`
  }
  if (code === 'CERT_HAS_EXPIRED') return `${certificate} has expired (${code}): renew it on the server.`
  if (code === 'CERT_NOT_YET_VALID') return `${certificate} is not valid yet (${code}): check the clocks of the server and the runner.`
  return `${certificate} was rejected (${code}: ${reason}).`
}

interface TrpcError {
  message?: string
  code?: string
  fieldErrors?: Record<string, unknown>
}

function readErrorEnvelope(envelope: unknown): TrpcError | undefined {
  if (!envelope || typeof envelope !== 'object') return undefined
  const record = envelope as Record<string, unknown>
  // tRPC: {"error":{"json":{message, data:{code, zodError}}}}; REST-style bodies: {message, code}
  const inner = (record.error as { json?: unknown } | undefined)?.json ?? (record.result ? undefined : record)
  if (!inner || typeof inner !== 'object' || !('message' in inner)) return undefined
  const body = inner as { message?: unknown; code?: unknown; data?: { code?: unknown; zodError?: { fieldErrors?: unknown } | null } }
  const code = typeof body.data?.code === 'string' ? body.data.code : typeof body.code === 'string' ? body.code : undefined
  const fieldErrors = body.data?.zodError?.fieldErrors
  return {
    message: typeof body.message === 'string' ? body.message : undefined,
    code,
    fieldErrors: fieldErrors && typeof fieldErrors === 'object' ? (fieldErrors as Record<string, unknown>) : undefined
  }
}

function describeBadRequest(error: TrpcError | undefined): string {
  const fields = Object.entries(error?.fieldErrors ?? {})
    .map(([field, problems]) => `${field}: ${Array.isArray(problems) ? problems.join(', ') : String(problems)}`)
    .join('; ')
  if (fields) return redact(fields).slice(0, 400)
  return error?.message ? `"${redact(error.message).slice(0, 300)}"` : 'no reason given'
}

/** ` for applicationId "abc"`: ids are not secret and tell the user which input to fix. */
function describeIds(input: object | undefined): string {
  if (!input) return ''
  const ids = Object.entries(input).filter(([key, value]) => /Id$/.test(key) && typeof value === 'string')
  return ids.length ? ` for ${ids.map(([key, value]) => `${key} "${value}"`).join(', ')}` : ''
}
