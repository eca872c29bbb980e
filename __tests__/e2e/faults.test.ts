import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { emulators, endOnceShown, errorLine, runAction, visibleLog, endOnceStreaming } from './harness.js'

/**
 * Issue 4: the fault matrix. Each case injects what a proxy, a flaky network or Dokploy itself
 * can do, and asserts the outcome, the message, the retries and that one step deploys at most once.
 */
// Each test has an emulator of its own and runs beside the others.
const { start: startEmulator, closeAll } = emulators({ buildMs: 150 })
afterAll(closeAll)

const start = async () => {
  const emu = await startEmulator()
  return {
    emu,
    deployInputs: (extra: Record<string, string> = {}): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, ...extra }),
    attempts: (procedure: string): number => emu.requests.filter((r) => r.procedure === procedure).length,
    deploys: (): number => emu.stats().deployCalls[emu.ids.web] ?? 0
  }
}
const debugCount = (stdout: string): number => Number(/Dokploy requests: (\d+)/.exec(stdout)?.[1] ?? NaN)

heading('503 before processing is retried on every kind of call', () => {
  const CALLS: [string, Record<string, string>, string][] = [
    ['application.one (query, for reload)', { operation: 'reload' }, 'application.one'],
    ['deployment.queueList (query)', {}, 'deployment.queueList'],
    ['deployment.all (query)', {}, 'deployment.all'],
    ['application.deploy (mutation)', {}, 'application.deploy'],
    ['application.stop (mutation)', { operation: 'stop' }, 'application.stop'],
    ['project.all (lookup)', { id: '', project: 'shop', environment: 'production', name: 'web' }, 'project.all']
  ]
  concurrent.each(CALLS)('%s', async (_label, extra, procedure) => {
    const { emu, deployInputs, deploys } = await start()
    // a 503 may hide a restart: after one, only the reference proves the row, so it must still be running when seen
    if (procedure === 'deployment.queueList') emu.setBuild(emu.ids.web, { durationMs: 5000, holdBefore: endOnceShown(emu) })
    const rule = emu.inject({ procedure, kind: 'status', status: 503, headers: { 'retry-after': '0' } })
    const run = await runAction(deployInputs(extra))
    expect(run.code).toBe(0)
    expect(rule.hits).toBe(1)
    // the refused request is followed at once by the same call, answered this time
    const refused = emu.requests.findIndex((r) => r.procedure === procedure && r.status === 503)
    expect(emu.requests[refused + 1]).toMatchObject({ procedure, status: 200 })
    expect(deploys()).toBe(extra.operation ? 0 : 1)
    expect(run.stdout).toMatch(new RegExp(`${procedure.replace('.', '\\.')}: unavailable, retry 1/3`))
  })

  concurrent('a database deploy refused with 503 is sent again and runs once', async () => {
    const { emu } = await start()
    emu.inject({ procedure: 'postgres.deploy', kind: 'status', status: 503 })
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, resource: 'postgres', id: emu.ids.postgres })
    expect(run.code).toBe(0)
    expect(emu.stats().deployCalls[emu.ids.postgres]).toBe(1)
  })

  concurrent('retries are bounded by the retries input', async () => {
    const { emu, deployInputs, attempts, deploys } = await start()
    emu.inject({ procedure: 'deployment.all', kind: 'status', status: 503, times: Infinity })
    const run = await runAction(deployInputs({ retries: '1' }))
    expect(run.code).toBe(1)
    expect(attempts('deployment.all')).toBe(2)
    expect(errorLine(run)).toContain('unavailable (503)')
    expect(deploys()).toBe(0)
  })
})

heading('failures while polling', () => {
  concurrent('an HTML 502 and a connection reset during polling are retried; the step still reports done', async () => {
    const { emu, deployInputs, deploys } = await start()
    const gateway = emu.inject({ procedure: 'deployment.all', kind: 'html', status: 502, after: 2 })
    const reset = emu.inject({ procedure: 'deployment.all', kind: 'reset-before', after: 3 })
    // the build runs until both faults have hit the step's polls
    emu.setBuild(emu.ids.web, { durationMs: 5000, holdBefore: (event) => (event === 'end' ? emu.until(() => (gateway.hits ?? 0) > 0 && (reset.hits ?? 0) > 0, 20_000) : undefined) })
    // log: tail, the path that polls the rows while the build runs (a streamed build's rows are read at its end)
    const run = await runAction(deployInputs({ log: 'tail' }))
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(run.stdout).toContain('deployment.all: gateway, retry')
    expect(run.stdout).toContain('deployment.all: network, retry')
    expect(deploys()).toBe(1)
  })

  concurrent('a 429 with Retry-After is honoured before the next attempt', async () => {
    const { emu, deployInputs } = await start()
    emu.inject({ procedure: 'deployment.all', kind: 'status', status: 429, headers: { 'retry-after': '2' }, after: 1 })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(0)
    const polls = emu.requests.filter((r) => r.procedure === 'deployment.all')
    const limited = polls.findIndex((r) => r.status === 429)
    expect(polls[limited + 1].at - polls[limited].at).toBeGreaterThanOrEqual(1900)
  })

  concurrent('truncated JSON on a query is asked again', async () => {
    const { emu, deployInputs } = await start()
    emu.inject({ procedure: 'deployment.all', kind: 'truncated', after: 1 })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(0)
    expect(run.stdout).toContain('deployment.all: truncated, retry')
  })
})

heading('one step, at most one deployment', () => {
  concurrent('the deploy is processed but its answer is lost (reset): found in the queue, not resent', async () => {
    const { emu, deployInputs, attempts, deploys } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 5000, holdBefore: endOnceShown(emu) }) // still queued or running when the step looks for it
    emu.inject({ procedure: 'application.deploy', kind: 'reset-after' })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(deploys()).toBe(1)
    expect(attempts('application.deploy')).toBe(1)
    expect(visibleLog(run)).toContain('Dokploy did receive it')
  })

  concurrent('the deploy answer is cut short (truncated JSON): not resent', async () => {
    const { emu, deployInputs, attempts, deploys } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 5000, holdBefore: endOnceShown(emu) }) // still queued or running when the step looks for it
    emu.inject({ procedure: 'application.deploy', kind: 'truncated' })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(0)
    expect(deploys()).toBe(1)
    expect(attempts('application.deploy')).toBe(1)
  })

  concurrent('the deploy answer never comes (request-timeout): found, not resent', async () => {
    const { emu, deployInputs, attempts, deploys } = await start()
    // 3 s of real time: past the real request-timeout and the look that follows it, at any time scale
    emu.setBuild(emu.ids.web, { durationMs: 3000 / emu.timeScale, holdBefore: endOnceShown(emu) })
    emu.inject({ procedure: 'application.deploy', kind: 'delay', ms: 2500 })
    const run = await runAction(deployInputs({ 'request-timeout': '1' }))
    expect(run.code).toBe(0)
    expect(deploys()).toBe(1)
    expect(attempts('application.deploy')).toBe(1)
    expect(visibleLog(run)).toContain('within the request timeout')
  })

  concurrent('the deploy connection is reset before Dokploy got it: the queue shows nothing, so it is sent once more', async () => {
    const { emu, deployInputs, attempts, deploys } = await start()
    emu.inject({ procedure: 'application.deploy', kind: 'reset-before' })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(0)
    expect(attempts('application.deploy')).toBe(2)
    expect(deploys()).toBe(1)
    expect(visibleLog(run)).toContain('never arrived. Sending it once more.')
  })

  concurrent('without a queue listing (v0.27) a lost deploy answer is not resent blind', async () => {
    const { emu, deployInputs, attempts } = await start()
    emu.setVersion('v0.27.0')
    emu.inject({ procedure: 'application.deploy', kind: 'reset-before' })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(1)
    expect(attempts('application.deploy')).toBe(1)
    expect(errorLine(run)).toContain('Not resending, which could deploy twice')
  })

  concurrent('a 502 on a mutation is never retried blind (a stop is confirmed through the status instead)', async () => {
    const { emu, deployInputs, attempts } = await start()
    emu.inject({ procedure: 'application.stop', kind: 'html', status: 502 })
    const run = await runAction(deployInputs({ operation: 'stop' }))
    // the emulator's html fault is not processed: the status shows the service was not stopped
    // a stop is idempotent: sent again rather than guessed from the status the previous run left
    expect(attempts('application.stop')).toBe(2)
    expect(run.code).toBe(0)
  })
})

heading('timeouts', () => {
  concurrent('a hung request does not hang the step past wait-timeout', async () => {
    const { emu, deployInputs, deploys } = await start()
    emu.inject({ procedure: 'deployment.all', kind: 'hang', times: Infinity })
    const run = await runAction(deployInputs({ 'wait-timeout': '4', 'request-timeout': '2', retries: '5' }))
    const ended = Date.now()
    expect(run.code).toBe(1)
    // from its first request (the step's own clock starts before it; Node's start-up, slow on a busy machine, is left out)
    expect(ended - emu.requests[0].at).toBeLessThan(4000 + 3000)
    expect(run.outputs.status).toBe('timeout')
    expect(deploys()).toBe(0)
  }, 20_000)
})

heading('no retry where it cannot help', () => {
  concurrent('Cloudflare 403 challenge: one attempt, says the runner is blocked', async () => {
    const { emu, deployInputs } = await start()
    emu.inject({ kind: 'cloudflare', times: Infinity })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(1)
    expect(emu.requests).toHaveLength(1)
    expect(errorLine(run)).toContain('Cloudflare blocked the request')
  })

  concurrent.each([301, 308])('%i redirect: not followed, the message names the status and Location', async (status) => {
    const { emu, deployInputs } = await start()
    emu.inject({ kind: 'redirect', status, location: 'https://dokploy.example.com/api/trpc/application.one' })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(1)
    expect(emu.requests).toHaveLength(1)
    expect(errorLine(run)).toContain(`${status} redirect to https://dokploy.example.com/api/trpc/application.one`)
    expect(errorLine(run)).toContain('set the url input to the final address')
  })

  concurrent('401 at the start: check the key', async () => {
    const { emu, deployInputs } = await start()
    const run = await runAction(deployInputs({ 'api-key': 'wrong-key-123456' }))
    expect(run.code).toBe(1)
    expect(emu.requests).toHaveLength(1)
    expect(errorLine(run)).toContain('Dokploy rejected the API key (401)')
    expect(errorLine(run)).toContain('check that the api-key secret is a valid, enabled, unexpired key')
  })

  concurrent('401 in the middle of a run: probably the rate limit', async () => {
    const { emu, deployInputs } = await start()
    emu.setRateLimit(emu.apiKey, 3)
    const run = await runAction(deployInputs())
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain('Do not re-run this step')
  })

  concurrent('404 for an unknown id: check the id', async () => {
    const { emu, deployInputs } = await start()
    const run = await runAction(deployInputs({ id: 'no-such-app' }))
    expect(run.code).toBe(1)
    // owners see an empty deployment list for any id (API.md §2): the deploy itself answers 404
    expect(emu.requests.filter((r) => r.status === 404)).toHaveLength(1)
    expect(errorLine(run)).toContain('application.deploy for applicationId "no-such-app" (404)')
    expect(errorLine(run)).toContain('check the id')
  })

  concurrent('400 with field errors lists them', async () => {
    const { emu, deployInputs, attempts } = await start()
    emu.inject({
      procedure: 'application.deploy',
      kind: 'status',
      status: 400,
      body: JSON.stringify({
        error: {
          json: {
            message: 'validation',
            code: -32600,
            data: { code: 'BAD_REQUEST', httpStatus: 400, path: 'application.deploy', zodError: { formErrors: [], fieldErrors: { title: ['Too big'] } } }
          }
        }
      })
    })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(1)
    expect(attempts('application.deploy')).toBe(1)
    expect(errorLine(run)).toContain('Dokploy rejected application.deploy (400): title: Too big')
  })

  concurrent('an HTML page with status 200: something else answered', async () => {
    const { emu, deployInputs } = await start()
    emu.inject({ kind: 'html-200' })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(1)
    expect(emu.requests).toHaveLength(1)
    expect(errorLine(run)).toMatch(/Expected JSON from Dokploy on deployment.all but got 200 text\/html/)
  })

  concurrent('connection refused: cannot reach, after the retries', async () => {
    const { emu } = await start()
    const url = emu.url
    await emu.close()
    const run = await runAction({ url, 'api-key': 'k-123456', id: 'x', retries: '1' })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain('Could not reach Dokploy at')
    expect(errorLine(run)).toContain('ECONNREFUSED')
  })
})

heading('requests per run', () => {
  concurrent('a plain deploy with wait takes few requests, reported under debug', async () => {
    const { emu, deployInputs } = await start()
    // the short build has ended when the step first looks at the rows after its deploy (however slowly either
    // side runs): the same requests every time
    emu.hook({ procedure: 'deployment.all', when: 'before', skip: 1, run: () => emu.until(() => emu.queueList().length === 0) })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(0)
    const count = debugCount(run.stdout)
    expect(count).toBe(emu.requests.length)
    expect(count).toBeLessThanOrEqual(8)
  })

  concurrent('a followed deploy that streams its log counts the socket’s upgrade among its requests', async () => {
    const { emu, deployInputs } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 1500, holdBefore: endOnceStreaming(emu) })
    const run = await runAction(deployInputs())
    expect(run.code).toBe(0)
    expect(emu.requests.filter((r) => r.api === 'websocket')).toHaveLength(1)
    expect(debugCount(run.stdout)).toBe(emu.requests.length)
    expect(run.stdout).toMatch(/Dokploy requests: \d+ \(\d+ retries\), \d+ B sent, \d+ B received; 1 of them log socket upgrade\(s\)/)
  })

  concurrent('a deploy by id with wait: false is the deploy alone: no project.all, the dashboard link is the projects page', async () => {
    const { emu, deployInputs } = await start()
    const run = await runAction(deployInputs({ wait: 'false' }))
    expect(run.code).toBe(0)
    expect(emu.requests.map((r) => r.procedure)).toEqual(['application.deploy'])
    expect(run.outputs['log-url']).toBe(`${emu.url}/dashboard/projects`)
  })

  concurrent('a synchronous stop by id is one request: no project.all, the dashboard link is the projects page', async () => {
    const { emu, deployInputs } = await start()
    const run = await runAction(deployInputs({ operation: 'stop' }))
    expect(run.code).toBe(0)
    expect(emu.requests.map((r) => r.procedure)).toEqual(['application.stop'])
    expect(run.outputs['log-url']).toBe(`${emu.url}/dashboard/projects`)
  })
})
