import { afterEach, beforeEach, describe, expect, test } from '@jest/globals'
import { startEmulator } from '../emulator/server.js'
import { domainRow } from '../emulator/state.js'
import { runAction, visibleLog } from './harness.js'

/**
 * The `url` output: the service's public URL from its domains (the first https one, else the first), read
 * after a followed deploy; empty for databases and services without a domain.
 */
let emu: Awaited<ReturnType<typeof startEmulator>>
beforeEach(async () => {
  emu = await startEmulator({ buildMs: 100 })
})
afterEach(() => emu.close())

// log: tail pins the path these tests read the domains on: with the live log, a row seen running is
// streamed, and the url then comes from the service's .one read for its secrets (live.test.ts)
const inputs = (extra: Record<string, string>): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, log: 'tail', ...extra })
const sent = (procedure: string) => emu.requests.filter((r) => r.procedure === procedure)

describe('after a followed deploy', () => {
  // verify: none in the tests of the domain list: the rollout check reads the service's .one, whose domains then give the URL
  test('an application: its https domain wins over an http one listed first', async () => {
    const run = await runAction(inputs({ id: emu.ids.web, verify: 'none' }))

    expect(run.code).toBe(0)
    expect(run.outputs.url).toBe('https://shop.example.com')
    expect(sent('domain.byApplicationId').map((r) => r.input)).toEqual([{ applicationId: emu.ids.web }])
    // the domains say nothing secret; the service's .one, which does, is not read for them
    expect(sent('application.one')).toHaveLength(0)
    expect(run.summary).toContain('<a href="https://shop.example.com">https://shop.example.com</a>')
    expect(JSON.parse(run.outputs.results)[0].url).toBe('https://shop.example.com')
  })

  test('with the live log, the domains come from the .one it read for the secrets: no extra request', async () => {
    emu.setBuild(emu.ids.web, { durationMs: 2500 })
    const run = await runAction(inputs({ id: emu.ids.web, log: 'live' }))

    expect(run.code).toBe(0)
    expect(run.stdout).toMatch(/^::group::/m)
    expect(run.outputs.url).toBe('https://shop.example.com')
    expect(sent('application.one')).toHaveLength(1)
    expect(sent('domain.byApplicationId')).toHaveLength(0)
  })

  test('with the rollout check, the domains come from the .one it read for the appName: no extra request', async () => {
    const run = await runAction(inputs({ id: emu.ids.web }))

    expect(run.code).toBe(0)
    expect(run.outputs.url).toBe('https://shop.example.com')
    expect(sent('application.one')).toHaveLength(1)
    expect(sent('domain.byApplicationId')).toHaveLength(0)
  })

  test('a compose stack: scheme, host and path', async () => {
    const run = await runAction(inputs({ resource: 'compose', id: emu.ids.stack, verify: 'none' }))

    expect(run.code).toBe(0)
    expect(run.outputs.url).toBe('http://stack.example.com/app')
    expect(sent('domain.byComposeId').map((r) => r.input)).toEqual([{ composeId: emu.ids.stack }])
  })

  test('a service without a domain: empty', async () => {
    const run = await runAction(inputs({ id: emu.ids.api, verify: 'none' }))

    expect(run.code).toBe(0)
    expect(run.outputs.url).toBe('')
    expect(sent('domain.byApplicationId')).toHaveLength(1)
    expect(run.summary).not.toContain('>URL<')
  })

  test('a disabled domain is not served: the first enabled one is taken', async () => {
    const https = emu.state.domains.find((d) => d.host === 'shop.example.com')
    if (https) https.enabled = false
    const run = await runAction(inputs({ id: emu.ids.web }))
    expect(run.outputs.url).toBe('http://web.internal.example.com')
  })

  test('a path without its slash, and a host that is no host name', async () => {
    emu.state.domains.push(domainRow('dom-api-1', { applicationId: emu.ids.api }, 'api.example.com', true, 'v1/docs'))
    const good = await runAction(inputs({ id: emu.ids.api }))
    expect(good.outputs.url).toBe('https://api.example.com/v1/docs')

    emu.state.domains.length = 0
    emu.state.domains.push(domainRow('dom-api-2', { applicationId: emu.ids.api }, 'evil.example.com/<script>', true, '/'))
    const bad = await runAction(inputs({ id: emu.ids.api }))
    expect(bad.code).toBe(0)
    expect(bad.outputs.url).toBe('')
  })

  test('domains that cannot be read leave url empty and the deploy done; the server\'s message is not quoted', async () => {
    emu.inject({ procedure: 'domain.byApplicationId', kind: 'status', status: 500, times: Infinity, body: JSON.stringify({ message: 'pool: password=never-read-7731 refused' }) })
    const run = await runAction(inputs({ id: emu.ids.web, verify: 'none' }))

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(run.outputs.url).toBe('')
    expect(visibleLog(run)).toContain("The service's domains could not be read (server-error, HTTP 500): the url output stays empty.")
    expect(run.stdout).not.toContain('never-read-7731')
  })
})

describe('not read', () => {
  test.each([
    ['a database deploy', { resource: 'postgres', id: 'pg-db' }],
    ['an application stop', { id: 'app-web', operation: 'stop' }],
    ['a deploy with wait: false', { id: 'app-web', wait: 'false' }]
  ])('%s: url is empty and no domain is read', async (_label, extra) => {
    const run = await runAction(inputs(extra))

    expect(run.code).toBe(0)
    expect(run.outputs.url).toBe('')
    expect(emu.requests.filter((r) => /^domain\./.test(r.procedure ?? ''))).toEqual([])
  })
})
