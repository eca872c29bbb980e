import http from 'node:http'
import net from 'node:net'
import type { Duplex } from 'node:stream'

/**
 * A forward proxy for the end-to-end tests, the kind a self-hosted runner sits behind. It knows a few
 * fake host names (`dokploy.internal.test:PORT`) and sends them to a port on 127.0.0.1; every other
 * destination is refused with 403. It never opens a connection to any address but 127.0.0.1, so a
 * test that goes through it cannot reach the outside network.
 *
 * Both ways a client uses a proxy are served: CONNECT tunnels (what @actions/http-client's tunnel
 * agent sends, for http:// as well as https:// targets) and plain HTTP requests with an absolute URI.
 */

export interface ProxyRecord {
  /** 'CONNECT' for a tunnel, else the method of a plain request sent with an absolute URI. */
  method: string
  /** host:port asked for, lower case. */
  target: string
  /** Path and query of a plain request; undefined for a tunnel. */
  path?: string
  /** What the proxy answered the client: 200 for an established tunnel, 403 refused, 502 upstream failed. */
  status: number
}

export interface ForwardProxy {
  /** http://127.0.0.1:PORT, the value for HTTP_PROXY. */
  url: string
  port: number
  /** Every tunnel and request asked for, in order, served or not. */
  records: ProxyRecord[]
  served: () => ProxyRecord[]
  refused: () => ProxyRecord[]
  close: () => Promise<void>
}

const LOOPBACK = '127.0.0.1'
/** Bounds: a test never needs more, and a runaway client cannot pile up sockets. */
const MAX_CONNECTIONS = 64
const IDLE_MS = 30_000
const HOP_BY_HOP = ['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'trailer', 'transfer-encoding', 'upgrade']

/** `HOST:PORT` as the key of a route, defaulting the port the way an absolute URI does. */
const targetOf = (host: string, port: string | number | undefined, fallbackPort: number): string =>
  `${host.toLowerCase()}:${port === undefined || port === '' ? fallbackPort : Number(port)}`

/**
 * @param routes `host:port` (a fake name) → port on 127.0.0.1 it stands for.
 */
export async function startProxy(routes: Record<string, number>): Promise<ForwardProxy> {
  const table = new Map(Object.entries(routes).map(([target, port]) => [target.toLowerCase(), port]))
  const records: ProxyRecord[] = []
  const sockets = new Set<Duplex>()
  const track = (socket: Duplex): void => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  }
  let closed = false

  const server = http.createServer((req, res) => {
    // Plain HTTP through a proxy: the request line carries the absolute URI.
    let url: URL | undefined
    try {
      url = /^http:\/\//i.test(req.url ?? '') ? new URL(req.url ?? '') : undefined
    } catch {
      url = undefined
    }
    if (!url) {
      records.push({ method: req.method ?? 'GET', target: '', path: req.url, status: 400 })
      res.writeHead(400, { 'content-type': 'text/plain' }).end('forward proxy: absolute http:// URI expected\n')
      return
    }
    const target = targetOf(url.hostname, url.port, 80)
    const path = `${url.pathname}${url.search}`
    const port = table.get(target)
    if (port === undefined || closed) {
      records.push({ method: req.method ?? 'GET', target, path, status: 403 })
      res.writeHead(403, { 'content-type': 'text/plain' }).end(`forward proxy: ${target} is not allowed\n`)
      return
    }
    const record: ProxyRecord = { method: req.method ?? 'GET', target, path, status: 200 }
    records.push(record)
    // the origin is addressed by the name in the URI, as it would be without the proxy
    const headers: http.OutgoingHttpHeaders = { ...req.headers, host: url.host }
    for (const name of HOP_BY_HOP) delete headers[name]
    const upstream = http.request({ host: LOOPBACK, port, method: req.method, path, headers, agent: false }, (answer) => {
      record.status = answer.statusCode ?? 502
      const back: http.OutgoingHttpHeaders = { ...answer.headers }
      for (const name of HOP_BY_HOP) delete back[name]
      res.writeHead(answer.statusCode ?? 502, back)
      answer.pipe(res)
    })
    upstream.on('socket', track)
    upstream.on('error', () => {
      record.status = 502
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end('forward proxy: upstream failed\n')
      else res.destroy()
    })
    req.pipe(upstream)
  })

  server.on('connect', (req: http.IncomingMessage, client: Duplex, head: Buffer) => {
    track(client)
    client.on('error', () => client.destroy())
    const match = /^([^:\s]+):(\d{1,5})$/.exec(req.url ?? '')
    const target = match ? targetOf(match[1], match[2], 443) : (req.url ?? '').toLowerCase()
    const port = table.get(target)
    if (port === undefined || closed) {
      records.push({ method: 'CONNECT', target, status: 403 })
      client.end('HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      return
    }
    const record: ProxyRecord = { method: 'CONNECT', target, status: 200 }
    records.push(record)
    const upstream = net.connect({ host: LOOPBACK, port })
    track(upstream)
    upstream.setTimeout(IDLE_MS, () => upstream.destroy())
    let established = false
    upstream.once('connect', () => {
      established = true
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n')
      if (head.length) upstream.write(head)
      upstream.pipe(client)
      client.pipe(upstream)
    })
    upstream.on('error', () => {
      if (!established) {
        record.status = 502
        client.end('HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n')
      } else client.destroy()
    })
    upstream.on('close', () => client.destroy())
    client.on('close', () => upstream.destroy())
  })

  server.maxConnections = MAX_CONNECTIONS
  server.on('connection', (socket: net.Socket) => {
    track(socket)
    socket.setTimeout(IDLE_MS, () => socket.destroy())
  })
  server.on('clientError', (_error, socket) => socket.destroy())

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, LOOPBACK, () => resolve())
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0

  return {
    url: `http://${LOOPBACK}:${port}`,
    port,
    records,
    served: () => records.filter((r) => r.status !== 403 && r.status !== 400),
    refused: () => records.filter((r) => r.status === 403 || r.status === 400),
    close: async () => {
      if (closed) return
      closed = true
      for (const socket of sockets) socket.destroy()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}
