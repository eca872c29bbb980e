import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { emulators, errorLine, leakedSecrets, runAction, endOnceStreaming } from './harness.js'

/**
 * Issue 17: the headers input, for a Dokploy behind Cloudflare Access. The emulator stands an Access
 * application with a service-token policy in front of the whole host: no token gets a redirect to the
 * team's login page, a wrong one its 403 page. Run through dist/index.js on Node 24; each test has an
 * emulator of its own, so that they run at once.
 */
const CLIENT_ID = '4f1c9a2b7d3e.access'
const CLIENT_SECRET = 'cf-secret-9d8c7b6a5f4e3d2c1b0a'
const { start: startEmulator, closeAll } = emulators({ buildMs: 1500, access: { clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, team: 'acme' } })
afterAll(closeAll)

async function start() {
  const emu = await startEmulator()
  return { emu, inputs: (extra: Record<string, string> = {}): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, ...extra }) }
}
const token = `CF-Access-Client-Id: ${CLIENT_ID}\nCF-Access-Client-Secret: ${CLIENT_SECRET}\n`

heading('the headers input', () => {
  concurrent('the headers reach every request and the log socket, and no value shows in any output', async () => {
    const { emu, inputs } = await start()
    // the build ends once the step streams its log, however slowly it runs
    emu.setBuild(emu.ids.web, { durationMs: 1500, holdBefore: endOnceStreaming(emu) })
    const run = await runAction(inputs({ headers: token }))
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    // the live log streamed through the gate too
    expect(run.stdout).toContain('::group::Build log of ')
    expect(emu.requests.length).toBeGreaterThanOrEqual(5)
    expect(emu.requests.some((r) => r.api === 'websocket')).toBe(true)
    for (const request of emu.requests) {
      expect([request.procedure ?? request.path, request.headers['cf-access-client-id'], request.headers['cf-access-client-secret']]).toEqual([
        request.procedure ?? request.path,
        CLIENT_ID,
        CLIENT_SECRET
      ])
      expect(request.fault).toBeUndefined()
    }
    // masked from the start, and never written anywhere else (debug logging is on)
    expect(run.stdout).toContain(`::add-mask::${CLIENT_ID}`)
    expect(run.stdout).toContain(`::add-mask::${CLIENT_SECRET}`)
    expect(leakedSecrets(run, [CLIENT_ID, CLIENT_SECRET])).toEqual([])
  })

  concurrent('Cloudflare Access without a token: its redirect to the login page gets a message that names headers', async () => {
    const { emu, inputs } = await start()
    const run = await runAction(inputs())
    expect(run.code).toBe(1)
    const message = errorLine(run)
    expect(message).toContain('Cloudflare Access')
    expect(message).toContain('acme.cloudflareaccess.com')
    expect(message).toContain('headers input')
    expect(message).toContain('CF-Access-Client-Id')
    // nothing got past the gate, and nothing was retried
    expect(emu.requests.every((r) => r.fault === 'access')).toBe(true)
    expect(emu.requests).toHaveLength(1)
  })

  concurrent('Cloudflare Access with a wrong token: its 403 page gets its message, and the token is never echoed', async () => {
    const { inputs } = await start()
    const wrong = 'cf-secret-wrong-0000000000000'
    const run = await runAction(inputs({ headers: `CF-Access-Client-Id: ${CLIENT_ID}\nCF-Access-Client-Secret: ${wrong}` }))
    expect(run.code).toBe(1)
    const message = errorLine(run)
    expect(message).toMatch(/^Cloudflare Access refused .+ \(403, its own page, not Dokploy's\)/)
    expect(message).toContain('headers input')
    expect(leakedSecrets(run, [CLIENT_ID, wrong])).toEqual([])
  })

  concurrent.each([
    ['a line without a colon', `CF-Access-Client-Id ${CLIENT_ID}`, /^Input "headers", line 1 has no colon/],
    ['a name that is not one', `CF Access Id: ${CLIENT_ID}`, /^Input "headers", line 1: the part before the colon is not a header name/],
    ['a header the action sets', `CF-Access-Client-Id: ${CLIENT_ID}\nx-api-key: ${CLIENT_SECRET}`, /^Input "headers", line 2: x-api-key is set by the action/],
    ['a header without a value', 'CF-Access-Client-Id:', /^Input "headers", line 1: CF-Access-Client-Id has no value/]
  ])('%s is refused before any request, naming the line and never the value', async (_name, headers, expected) => {
    const { emu, inputs } = await start()
    const run = await runAction(inputs({ headers }))
    expect(run.code).toBe(1)
    expect(errorLine(run)).toMatch(expected)
    expect(errorLine(run)).toContain('Name: value')
    expect(emu.requests).toHaveLength(0)
    expect(leakedSecrets(run, [CLIENT_ID, CLIENT_SECRET])).toEqual([])
  })
})
