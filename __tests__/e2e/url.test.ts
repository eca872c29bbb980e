import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { domainRow } from '../emulator/state.js'
import { emulators, runAction, visibleLog } from './harness.js'

/**
 * The `url` output: the service's public URL from its domains (the first https one, else the first), read
 * after a followed deploy; empty for databases and services without a domain. Each test has an emulator of
 * its own, so that they run at once.
 */
const { start: startEmulator, closeAll } = emulators({ buildMs: 100 })
afterAll(closeAll)

/** An emulator of the test's own, so that the tests run at once. */
async function start() {
  const emu = await startEmulator()
  return {
    emu,
    // log: tail pins the path these tests read the domains on: with the live log, a row seen running is
    // streamed, and the url then comes from the service's .one read for its secrets (live.test.ts)
    inputs: (extra: Record<string, string>): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, log: 'tail', ...extra }),
    sent: (procedure: string) => emu.requests.filter((r) => r.procedure === procedure)
  }
}

heading('after a followed deploy', () => {
  // verify: none in the tests of the domain list: the rollout check reads the service's .one, whose domains then give the URL
  concurrent('an application: its https domain wins over an http one listed first', async () => {
    const { emu, inputs, sent } = await start()
    const run = await runAction(inputs({ id: emu.ids.web, verify: 'none' }))

    expect(run.code).toBe(0)
    expect(run.outputs.url).toBe('https://shop.example.com')
    expect(sent('domain.byApplicationId').map((r) => r.input)).toEqual([{ applicationId: emu.ids.web }])
    // the domains say nothing secret; the service's .one, which does, is not read for them
    expect(sent('application.one')).toHaveLength(0)
    expect(run.summary).toContain('<a href="https://shop.example.com">https://shop.example.com</a>')
    expect(JSON.parse(run.outputs.results)[0].url).toBe('https://shop.example.com')
  })

  concurrent('with the live log, the domains come from the .one it read for the secrets: no extra request', async () => {
    const { emu, inputs, sent } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 2500 })
    const run = await runAction(inputs({ id: emu.ids.web, log: 'live' }))

    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^::group::/m)
    expect(run.outputs.url).toBe('https://shop.example.com')
    expect(sent('application.one')).toHaveLength(1)
    expect(sent('domain.byApplicationId')).toHaveLength(0)
  })

  concurrent('with the rollout check, the domains come from the .one it read for the appName: no extra request', async () => {
    const { emu, inputs, sent } = await start()
    const run = await runAction(inputs({ id: emu.ids.web }))

    expect(run.code).toBe(0)
    expect(run.outputs.url).toBe('https://shop.example.com')
    expect(sent('application.one')).toHaveLength(1)
    expect(sent('domain.byApplicationId')).toHaveLength(0)
  })

  concurrent('a compose stack: scheme, host and path', async () => {
    const { emu, inputs, sent } = await start()
    const run = await runAction(inputs({ resource: 'compose', id: emu.ids.stack, verify: 'none' }))

    expect(run.code).toBe(0)
    expect(run.outputs.url).toBe('http://stack.example.com/app')
    expect(sent('domain.byComposeId').map((r) => r.input)).toEqual([{ composeId: emu.ids.stack }])
  })

  concurrent('a service without a domain: empty', async () => {
    const { emu, inputs, sent } = await start()
    const run = await runAction(inputs({ id: emu.ids.api, verify: 'none' }))

    expect(run.code).toBe(0)
    expect(run.outputs.url).toBe('')
    expect(sent('domain.byApplicationId')).toHaveLength(1)
    expect(run.summary).not.toContain('>URL<')
  })

  concurrent('a disabled domain is not served: the first enabled one is taken', async () => {
    const { emu, inputs } = await start()
    const https = emu.state.domains.find((d) => d.host === 'shop.example.com')
    if (https) https.enabled = false
    const run = await runAction(inputs({ id: emu.ids.web }))
    expect(run.outputs.url).toBe('http://web.internal.example.com')
  })

  concurrent('a path without its slash, and a host that is no host name', async () => {
    const { emu, inputs } = await start()
    emu.state.domains.push(domainRow('dom-api-1', { applicationId: emu.ids.api }, 'api.example.com', true, 'v1/docs'))
    const good = await runAction(inputs({ id: emu.ids.api }))
    expect(good.outputs.url).toBe('https://api.example.com/v1/docs')

    emu.state.domains.length = 0
    emu.state.domains.push(domainRow('dom-api-2', { applicationId: emu.ids.api }, 'evil.example.com/<script>', true, '/'))
    const bad = await runAction(inputs({ id: emu.ids.api }))
    expect(bad.code).toBe(0)
    expect(bad.outputs.url).toBe('')
  })

  concurrent('domains that cannot be read leave url empty and the deploy done; the server\'s message is not quoted', async () => {
    const { emu, inputs } = await start()
    emu.inject({ procedure: 'domain.byApplicationId', kind: 'status', status: 500, times: Infinity, body: JSON.stringify({ message: 'pool: password=never-read-7731 refused' }) })
    const run = await runAction(inputs({ id: emu.ids.web, verify: 'none' }))

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(run.outputs.url).toBe('')
    expect(visibleLog(run)).toContain("The service's domains could not be read (server-error, HTTP 500): the url output stays empty.")
    expect(run.stdout).not.toContain('never-read-7731')
  })
})

heading('not read', () => {
  concurrent.each([
    ['a database deploy', { resource: 'postgres', id: 'pg-db' }],
    ['an application stop', { id: 'app-web', operation: 'stop' }],
    ['a deploy with wait: false', { id: 'app-web', wait: 'false' }]
  ])('%s: url is empty and no domain is read', async (_label, extra) => {
    const { emu, inputs } = await start()
    const run = await runAction(inputs(extra))

    expect(run.code).toBe(0)
    expect(run.outputs.url).toBe('')
    expect(emu.requests.filter((r) => /^domain\./.test(r.procedure ?? ''))).toEqual([])
  })
})
