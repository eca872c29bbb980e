import { afterEach, describe, expect, it } from '@jest/globals'
import { liveLogUrl, logHost, proxyDispatchers, proxyFor, webSockets, type WebSocketLike } from '../../src/dokploy/log-socket.js'
import { redact } from '../../src/secrets.js'

afterEach(() => {
  for (const name of ['HTTPS_PROXY', 'https_proxy', 'HTTP_PROXY', 'http_proxy', 'NO_PROXY', 'no_proxy']) delete process.env[name]
})

describe('liveLogUrl', () => {
  it('is wss:// beside an https:// API and ws:// beside http://, with the logPath encoded', () => {
    expect(liveLogUrl('https://dokploy.example.com', '/etc/dokploy/logs/web-a1/web-a1-2026-08-20T10:00:00.000Z.log')).toBe(
      'wss://dokploy.example.com/listen-deployment?logPath=%2Fetc%2Fdokploy%2Flogs%2Fweb-a1%2Fweb-a1-2026-08-20T10%3A00%3A00.000Z.log'
    )
    expect(liveLogUrl('http://127.0.0.1:3000', '/etc/dokploy/logs/x.log')).toBe('ws://127.0.0.1:3000/listen-deployment?logPath=%2Fetc%2Fdokploy%2Flogs%2Fx.log')
  })

  it('names the remote server, and keeps a base path the API sits under', () => {
    expect(liveLogUrl('https://example.com/dokploy', '/etc/dokploy/logs/x.log', 'srv-1')).toBe(
      'wss://example.com/dokploy/listen-deployment?logPath=%2Fetc%2Fdokploy%2Flogs%2Fx.log&serverId=srv-1'
    )
    expect(liveLogUrl('https://example.com', '/etc/dokploy/logs/x.log', null)).not.toContain('serverId')
  })
})

describe('logHost', () => {
  it('the build server, else the service’s server, else Dokploy’s own host', () => {
    expect(logHost({ buildServerId: 'b1' }, { serverId: 's1' })).toBe('b1')
    expect(logHost({ buildServerId: null }, { serverId: 's1' })).toBe('s1')
    expect(logHost({ buildServerId: null }, { serverId: null })).toBeNull()
    expect(logHost({ buildServerId: null }, undefined)).toBeNull()
  })
})

describe('proxyDispatchers', () => {
  it('a dispatcher for a socket the proxy applies to (by the socket’s http(s) twin), none under NO_PROXY or on loopback', () => {
    process.env.HTTPS_PROXY = 'http://user:pr0xy-secret@proxy.internal:3128'
    process.env.NO_PROXY = 'internal.example.com'
    const proxies = proxyDispatchers()
    expect(proxies('wss://dokploy.example.com/listen-deployment?logPath=x')).toBeDefined()
    // one per origin
    expect(proxies('wss://dokploy.example.com/listen-deployment?logPath=y')).toBe(proxies('wss://dokploy.example.com/listen-deployment?logPath=x'))
    expect(proxies('wss://dokploy.internal.example.com/listen-deployment?logPath=x')).toBeUndefined()
    expect(proxies('ws://127.0.0.1:3000/listen-deployment?logPath=x')).toBeUndefined()
    // ws:// reads HTTP_PROXY, which is not set
    expect(proxies('ws://dokploy.example.com/listen-deployment?logPath=x')).toBeUndefined()
    // the proxy's password is masked once a dispatcher was made for it
    expect(redact('auth pr0xy-secret')).toBe('auth ***')
  })
})

describe('proxyFor', () => {
  it('reads HTTPS_PROXY for https://, HTTP_PROXY for http://, as the toolkit does', () => {
    process.env.HTTPS_PROXY = 'http://proxy.internal:3128'
    expect(proxyFor('https://dokploy.example.com')).toBe('http://proxy.internal:3128')
    expect(proxyFor('http://dokploy.example.com')).toBeUndefined()
    process.env.http_proxy = 'http://user:secret@proxy.internal:8080'
    // the origin only: credentials in the proxy URL are never repeated
    expect(proxyFor('http://dokploy.example.com')).toBe('http://proxy.internal:8080')
  })

  it('NO_PROXY and loopback take a host out', () => {
    process.env.HTTPS_PROXY = 'http://proxy.internal:3128'
    process.env.NO_PROXY = '.example.com'
    expect(proxyFor('https://dokploy.example.com')).toBeUndefined()
    expect(proxyFor('https://dokploy.example.org')).toBe('http://proxy.internal:3128')
    process.env.HTTP_PROXY = 'http://proxy.internal:3128'
    expect(proxyFor('http://127.0.0.1:3000')).toBeUndefined()
  })
})

describe('webSockets', () => {
  class Socket implements WebSocketLike {
    static made: Socket[] = []
    binaryType = 'blob'
    readyState = 0
    listeners: Record<string, ((event: never) => void)[]> = {}
    constructor(
      readonly url: string,
      readonly init: { headers: Record<string, string> }
    ) {
      Socket.made.push(this)
    }
    addEventListener(type: string, listener: (event: never) => void): void {
      ;(this.listeners[type] ??= []).push(listener)
    }
    emit(type: string, event: unknown): void {
      for (const listener of this.listeners[type] ?? []) listener(event as never)
    }
    close(): void {
      setTimeout(() => this.emit('close', { code: 1005, reason: '' }), 10)
    }
  }

  it('sends the key and the user agent, asks for binary data as ArrayBuffer, and decodes it', () => {
    const events: string[] = []
    webSockets(Socket).open('wss://x/listen-deployment?logPath=a', 'key-1', {
      open: () => events.push('open'),
      message: (text) => events.push(text),
      close: (code, _reason, error) => events.push(`close ${code} ${error}`)
    })
    const socket = Socket.made.at(-1) as Socket
    expect(socket.init.headers).toEqual({ 'x-api-key': 'key-1', 'user-agent': 'dokploy-action/1' })
    expect(socket.binaryType).toBe('arraybuffer')
    socket.emit('open', {})
    socket.emit('message', { data: 'text line\n' })
    // a character cut across two binary frames
    const bytes = new TextEncoder().encode('✅ done\n')
    socket.emit('message', { data: bytes.slice(0, 2).buffer })
    socket.emit('message', { data: bytes.slice(2).buffer })
    socket.emit('error', { message: 'Received network error or non-101 status code.' })
    socket.emit('close', { code: 1006, reason: '' })
    socket.emit('close', { code: 1006, reason: '' })
    expect(events).toEqual(['open', 'text line\n', '', '✅ done\n', 'close 1006 Received network error or non-101 status code.'])
  })

  it('settled: true at once with no socket, once the sockets closed, false when one does not close in time', async () => {
    const sockets = webSockets(Socket)
    expect(await sockets.settled(10)).toBe(true)
    const events = { open: () => undefined, message: () => undefined, close: () => undefined }
    const a = sockets.open('ws://x/a', 'k', events)
    a.close()
    expect(await sockets.settled(1000)).toBe(true)
    sockets.open('ws://x/b', 'k', events)
    expect(await sockets.settled(30)).toBe(false)
  })

  it('says when the runtime has no WebSocket', () => {
    expect(webSockets(undefined).unavailable()).toMatch(/^this Node \(v[\d.]+\) has no WebSocket$/)
    expect(webSockets(Socket).unavailable()).toBeUndefined()
  })
})
