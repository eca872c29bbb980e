import type { Agent } from 'node:http'
import { HttpClient } from '@actions/http-client'
import { USER_AGENT } from '../constants.js'

/** One HTTP exchange, reduced to what the client needs. The body stays inside the client. */
export interface RawResponse {
  status: number
  header: (name: string) => string | null
  text: string
  bytes: number
}

export interface RawRequest {
  method: 'GET' | 'POST'
  url: string
  headers: Record<string, string>
  body?: string
  timeoutMs: number
  signal?: AbortSignal
}

export type Transport = (request: RawRequest) => Promise<RawResponse>

/**
 * Why a request got no usable HTTP answer. `refused` means it certainly never reached Dokploy
 * (connection refused, DNS failure, proxy tunnel not established), so even a deploy may be resent.
 * `tls`: the server's certificate was rejected during the handshake, so nothing was sent either.
 * `too-large`: an answer came, but its (decoded) body passed the size cap and was dropped.
 */
export class TransportError extends Error {
  constructor(
    readonly reason: 'timeout' | 'cancelled' | 'refused' | 'lost' | 'tls' | 'too-large',
    message: string,
    readonly code?: string
  ) {
    super(message)
    this.name = 'TransportError'
  }
}

const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

/** Node's codes for a certificate the client refuses (node-fetch copies them to `code`), by what the user can do about it. */
export const TLS_PROBLEMS: ReadonlyMap<string, 'untrusted' | 'other-host' | 'expired' | 'not-yet-valid' | 'rejected'> = new Map([
  ['DEPTH_ZERO_SELF_SIGNED_CERT', 'untrusted'],
  ['SELF_SIGNED_CERT_IN_CHAIN', 'untrusted'],
  ['UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'untrusted'],
  ['UNABLE_TO_GET_ISSUER_CERT', 'untrusted'],
  ['UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'untrusted'],
  ['CERT_UNTRUSTED', 'untrusted'],
  ['INVALID_CA', 'untrusted'],
  ['ERR_TLS_CERT_ALTNAME_INVALID', 'other-host'],
  ['CERT_HAS_EXPIRED', 'expired'],
  ['CERT_NOT_YET_VALID', 'not-yet-valid'],
  ['CERT_SIGNATURE_FAILURE', 'rejected'],
  ['CERT_REVOKED', 'rejected']
])

/**
 * No Dokploy answer comes near this; a body past it is a misdirected URL or a hostile proxy, and
 * the cap counts decoded bytes, so a small gzip body cannot inflate past it either.
 */
export const MAX_BODY_BYTES = 32 * 1024 * 1024

/** 32 MB, 512 KB, 900 bytes. */
export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / 1024 / 1024) * 10) / 10} MB`
  if (bytes >= 1024) return `${Math.round((bytes / 1024) * 10) / 10} KB`
  return `${bytes} bytes`
}

export interface TransportOptions {
  /** Largest decoded body accepted (default 32 MB). */
  maxBodyBytes?: number
}

type Fetch = typeof import('node-fetch').default

/** node-fetch (with its Blob, FormData and streams) loads with the first request: a run that stops at its inputs never needs it. */
let loading: Promise<Fetch> | undefined
let loaded: Fetch | undefined
const loadFetch = (): Promise<Fetch> => (loading ??= import('node-fetch').then((module) => (loaded = module.default)))

/**
 * fetch through the proxy the runner is configured with: @actions/http-client reads
 * HTTPS_PROXY/HTTP_PROXY/NO_PROXY (either case) exactly as the rest of the toolkit does.
 * Redirects are never followed: a 301/302 silently turns a POST into a GET.
 */
export function createTransport(options: TransportOptions = {}): { send: Transport; close: () => void } {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES
  const http = new HttpClient(USER_AGENT, [], { keepAlive: true })
  const agents = new Map<string, Agent>()
  const agentFor = (url: string): Agent => {
    const origin = new URL(url).origin
    let agent = agents.get(origin)
    if (!agent) {
      agent = http.getAgent(url)
      agents.set(origin, agent)
    }
    return agent
  }

  const send: Transport = async (request) => {
    const timeout = AbortSignal.timeout(request.timeoutMs)
    const signal = request.signal ? AbortSignal.any([request.signal, timeout]) : timeout
    try {
      const fetch = loaded ?? (await loadFetch())
      const response = await fetch(request.url, {
        method: request.method,
        headers: { 'user-agent': USER_AGENT, ...request.headers },
        body: request.body,
        redirect: 'manual',
        compress: true,
        agent: agentFor(request.url),
        // node-fetch stops reading (and inflating) once the decoded body passes this
        size: maxBodyBytes,
        signal
      })
      const buffer = Buffer.from(await response.arrayBuffer())
      return {
        status: response.status,
        header: (name) => response.headers.get(name),
        text: buffer.toString('utf8'),
        bytes: buffer.length
      }
    } catch (error) {
      if (request.signal?.aborted) throw new TransportError('cancelled', 'cancelled by the runner')
      if (timeout.aborted) throw new TransportError('timeout', `no answer within ${Math.round(request.timeoutMs / 1000)} s`)
      throw classify(error, maxBodyBytes)
    }
  }

  const close = (): void => {
    // tunnel's proxy agents have no destroy(); their sockets close with the process
    for (const agent of agents.values()) (agent as { destroy?: () => void }).destroy?.()
    agents.clear()
  }
  return { send, close }
}

/** What a fetch failure means for the request; the message is Node's, never a body. */
export function classify(error: unknown, maxBodyBytes: number): TransportError {
  const err = error as { code?: string; errno?: string; message?: string; type?: string }
  if (err.type === 'max-size') return new TransportError('too-large', `larger than ${formatBytes(maxBodyBytes)}`)
  const code = err.code ?? err.errno
  const message = String(err.message ?? error)
  if (code && TLS_PROBLEMS.has(code)) return new TransportError('tls', tlsReason(message), code)
  // node-fetch wraps a proxy's refusal as "…reason: tunneling socket could not be established…"
  if ((code && NEVER_SENT.has(code)) || message.includes('tunneling socket could not be established')) {
    return new TransportError('refused', message, code)
  }
  return new TransportError('lost', message, code)
}

/** Node's own words after node-fetch's "request to <url> failed, reason: ", without its --use-system-ca hint. */
function tlsReason(message: string): string {
  return message
    .replace(/^.*?reason: /, '')
    .replace(/; if the root CA is installed locally.*$/, '')
    .trim()
}
