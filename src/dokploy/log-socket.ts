import { HttpClient, getProxyUrl } from '@actions/http-client'
import { USER_AGENT } from '../constants.js'
import type { LogSink } from '../logger.js'
import { registerSecret } from '../secrets.js'

/**
 * Dokploy's live build log (API.md §10): a WebSocket at `/listen-deployment?logPath=…[&serverId=…]`,
 * authorised by the same `x-api-key` header as the API. On connect it sends the whole file so far, then
 * each chunk the build writes (`tail -f`); it never ends by itself.
 */

/** What the action uses of a WebSocket: Node 24's global one, or a test's fake. */
export interface WebSocketLike {
  binaryType: string
  readyState: number
  addEventListener: (type: 'open' | 'message' | 'error' | 'close', listener: (event: never) => void) => void
  close: () => void
}

/** `dispatcher`: undici's, which carries the upgrade through a CONNECT proxy (Node 24's WebSocket accepts one). */
export type WebSocketConstructor = new (url: string, init: { headers: Record<string, string>; dispatcher?: unknown }) => WebSocketLike

/** The proxy dispatcher for a socket URL, or undefined when no proxy applies to it. */
export type ProxyDispatchers = (socketUrl: string) => unknown

export interface SocketEvents {
  open: () => void
  message: (text: string) => void
  /** The socket ended, for whatever reason; called once. `error` is the failure's message, if any. */
  close: (code: number, reason: string, error?: string) => void
}

export interface LogConnection {
  close: () => void
}

/** Opens log sockets and knows whether they have all closed (a socket whose close is never answered keeps Node alive). */
export interface LogSockets {
  /** Why this runtime cannot open one, or undefined when it can. */
  unavailable: () => string | undefined
  /** `headers`: the headers input, sent with the upgrade (the key and the user agent win). */
  open: (url: string, apiKey: string, events: SocketEvents, headers?: Record<string, string>) => LogConnection
  /** Sockets opened so far: each upgrade spends a key check, as an API request does. */
  opened?: () => number
  /** Whether every socket opened has closed, waiting up to `ms` for the last ones. */
  settled: (ms: number) => Promise<boolean>
}

/** What following a deployment by its live log needs besides the API client. */
export interface LiveLogSetup {
  baseUrl: string
  apiKey: string
  /** The headers input, sent on the upgrade as on every API request. */
  headers?: Record<string, string>
  /** Bound for the opening handshake (request-timeout). */
  openTimeoutMs: number
  sockets: LogSockets
  sink: LogSink
}

/**
 * The server that holds a build's log file, as Dokploy's dashboard opens it: the row's build server, else the
 * service's server; null for Dokploy's own host (services/application.ts writes the log on
 * `buildServerId || serverId`; the rows never carry a `serverId`).
 */
export function logHost(row: { buildServerId: string | null }, service: { serverId?: string | null } | undefined): string | null {
  return row.buildServerId || service?.serverId || null
}

/** ws:// or wss:// beside the API, with the row's logPath and, for a log on a remote server, that server's id. */
export function liveLogUrl(baseUrl: string, logPath: string, serverId?: string | null): string {
  const url = new URL(`${baseUrl}/listen-deployment`)
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:'
  url.searchParams.set('logPath', logPath)
  if (serverId) url.searchParams.set('serverId', serverId)
  return url.toString()
}

/**
 * The proxy the runner would use for Dokploy (HTTPS_PROXY, HTTP_PROXY and NO_PROXY, as the toolkit reads
 * them), or undefined: its origin only, never the credentials it may carry.
 */
export function proxyFor(baseUrl: string): string | undefined {
  const proxy = getProxyUrl(baseUrl)
  if (!proxy) return undefined
  const url = new URL(proxy)
  return url.origin
}

/** Why a log socket cannot be opened for this Dokploy at all, or undefined when it can. */
export function socketRuledOut(setup: LiveLogSetup): string | undefined {
  return setup.sockets.unavailable()
}

/**
 * Dispatchers that take a socket through the proxy the API requests use: the same variables, the same
 * NO_PROXY, read by the toolkit's own HTTP client for the socket's http(s) twin, whose undici ProxyAgent
 * tunnels with CONNECT. One per origin. The proxy's password is masked before anything can print it.
 */
export function proxyDispatchers(): ProxyDispatchers {
  const http = new HttpClient(USER_AGENT, [], { keepAlive: true })
  const cache = new Map<string, unknown>()
  return (socketUrl) => {
    const url = new URL(socketUrl)
    url.protocol = url.protocol === 'wss:' ? 'https:' : 'http:'
    if (cache.has(url.origin)) return cache.get(url.origin)
    const proxy = getProxyUrl(url.toString())
    let dispatcher: unknown
    if (proxy) {
      const parsed = new URL(proxy)
      registerSecret(parsed.password, true)
      try {
        registerSecret(decodeURIComponent(parsed.password), true)
      } catch {
        // a malformed %-escape: the password as written is masked above
      }
      dispatcher = http.getAgentDispatcher(url.toString())
    }
    cache.set(url.origin, dispatcher)
    return dispatcher
  }
}

/** Node's own WebSocket (a global from Node 22 on; the action runs on Node 24). */
export const globalWebSocket = (): WebSocketConstructor | undefined => (globalThis as unknown as { WebSocket?: WebSocketConstructor }).WebSocket

/** Sockets over `Socket`: Node's global WebSocket, or a test's fake; through `proxies` where one applies. */
export function webSockets(Socket: WebSocketConstructor | undefined, proxies?: ProxyDispatchers): LogSockets {
  const live = new Set<Promise<void>>()
  let opened = 0
  return {
    unavailable: () => (Socket ? undefined : `this Node (${process.version}) has no WebSocket`),
    opened: () => opened,
    open: (url, apiKey, events, headers = {}) => {
      if (!Socket) throw new Error('no WebSocket in this runtime')
      opened++
      const dispatcher = proxies?.(url)
      const socket = new Socket(url, { headers: { ...headers, 'x-api-key': apiKey, 'user-agent': USER_AGENT }, ...(dispatcher ? { dispatcher } : {}) })
      socket.binaryType = 'arraybuffer'
      const decoder = new TextDecoder()
      let error: string | undefined
      let ended = false
      let closed!: () => void
      const gone = new Promise<void>((resolve) => (closed = resolve))
      live.add(gone)
      void gone.then(() => live.delete(gone))
      socket.addEventListener('open', () => events.open())
      socket.addEventListener('message', (event: { data: unknown }) => {
        const data = event.data
        events.message(typeof data === 'string' ? data : data instanceof ArrayBuffer ? decoder.decode(data, { stream: true }) : String(data))
      })
      socket.addEventListener('error', (event: { message?: string; error?: { message?: string } }) => {
        error = event.error?.message || event.message || 'the connection failed'
      })
      socket.addEventListener('close', (event: { code: number; reason: string }) => {
        if (ended) return
        ended = true
        closed()
        events.close(event.code, event.reason, error)
      })
      return { close: () => socket.close() }
    },
    settled: async (ms) => {
      if (!live.size) return true
      let timer: NodeJS.Timeout | undefined
      const timeout = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))
      const all = Promise.all(live).then(() => true)
      try {
        return await Promise.race([all, timeout])
      } finally {
        clearTimeout(timer)
      }
    }
  }
}
