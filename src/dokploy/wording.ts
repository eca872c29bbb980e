import { DokployError, preview, type Delivery, type Failure } from './errors.js'
import type { Envelope, TrpcError } from './envelope.js'
import { TLS_PROBLEMS, type TransportError } from './transport.js'
import { redact } from '../secrets.js'

/**
 * Every message a failed call gets: one wording per HTTP status and per transport failure, each saying
 * what to do. Server text in them is redacted and cut; a body is never quoted, only an HTML page's title
 * or a short glimpse of other text.
 */

/** How a failure reads inside a sentence: the same words in an error and in a retry's notice. */
export function phrase(procedure: string, failure: Failure, status?: number): string {
  switch (failure) {
    case 'rate-limited':
      return `Dokploy is rate-limiting ${procedure} (429)`
    case 'unavailable':
      return `Dokploy is unavailable (503) on ${procedure}`
    case 'gateway':
      return `A proxy answered ${procedure} with ${status ?? 'an error'}`
    case 'truncated':
      return `Dokploy's answer to ${procedure} was cut short`
    case 'timeout':
      return `Dokploy did not answer ${procedure} in time`
    case 'network':
      return `The connection to Dokploy failed on ${procedure}`
    default:
      return `${procedure} failed (${failure})`
  }
}

/** What the client knows of one HTTP answer that was not a value. */
export interface Answer {
  procedure: string
  method: 'GET' | 'POST'
  status: number
  header: (name: string) => string | null
  text: string
  bytes: number
  envelope: Envelope
  input?: object
  /** Requests Dokploy answered earlier in this run: a server that did is at the right address. */
  answeredBefore: number
  baseUrl: string
  retryAfterMs?: number
}

/** The DokployError for an answer that is not a value; undefined for a void mutation's empty 2xx, which is one. */
export function answerFailure(answer: Answer): DokployError | undefined {
  const { procedure, status, envelope, header } = answer
  const fail = (failure: Failure, message: string, delivery: Delivery): DokployError =>
    new DokployError(failure, message, delivery, status, answer.retryAfterMs)
  const access = accessFailure(answer)
  if (access) return fail('cloudflare', access, 'not-processed')
  if (status >= 300 && status < 400) {
    const location = header('location') ?? '(no Location header)'
    return fail(
      'redirect',
      `${answer.baseUrl} answered ${procedure} with a ${status} redirect to ${location}. Redirects are not followed (they turn a POST into a GET): set the url input to the final address, usually https://.`,
      'not-processed'
    )
  }
  const error = envelope.kind === 'error' ? envelope.error : undefined
  const quoted = error?.message ? `: "${redact(error.message).slice(0, 300)}"` : ''
  if (status === 403 && header('cf-mitigated')) {
    return fail(
      'cloudflare',
      `Cloudflare blocked the request to ${procedure} with a bot challenge (403, cf-mitigated: ${header('cf-mitigated')}): allow GitHub's runners past bot protection for /api/*, or use a DNS-only host name for Dokploy.`,
      'not-processed'
    )
  }
  if (status === 429) return fail('rate-limited', `${phrase(procedure, 'rate-limited')}${quoted}.`, 'not-processed')
  if (status === 503) return fail('unavailable', `${phrase(procedure, 'unavailable')}${quoted}.`, 'not-processed')
  if (envelope.kind === 'not-json') return notJson(answer, fail)
  if (envelope.kind === 'error' || status >= 400) return statusFailure(answer, error, quoted, fail)
  return fail('bad-shape', `Dokploy's answer to ${procedure} is JSON but not a tRPC reply: is the url the Dokploy base URL (not a path inside it)?`, 'processed')
}

type Fail = (failure: Failure, message: string, delivery: Delivery) => DokployError

/** A Cloudflare Access team's login host, where Access sends a request it has not let through. */
const ACCESS_LOGIN = /(^|\.)cloudflareaccess\.com$/i

/**
 * Cloudflare Access in front of Dokploy: a redirect to the team's `*.cloudflareaccess.com` login page (no
 * credentials at all), or its 403 page (a service token it does not accept). The fix is the headers input.
 */
function accessFailure(answer: Answer): string | undefined {
  const { procedure, status, header, text } = answer
  const recipe = `give the action an Access service token through the headers input (two lines, CF-Access-Client-Id: <client id> and CF-Access-Client-Secret: <client secret>, from secrets), and allow that token in the Access application's policy (a Service Auth rule)`
  if (status >= 300 && status < 400) {
    let host: string | undefined
    try {
      host = new URL(header('location') ?? '', answer.baseUrl).hostname
    } catch {
      host = undefined
    }
    if (!host || !ACCESS_LOGIN.test(host)) return undefined
    return `Cloudflare Access stands in front of Dokploy: it answered ${procedure} with a ${status} redirect to its login page at ${host}, so the request carried no Access credentials it accepts. To get through, ${recipe}.`
  }
  if (status === 403 && /cloudflare ?access|cloudflareaccess\.com/i.test(text.slice(0, 64 * 1024))) {
    return `Cloudflare Access refused ${procedure} (403, its own page, not Dokploy's): the service token in the headers input is missing, wrong or expired, or the Access policy does not allow it. To get through, ${recipe}.`
  }
  return undefined
}

/** A body that is not JSON: a proxy's page, nothing at all, or a reply cut short. */
function notJson(answer: Answer, fail: Fail): DokployError | undefined {
  const { procedure, method, status, text, bytes } = answer
  const contentType = answer.header('content-type') ?? 'no content type'
  if (status >= 200 && status < 300 && text.trim() === '') {
    // some versions answer a void mutation with nothing at all; a query always has a value
    if (method === 'POST') return undefined
    return fail('truncated', `Dokploy answered ${procedure} with an empty body (${status}, ${contentType}).`, 'maybe-processed')
  }
  if (status >= 500) {
    return fail('gateway', `${phrase(procedure, 'gateway', status)} (${contentType}, ${preview(text, redact)}) instead of Dokploy: the server or its proxy failed or timed out.`, 'maybe-processed')
  }
  const looksJson = /json/i.test(contentType) || /^\s*[[{]/.test(text)
  if (looksJson && status >= 200 && status < 300) return fail('truncated', `${phrase(procedure, 'truncated')} (${bytes} bytes of invalid JSON).`, 'maybe-processed')
  return fail(
    'not-json',
    `Expected JSON from Dokploy on ${procedure} but got ${status} ${contentType} (${preview(text, redact)}): something other than Dokploy answered; check the url input.`,
    'not-processed'
  )
}

/** Dokploy's own error (or a JSON body with an error status). */
function statusFailure(answer: Answer, error: TrpcError | undefined, quoted: string, fail: Fail): DokployError {
  const { procedure, status, answeredBefore } = answer
  const code = error?.code
  const ids = describeIds(answer.input)
  if (status === 401 || code === 'UNAUTHORIZED') {
    if (error?.message && /permission|access/i.test(error.message)) {
      return fail('unauthorized', `Dokploy refused ${procedure}${ids} (401)${quoted}: the key's user lacks rights on this service.`, 'not-processed')
    }
    if (answeredBefore > 0) {
      return fail(
        'unauthorized',
        `Dokploy rejected the API key (401) on ${procedure} after ${answeredBefore} accepted request(s): most likely the key's rate limit is spent (keys created through the API allow 10 requests a day by default). Use a key without a rate limit.`,
        'not-processed'
      )
    }
    return fail(
      'unauthorized',
      `Dokploy rejected the API key (401) on ${procedure}: check that the api-key secret is a valid, enabled, unexpired key of this Dokploy, and that its rate limit is not spent.`,
      'not-processed'
    )
  }
  if (status === 403 || code === 'FORBIDDEN') return fail('forbidden', `Dokploy forbade ${procedure}${ids} (403)${quoted}: the key belongs to another organisation.`, 'not-processed')
  if (status === 404 || code === 'NOT_FOUND') {
    if (error?.message?.startsWith('No procedure found')) {
      return fail('no-procedure', `This Dokploy has no ${procedure} (404): the server is older than this call needs; upgrade Dokploy.`, 'not-processed')
    }
    return fail('not-found', `Dokploy found nothing for ${procedure}${ids} (404)${quoted}: check the id, and that this key's organisation can see it.`, 'not-processed')
  }
  if (status === 400 || code === 'BAD_REQUEST') return fail('bad-request', `Dokploy rejected ${procedure} (400): ${describeBadRequest(error)}.`, 'not-processed')
  if (status === 405) {
    return fail('method', `Dokploy refused the HTTP method of ${procedure} (405): a proxy may have rewritten the request; use the final https:// URL.`, 'not-processed')
  }
  if (status === 502 || status === 504 || status === 524) return fail('gateway', `${phrase(procedure, 'gateway', status)}${quoted}.`, 'maybe-processed')
  return fail('server-error', `Dokploy failed on ${procedure}${ids} (${status})${quoted || ' without a message'}.`, 'processed')
}

/** A reply that parsed but lacks the fields a caller needs: another Dokploy version. */
export const shapeFailure = (procedure: string, expected: string, status: number): DokployError =>
  new DokployError(
    'bad-shape',
    `Dokploy's answer to ${procedure} did not have the expected shape (${expected}): is this a Dokploy version the action supports (v0.19 or later)?`,
    'processed',
    status
  )

/** The DokployError for a request that got no HTTP answer. */
export function transportFailure(procedure: string, error: TransportError, context: { baseUrl: string; answeredBefore: number; cutByDeadline: boolean }): DokployError {
  const origin = new URL(context.baseUrl).origin
  switch (error.reason) {
    case 'cancelled':
      return new DokployError('cancelled', `${procedure} was cancelled by the runner.`, 'maybe-processed')
    case 'timeout':
      return new DokployError(
        'timeout',
        context.cutByDeadline
          ? `wait-timeout was reached while waiting for Dokploy to answer ${procedure}.`
          : `Dokploy did not answer ${procedure} within the request timeout (${error.message}); raise request-timeout if the server is slow.`,
        'maybe-processed'
      )
    case 'refused':
      return new DokployError(
        'network',
        context.answeredBefore > 0
          ? `Dokploy at ${origin} stopped answering (${error.code ?? error.message}) on ${procedure} after ${context.answeredBefore} answered request(s): it is probably restarting or was stopped.`
          : `Could not reach Dokploy at ${origin} (${error.code ?? error.message}): check the url input and that the runner can reach the server.`,
        'not-processed'
      )
    case 'tls':
      // the handshake failed, so no request left the runner: nothing was done
      return new DokployError('tls', `${certificateProblem(origin, error)} Nothing was sent to Dokploy.`, 'not-processed')
    case 'too-large':
      // an answer came: Dokploy did act on the request
      return new DokployError(
        'too-large',
        `Dokploy's answer to ${procedure} was ${error.message}, so the action stopped reading it: no Dokploy reply is that big; check that the url input is the Dokploy base URL and what a proxy in front of it sends.`,
        'processed'
      )
    default:
      return new DokployError('network', `The connection to ${origin} broke during ${procedure} (${error.code ?? error.message}).`, 'maybe-processed')
  }
}

/** The certificate problem and its fix. The reason may quote names from the certificate: server text. */
function certificateProblem(origin: string, error: TransportError): string {
  const code = error.code ?? 'TLS'
  // eslint-disable-next-line no-control-regex -- control characters are what is being removed
  const reason = redact(error.message).replace(/[\u0000-\u001f\u007f]+/g, ' ').replace(/[\s:]+$/, '').slice(0, 200)
  const certificate = `The TLS certificate of ${origin}`
  switch (TLS_PROBLEMS.get(code)) {
    case 'untrusted':
      return `${certificate} is not trusted (${code}: ${reason}): it is self-signed or issued by a private CA. Set NODE_EXTRA_CA_CERTS in the step's env to the path of that CA's certificate (PEM) on the runner, or give Dokploy a publicly trusted certificate.`
    case 'other-host':
      return `${certificate} is for another host name (${code}: ${reason}): set the url input to a host name the certificate names.`
    case 'expired':
      return `${certificate} has expired (${code}): renew it on the server.`
    case 'not-yet-valid':
      return `${certificate} is not valid yet (${code}): check the clocks of the server and the runner.`
    default:
      return `${certificate} was rejected (${code}: ${reason}).`
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
