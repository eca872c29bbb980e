import { test } from '@jest/globals'
import { startEmulator } from '../emulator/server.js'
import { runAction } from './harness.js'
import { startProxy } from './proxy.js'
test('probe', async () => {
  const emu = await startEmulator({ buildMs: 100 })
  const port = Number(new URL(emu.url).port)
  const host = `dokploy.internal.test:${port}`
  const proxy = await startProxy({ [host]: port })
  const run = await runAction({ url: `http://${host}`, 'api-key': emu.apiKey, id: emu.ids.web }, { env: { HTTP_PROXY: proxy.url } })
  console.log(run.code, run.stdout, run.stderr, JSON.stringify(proxy.records), JSON.stringify(emu.requests.map((r) => [r.procedure, r.status])))
  await proxy.close(); await emu.close()
})
