import http from 'node:http'
import net from 'node:net'
import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { annotations, emulators, errorLine, runAction, visibleLog, type ActionRun } from './harness.js'
import { startProxy, type ForwardProxy } from './proxy.js'

/**
 * A runner behind a forward proxy: HTTP_PROXY / http_proxy send the action's requests through it,
 * NO_PROXY / no_proxy take a host out of it. The Dokploy URL uses a `.test` name, which no DNS
 * resolves: only the proxy knows where it goes (the emulator on 127.0.0.1), so a request that skips
 * the proxy cannot reach anything, and nothing here depends on the outside network. Each test has an
 * emulator and a proxy of its own, so that they run at once.
 */
const { start: startEmulator, closeAll } = emulators({ buildMs: 100 })
const proxies: ForwardProxy[] = []
afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()))
  await closeAll()
})

/** An emulator and a proxy that knows it, of the test's own, so that the tests run at once. */
async function start() {
  const emu = await startEmulator()
  const port = Number(new URL(emu.url).port)
  const host = `dokploy.internal.test:${port}`
  const proxy = await startProxy({ [host]: port })
  proxies.push(proxy)
  return {
    emu,
    proxy,
    host,
    deploy: (extra: Record<string, string> = {}): Record<string, string> => ({
      url: `http://${host}`,
      'api-key': emu.apiKey,
      id: emu.ids.web,
      ...extra
    })
  }
}

const plainHttpWarning = (run: ActionRun): string[] =>
  annotations(run, 'warning')
    .map(({ message }) => message)
    .filter((message) => message.includes('is plain http: the API key travels unencrypted'))

heading('through a forward proxy', () => {
  concurrent.each(['HTTP_PROXY', 'http_proxy'])('%s: the deploy goes through the proxy\'s tunnels to done', async (variable) => {
    const { emu, proxy, host, deploy } = await start()
    const run = await runAction(deploy(), { env: { [variable]: proxy.url } })

    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(run.outputs['log-url']).toContain(`http://${host}/dashboard/`)

    // every request went through a tunnel to the fake name, and the proxy refused none
    expect(proxy.refused()).toEqual([])
    expect(proxy.served().length).toBeGreaterThan(0)
    expect(proxy.served().every((r) => r.method === 'CONNECT' && r.target === host && r.status === 200)).toBe(true)

    // the emulator saw them, addressed to the name the action was given
    expect(emu.requests.length).toBeGreaterThan(0)
    expect(emu.requests.every((r) => r.headers.host === host)).toBe(true)
    expect(emu.requests.filter((r) => r.procedure === 'application.deploy')).toHaveLength(1)
    expect(emu.stats().deployCalls[emu.ids.web]).toBe(1)

    // the host is not loopback and the URL is http://: the key crosses the network in clear
    expect(plainHttpWarning(run)).toEqual([
      `http://${host} is plain http: the API key travels unencrypted. Use https:// if the server has it.`
    ])
  })

  concurrent('a loopback URL is never proxied, and gets no plain-http warning', async () => {
    const { emu, proxy } = await start()
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web }, { env: { HTTP_PROXY: proxy.url } })

    expect(run.stderr).toBe('')
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(proxy.records).toEqual([])
    expect(emu.requests.length).toBeGreaterThan(0)
    expect(plainHttpWarning(run)).toEqual([])
  })

  concurrent('a proxy that refuses the tunnel: "Could not reach Dokploy", and nothing is sent', async () => {
    const { emu, proxy } = await start()
    const port = new URL(emu.url).port
    const run = await runAction(
      { url: `http://elsewhere.internal.test:${port}`, 'api-key': emu.apiKey, id: emu.ids.web, retries: '0' },
      { env: { HTTP_PROXY: proxy.url } }
    )

    expect(run.code).toBe(1)
    // the tunnel was refused before any request left: the request certainly never reached Dokploy
    expect(errorLine(run)).toMatch(new RegExp(`^Could not reach Dokploy at http://elsewhere\\.internal\\.test:${port} \\(`))
    expect(proxy.served()).toEqual([])
    expect(proxy.refused().map((r) => r.target)).toContain(`elsewhere.internal.test:${port}`)
    expect(emu.requests).toEqual([])
    expect(run.stderr).toBe('')
  })
})

heading('NO_PROXY takes the host out of the proxy', () => {
  // retries: 0 keeps the failure fast; a name that does not resolve never reached Dokploy either way
  concurrent.each([
    ['HTTP_PROXY', 'NO_PROXY'],
    ['http_proxy', 'no_proxy']
  ])('%s with %s: the proxy is bypassed, the .test name does not resolve, the step fails', async (proxyVariable, noProxyVariable) => {
    const { emu, proxy, host, deploy } = await start()
    const run = await runAction(deploy({ retries: '0' }), {
      env: { [proxyVariable]: proxy.url, [noProxyVariable]: 'dokploy.internal.test' }
    })

    expect(run.code).toBe(1)
    expect(errorLine(run)).toMatch(
      new RegExp(`^Could not reach Dokploy at http://${host.replace(/\./g, '\\.')} \\((ENOTFOUND|EAI_AGAIN)\\): check the url input`)
    )
    expect(run.outputs.status).not.toBe('done')
    expect(proxy.records).toEqual([])
    expect(emu.requests).toEqual([])
    expect(plainHttpWarning(run)).toHaveLength(1)
    expect(visibleLog(run)).not.toContain('Dokploy queued')
  })
})

heading('the test proxy itself', () => {
  const viaProxy = (proxy: ForwardProxy, target: string, path: string): Promise<{ status: number; body: string }> =>
    new Promise((resolve, reject) => {
      const req = http.request({ host: '127.0.0.1', port: proxy.port, method: 'GET', path: `http://${target}${path}`, agent: false }, (res) => {
        let body = ''
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }))
      })
      req.on('error', reject)
      req.end()
    })

  const connect = (proxy: ForwardProxy, target: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port: proxy.port }, () => socket.write(`CONNECT ${target} HTTP/1.1\r\nHost: ${target}\r\n\r\n`))
      let answer = ''
      socket.setEncoding('utf8').on('data', (chunk: string) => {
        answer += chunk
        if (answer.includes('\r\n\r\n')) {
          socket.destroy()
          resolve(answer.split('\r\n')[0])
        }
      })
      socket.on('error', reject)
    })

  concurrent('serves plain requests with an absolute URI to its mapped name, on 127.0.0.1', async () => {
    const { emu, proxy, host } = await start()
    const answer = await viaProxy(proxy, host, '/api/health')
    expect(answer).toEqual({ status: 200, body: '{"ok":true}' })
    expect(proxy.records).toEqual([{ method: 'GET', target: host, path: '/api/health', status: 200 }])
    expect(emu.requests.map((r) => [r.path, r.headers.host])).toEqual([['/api/health', host]])
  })

  concurrent('refuses every other destination, tunnel or plain, without connecting anywhere', async () => {
    const { emu, proxy } = await start()
    const port = new URL(emu.url).port
    expect(await connect(proxy, 'example.com:443')).toBe('HTTP/1.1 403 Forbidden')
    expect(await connect(proxy, `127.0.0.1:${port}`)).toBe('HTTP/1.1 403 Forbidden')
    expect((await viaProxy(proxy, 'example.com', '/')).status).toBe(403)
    expect((await viaProxy(proxy, `dokploy.internal.test:${Number(port) + 1}`, '/api/health')).status).toBe(403)
    expect(proxy.served()).toEqual([])
    expect(emu.requests).toEqual([])
  })
})
