import { createTransport, type RawResponse } from './dokploy/transport.js'
import { TransportError } from './dokploy/transport.js'
import { preview } from './dokploy/errors.js'
import { Poller, type WaitContext } from './poller.js'
import { formatDuration, inline } from './logger.js'
import { redact } from './secrets.js'

/**
 * The user's own HTTP check after `done` (verify-url, verify-text): GET the URL until it answers 2xx with
 * the text in its body, or verify-timeout passes. Through the runner's proxy settings, like every request
 * of the action; redirects are not followed (a 3xx is reported with where it points). Nothing of the body
 * is shown but a short masked excerpt when the check fails.
 */

/** A page this large is not a health check; the excerpt needs far less. */
const MAX_BODY_BYTES = 1024 * 1024

export type UrlCheckResult = { ok: true; detail: string } | { ok: false; message: string }

export interface UrlCheck {
  url: string
  text?: string
  timeoutMs: number
  requestTimeoutMs: number
}

export async function checkUrl(ctx: WaitContext, check: UrlCheck): Promise<UrlCheckResult> {
  const transport = createTransport({ maxBodyBytes: MAX_BODY_BYTES })
  const started = ctx.clock.now()
  const poller = new Poller({ ...ctx, deadline: started + check.timeoutMs })
  const shown = inline(redact(check.url))
  let last = 'no answer yet'
  let attempts = 0
  const look = async (): Promise<UrlCheckResult | undefined> => {
    attempts++
    let response: RawResponse
    try {
      const timeoutMs = Math.max(1, Math.min(check.requestTimeoutMs, started + check.timeoutMs - ctx.clock.now()))
      response = await transport.send({ method: 'GET', url: check.url, headers: { accept: 'text/html,application/json,text/plain,*/*' }, timeoutMs, signal: ctx.signal })
    } catch (error) {
      if (error instanceof TransportError && error.reason === 'cancelled') throw error
      last = error instanceof TransportError ? `no answer (${error.reason}: ${inline(redact(error.message)).slice(0, 160)})` : 'no answer'
      poller.say(`url ${last}`, `verify-url: ${shown} gives ${last}; trying again until verify-timeout.`, 'verify-url: still trying')
      return undefined
    }
    const status = response.status
    if (status >= 300 && status < 400) {
      last = `HTTP ${status}, a redirect to ${inline(redact(response.header('location') ?? '(no Location)')).slice(0, 200)} (not followed: give the final URL)`
    } else if (status < 200 || status >= 300) {
      last = `HTTP ${status}, body ${preview(response.text, redact)}`
    } else if (check.text !== undefined && !response.text.includes(check.text)) {
      last = `HTTP ${status}, but the body does not contain verify-text; it begins ${preview(response.text, redact)}`
    } else {
      const found = check.text === undefined ? '' : ', with verify-text in its body'
      return { ok: true, detail: `verify-url: ${shown} answered HTTP ${status}${found} after ${formatDuration(ctx.clock.now() - started)} (${attempts} attempt${attempts === 1 ? '' : 's'}).` }
    }
    poller.say(`url ${status}`, `verify-url: ${shown} gives ${last}; trying again until verify-timeout.`, 'verify-url: still trying')
    return undefined
  }
  try {
    return await poller.until(look, {
      expired: () => ({ ok: false, message: `verify-url: ${shown} did not pass within verify-timeout (${formatDuration(check.timeoutMs)}, ${attempts} attempt${attempts === 1 ? '' : 's'}): ${last}.` })
    })
  } finally {
    transport.close()
  }
}

/** An absolute URL, or a path joined to the service's public URL (the `url` output). */
export function joinUrl(verifyUrl: string, serviceUrl: string | undefined): string | undefined {
  if (/^https?:\/\//i.test(verifyUrl)) return verifyUrl
  if (!serviceUrl) return undefined
  return `${serviceUrl.replace(/\/+$/, '')}/${verifyUrl.replace(/^\/+/, '')}`
}
