import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { startEmulator } from '../emulator/server.js'
import { annotations, emulators, leakedSecrets, runAction, type ActionRun, type Emulator } from './harness.js'
import { startProxy, type ForwardProxy } from './proxy.js'

/**
 * Issue 17: the live log behind a forward proxy. The log socket goes through the proxy the API requests
 * use (a CONNECT tunnel, Node 24's WebSocket over the toolkit's undici ProxyAgent), and NO_PROXY takes a
 * host out of it for both. The Dokploy URL uses a `.test` name that only the proxy knows. Each test has an
 * emulator and a proxy of its own, so that they run at once.
 */
const { start: startDokploy, closeAll } = emulators({ buildMs: 5000 })
const proxies: ForwardProxy[] = []
afterAll(async () => {
  await Promise.all(proxies.map((proxy) => proxy.close()))
  await closeAll()
})
/** A proxy that the file's afterAll closes. */
async function proxyFor(hosts: Record<string, number>): Promise<ForwardProxy> {
  const proxy = await startProxy(hosts)
  proxies.push(proxy)
  return proxy
}

const upgrades = (emu: Emulator) => emu.requests.filter((r) => r.api === 'websocket')
const notices = (run: ActionRun): string[] => annotations(run, 'notice').map(({ message }) => message)
const streamed = (run: ActionRun): boolean => run.stdout.includes('::group::Build log of ') && run.stdout.includes('Docker Deployed: ✅')

/** 0.0.0.0 reaches a loopback listener on Linux and macOS, and is not loopback to the toolkit: NO_PROXY decides for it. */
const zeroReachesLoopback = await (async () => {
  const probe = await startEmulator()
  try {
    return (await fetch(`http://0.0.0.0:${new URL(probe.url).port}/api/health`)).ok
  } catch {
    return false
  } finally {
    await probe.close()
  }
})()

heading('the live log through a proxy', () => {
  concurrent('HTTP_PROXY: the log streams live through a CONNECT tunnel, like every API request, with no fallback notice', async () => {
    const emu = await startDokploy()
    const port = Number(new URL(emu.url).port)
    const host = `dokploy.internal.test:${port}`
    const proxy = await proxyFor({ [host]: port })
    const run = await runAction({ url: `http://${host}`, 'api-key': emu.apiKey, id: emu.ids.web }, { env: { HTTP_PROXY: proxy.url } })
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(streamed(run)).toBe(true)
    expect(notices(run)).toEqual([])
    expect(upgrades(emu)).toHaveLength(1)
    // everything, the upgrade included, came through the proxy's tunnels to the name it alone knows
    expect(emu.requests.every((r) => r.headers.host === host)).toBe(true)
    expect(proxy.refused()).toEqual([])
    expect(proxy.served().every((r) => r.method === 'CONNECT' && r.target === host)).toBe(true)
    expect(emu.requests.some((r) => r.procedure === 'deployment.readLogs')).toBe(false)
  })

  concurrent('credentials in the proxy URL: the socket authenticates with them, and they never show', async () => {
    const emu = await startDokploy()
    const port = Number(new URL(emu.url).port)
    const host = `dokploy.internal.test:${port}`
    const proxy = await proxyFor({ [host]: port })
    const password = 'proxy-pass-7c1e9b'
    const withCredentials = proxy.url.replace('http://', `http://ci-runner:${password}@`)
    const run = await runAction({ url: `http://${host}`, 'api-key': emu.apiKey, id: emu.ids.web }, { env: { HTTP_PROXY: withCredentials } })
    expect(run.code).toBe(0)
    expect(streamed(run)).toBe(true)
    expect(upgrades(emu)).toHaveLength(1)
    expect(run.stdout).toContain(`::add-mask::${password}`)
    expect(leakedSecrets(run, [password, withCredentials])).toEqual([])
  })

  ;(zeroReachesLoopback ? concurrent : concurrent.skip)('NO_PROXY: a host taken out of the proxy streams directly, and the proxy sees nothing', async () => {
    const emu = await startDokploy()
    const proxy = await proxyFor({})
    const url = `http://0.0.0.0:${new URL(emu.url).port}`
    const run = await runAction({ url, 'api-key': emu.apiKey, id: emu.ids.web }, { env: { HTTP_PROXY: proxy.url, NO_PROXY: '0.0.0.0' } })
    expect(run.code).toBe(0)
    expect(streamed(run)).toBe(true)
    expect(notices(run)).toEqual([])
    expect(upgrades(emu)).toHaveLength(1)
    expect(proxy.records).toEqual([])
  })

  concurrent('without NO_PROXY the same host goes to the proxy, socket included (which refuses a host it does not know)', async () => {
    const emu = await startDokploy()
    const proxy = await proxyFor({})
    const url = `http://0.0.0.0:${new URL(emu.url).port}`
    const run = await runAction({ url, 'api-key': emu.apiKey, id: emu.ids.web, retries: '0' }, { env: { HTTP_PROXY: proxy.url } })
    expect(run.code).toBe(1)
    expect(emu.requests).toEqual([])
    expect(proxy.refused().length).toBeGreaterThan(0)
  })
})
