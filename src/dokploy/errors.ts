/**
 * Every way a call to Dokploy can fail, with a message that says what to do.
 * `delivery` records whether Dokploy can have acted on the request: it decides what may be resent.
 */
export type Failure =
  | 'redirect'
  | 'unauthorized'
  | 'forbidden'
  | 'cloudflare'
  | 'not-found'
  | 'no-procedure'
  | 'bad-request'
  | 'method'
  | 'server-error'
  | 'unavailable'
  | 'rate-limited'
  | 'gateway'
  | 'not-json'
  | 'truncated'
  | 'bad-shape'
  | 'network'
  | 'tls'
  | 'too-large'
  | 'timeout'
  | 'cancelled'

export type Delivery = 'not-processed' | 'maybe-processed' | 'processed'

export class DokployError extends Error {
  constructor(
    readonly failure: Failure,
    message: string,
    readonly delivery: Delivery,
    readonly status?: number,
    readonly retryAfterMs?: number
  ) {
    super(message)
    this.name = 'DokployError'
  }
}

/** A response that parsed but did not have the fields we need (another Dokploy version). */
export class ShapeError extends Error {
  constructor(readonly expected: string) {
    super(expected)
    this.name = 'ShapeError'
  }
}

const TRANSIENT_FOR_QUERIES: ReadonlySet<Failure> = new Set([
  'unavailable',
  'rate-limited',
  'gateway',
  'truncated',
  'network',
  'timeout'
])

/** Queries can be asked again; a mutation only when it certainly never reached Dokploy. */
export function isRetryable(error: DokployError, kind: 'query' | 'mutation'): boolean {
  if (!TRANSIENT_FOR_QUERIES.has(error.failure)) return false
  return kind === 'query' || error.delivery === 'not-processed'
}

/**
 * A short glimpse of a body that is not Dokploy's JSON. Of an HTML page only its <title> or first
 * heading is quoted (a page may hold secrets the action never saw); of other text the first characters.
 */
export function preview(text: string, redact: (s: string) => string): string {
  // redact before cutting: a secret that straddles the cut would otherwise leave its first half
  const whole = redact(text)
  const html = /<(!doctype|html|head|body|pre|div|p)\b/i.test(whole)
  const title = (/<title[^>]*>([^<]{1,120})<\/title>/i.exec(whole) ?? /<h1[^>]*>([^<]{1,120})<\/h1>/i.exec(whole))?.[1]
  if (html && !title) return 'an HTML page'
  const raw = title ?? whole.slice(0, 120)
  const clean = raw
    // eslint-disable-next-line no-control-regex -- control characters are what is being removed
    .replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
  return clean ? `"${clean}${!title && whole.length > 120 ? '…' : ''}"` : 'an empty body'
}

/** What went wrong, in our words alone: a server's message could quote a secret the step has not learned. */
export const failureKind = (error: unknown): string =>
  error instanceof DokployError ? `${error.failure}${error.status ? `, HTTP ${error.status}` : ''}` : 'unexpected error'
