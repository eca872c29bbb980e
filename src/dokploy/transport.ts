import type { Agent } from 'node:http'
import fetch from 'node-fetch'
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
 * Why a request got no HTTP answer. `refused` means it certainly never reached Dokploy
 * (connection refused, DNS failure, proxy tunnel not established), so even a deploy may be resent.
 */
export class TransportError extends Error {
  constructor(
    readonly reason: 'timeout' | 'cancelled' | 'refused' | 'lost',
    message: string,
    readonly code?: string
  ) {
    super(message)
    this.name = 'TransportError'
  }
}

const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'])

/**
 * fetch through the proxy the runner is configured with: @actions/http-client reads
 * HTTPS_PROXY/HTTP_PROXY/NO_PROXY (either case) exactly as the rest of the toolkit does.
 * Redirects are never followed: a 301/302 silently turns a POST into a GET.
 */
export function createTransport(): { send: Transport; close: () => void } {
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
      const response = await fetch(request.url, {
        method: request.method,
        headers: { 'user-agent': USER_AGENT, ...request.headers },
        body: request.body,
        redirect: 'manual',
        compress: true,
        agent: agentFor(request.url),
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
      const err = error as { code?: string; errno?: string; message?: string }
      const code = err.code ?? err.errno
      const message = String(err.message ?? error)
      // node-fetch wraps a proxy's refusal as "…reason: tunneling socket could not be established…"
      if ((code && NEVER_SENT.has(code)) || message.includes('tunneling socket could not be established')) {
        throw new TransportError('refused', message, code)
      }
      throw new TransportError('lost', message, code)
    }
  }

  const close = (): void => {
    // tunnel's proxy agents have no destroy(); their sockets close with the process
    for (const agent of agents.values()) (agent as { destroy?: () => void }).destroy?.()
    agents.clear()
  }
  return { send, close }
}
