import { afterAll, expect } from '@jest/globals'
import { concurrent, concurrentWithSignals, heading } from './at-once.js'
import type { EmulatorOptions } from '../emulator/server.js'
import { emulators, errorLine, runAction, visibleLog } from './harness.js'

/**
 * Issue 8: every promise under real timing. The emulator lags as Dokploy does (a job is active before its
 * row exists, a row turns done after its last log line and is overwritten after that), restarts, renumbers
 * its jobs, and sits behind proxies that answer without forwarding. Each case names the number.
 */
// Each test has an emulator of its own and runs beside the others. A race is staged on the step's own
// requests (a look held until builds ended, a build that ends once the key ran out), never on the clock.
const { start: startEmulator, closeAll } = emulators({ buildMs: 300 })
afterAll(closeAll)

const start = async (options: EmulatorOptions = {}) => {
  const emu = await startEmulator(options)
  return {
    emu,
    inputs: (extra: Record<string, string> = {}): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, ...extra }),
    rowsOf: (id: string) => emu.deployments.filter((d) => d.applicationId === id || d.composeId === id),
    rowById: (id: string) => emu.deployments.find((d) => d.deploymentId === id),
    deploys: (id = emu.ids.web): number => emu.stats().deployCalls[id] ?? 0
  }
}
/** The step's own deploys carry its reference in the description; a push's does not. */
const isOurs = (job: { data: Record<string, unknown> }): boolean => String(job.data.descriptionLog).includes(' · ref ')
heading('correlation: never a stranger’s deployment', () => {
  concurrent('1. a push active in the queue with no row yet; our build fails: the step reports its own error', async () => {
    const { emu, inputs, rowsOf } = await start({ rowLagMs: 600 })
    emu.setBuild(emu.ids.web, { durationMs: 400, rowLagMs: 600, fail: (job) => (isOurs(job) ? 'npm ERR! ours failed' : undefined) })
    // the push turns active as the step takes its snapshot, so its row is still missing from it
    let rowsAtSnapshot = -1
    emu.hook({ procedure: 'deployment.all', when: 'before', run: () => void emu.webhookDeploy(emu.ids.web) })
    emu.hook({ procedure: 'deployment.all', when: 'after', run: () => void (rowsAtSnapshot = rowsOf(emu.ids.web).length) })
    const run = await runAction(inputs())
    expect(rowsAtSnapshot).toBe(0)
    const [push, ours] = rowsOf(emu.ids.web)
    expect(push.status).toBe('done')
    expect(ours.status).toBe('error')
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expect(run.outputs['deployment-id']).toBe(ours.deploymentId)
  })

  concurrent('2. our deploy is lost before Dokploy saw it while a push of the service finishes: never reported as ours', async () => {
    // the push ends unseen: the step never looks before it has ended
    const { emu, inputs, deploys } = await start({ seenBuilds: false })
    emu.setBuild(emu.ids.web, { durationMs: 100 })
    emu.inject({ procedure: 'application.deploy', kind: 'reset-before' })
    let pushed = false
    // the step's look for its lost deploy is answered once the push has ended and left the queue
    emu.hook({ procedure: 'deployment.queueList', when: 'before', run: () => emu.until(() => pushed && emu.queueList().length === 0) })
    const run = await runAction(inputs(), {
      onStdout: (chunk) => {
        if (!pushed && chunk.includes('Checking whether Dokploy queued it')) {
          pushed = true
          emu.webhookDeploy(emu.ids.web)
        }
      }
    })
    expect(pushed).toBe(true)
    expect(deploys()).toBe(0)
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('unknown')
    expect(run.outputs['deployment-id']).toBe('')
    expect(errorLine(run)).toContain('Not resending')
  })

  concurrent('2. lost before Dokploy saw it, a push that ended before the deploy left: sent once more and followed', async () => {
    // the push ends before the step starts
    const { emu, inputs, rowsOf, deploys } = await start({ seenBuilds: false })
    emu.setBuild(emu.ids.web, { durationMs: 100 })
    emu.webhookDeploy(emu.ids.web)
    await emu.until(() => emu.queueList().length === 0 && rowsOf(emu.ids.web)[0]?.status === 'done')
    emu.inject({ procedure: 'application.deploy', kind: 'reset-before' })
    const run = await runAction(inputs())
    expect(run.code).toBe(0)
    expect(deploys()).toBe(1)
    expect(visibleLog(run)).toContain('it never arrived. Sending it once more.')
    expect(run.outputs['deployment-id']).toBe(rowsOf(emu.ids.web)[1].deploymentId)
  })

  concurrent('3. two steps with the same title deploy one service at once: each reports the status of its own row', async () => {
    const { emu, inputs, rowsOf, rowById } = await start()
    let first = true
    emu.setBuild(emu.ids.web, {
      durationMs: 1200,
      fail: () => {
        const fail = first ? 'the first one started fails' : undefined
        first = false
        return fail
      }
    })
    const [a, b] = await Promise.all([runAction(inputs({ title: 'release 1.2' })), runAction(inputs({ title: 'release 1.2' }))])
    expect(rowsOf(emu.ids.web)).toHaveLength(2)
    expect(new Set([a.outputs['deployment-id'], b.outputs['deployment-id']]).size).toBe(2)
    for (const run of [a, b]) {
      expect(run.outputs.status).toBe(rowById(run.outputs['deployment-id'])?.status)
      expect(run.code).toBe(run.outputs.status === 'done' ? 0 : 1)
    }
    expect([a.outputs.status, b.outputs.status].sort()).toEqual(['done', 'error'])
  })

  concurrent('4. a push starts between the step’s snapshot and its deploy; our short git build ends between two polls: done', async () => {
    const { emu, inputs, rowsOf } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 20, doneLagMs: 200 })
    // the stack's build holds the only build slot from the step's first request on, so ours ends unseen behind
    // it, between two polls: it ends as the step's second look at the queue arrives, which is answered once the
    // push and ours have both ended and left the queue
    emu.setBuild(emu.ids.stack, { durationMs: 5800, hang: true })
    emu.hook({ procedure: 'deployment.all', when: 'before', run: () => void emu.webhookDeploy(emu.ids.stack) })
    emu.hook({ procedure: 'deployment.all', when: 'after', run: () => void emu.webhookDeploy(emu.ids.web) })
    emu.hook({
      procedure: 'deployment.queueList',
      when: 'before',
      skip: 1,
      run: () => {
        emu.endBuild(emu.ids.stack)
        return emu.until(() => emu.queueList().length === 0)
      }
    })
    const run = await runAction(inputs({ 'poll-interval': '5' }))
    const [push, ours] = rowsOf(emu.ids.web)
    expect(ours.title).not.toContain('Deploy #42')
    expect(visibleLog(run)).not.toContain('matched by the reference') // overwritten before the step saw it
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(run.outputs['deployment-id']).toBe(ours.deploymentId)
    expect(run.outputs['deployment-id']).not.toBe(push.deploymentId)
  })

  concurrent('5. after a restart job ids start again at job-1: a remembered id never leads to a stranger’s job', async () => {
    const { emu, inputs, rowsOf } = await start()
    emu.setBuild(emu.ids.stack, { hang: true })
    emu.setBuild(emu.ids.web, { durationMs: 100 })
    emu.webhookDeploy(emu.ids.stack) // job-1, holds the slot; ours is job-2
    let restarted = false
    const run = await runAction(inputs(), {
      onStdout: (chunk) => {
        if (!restarted && chunk.includes('Queued:')) {
          restarted = true
          // a real restart refuses connections for about 8 s (API.md §10)
          void emu.restart({ downMs: 2000 }).then(() => {
            emu.setBuild(emu.ids.stack, { durationMs: 50 })
            emu.webhookDeploy(emu.ids.stack) // job-1 again
            emu.webhookDeploy(emu.ids.web) // job-2 again: a stranger with our old id
          })
        }
      }
    })
    expect(restarted).toBe(true)
    const strangers = rowsOf(emu.ids.web)
    expect(strangers).toHaveLength(1)
    expect(run.code).toBe(1)
    expect(['lost', 'unknown']).toContain(run.outputs.status)
    expect(run.outputs['deployment-id']).not.toBe(strangers[0].deploymentId)
  }, 40_000)
})

heading('never twice', () => {
  concurrent.each([
    ['the connection resets after Dokploy queued it', { kind: 'reset-after' as const }, {}],
    ['a proxy holds the answer past a short request-timeout', { kind: 'delay' as const, ms: 3000 }, { 'request-timeout': '1' }],
    ['a proxy holds the answer past a long request-timeout', { kind: 'delay' as const, ms: 6000 }, { 'request-timeout': '5' }]
  ])('6. wait: false, %s, a fast git build ends before the check: exactly one deployment', async (_label, fault, extra) => {
    // the build ends unseen: before the step's first look
    const { emu, inputs, rowsOf, deploys } = await start({ seenBuilds: false })
    emu.setBuild(emu.ids.web, { durationMs: 30 })
    emu.inject({ procedure: 'application.deploy', ...fault })
    // the build ends before the check: the step's look at the queue is answered once it has left
    emu.hook({ procedure: 'deployment.queueList', when: 'before', run: () => emu.until(() => deploys() === 1 && emu.queueList().length === 0) })
    const run = await runAction(inputs({ wait: 'false', ...extra }))
    await emu.sleep(300)
    expect(deploys()).toBe(1)
    expect(rowsOf(emu.ids.web)).toHaveLength(1)
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('unknown')
  }, 30_000)
})

heading('no false success for synchronous operations', () => {
  concurrent.each<[string, Record<string, string>]>([
    ['application.start', { operation: 'start' }],
    ['application.reload', { operation: 'reload' }],
    ['postgres.deploy', { resource: 'postgres', id: 'PG' }]
  ])('7. a proxy answers %s with an HTML 502 without forwarding it: sent again, and it really runs', async (procedure, extra) => {
    const { emu, inputs, deploys } = await start()
    const id = extra.id === 'PG' ? emu.ids.postgres : emu.ids.web
    const kind = extra.resource ?? 'application'
    const service = emu.state.find(kind as 'application', id)
    if (service) service.applicationStatus = 'done' // the previous run's status must not pass for this one
    emu.inject({ procedure, kind: 'html', status: 502 })
    const run = await runAction(inputs({ ...extra, id }))
    const calls = emu.requests.filter((r) => r.procedure === procedure)
    expect(calls.map((r) => r.status)).toEqual([502, 200])
    expect(run.code).toBe(0)
    if (procedure === 'postgres.deploy') expect(deploys(id)).toBe(1)
  })

  concurrent('7. a proxy that never forwards start: the step fails with unknown, never done', async () => {
    const { emu, inputs } = await start()
    emu.inject({ procedure: 'application.start', kind: 'html', status: 502, times: Infinity })
    const run = await runAction(inputs({ operation: 'start', retries: '1' }))
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('unknown')
    expect(errorLine(run)).toContain('whether it ran is unknown')
  })

  concurrent('24. stop: Dokploy does not report a failed stop, and the step says so', async () => {
    const { inputs } = await start()
    const run = await runAction(inputs({ operation: 'stop' }))
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('idle')
    expect(visibleLog(run)).toContain('Dokploy does not report a stop that failed')
  })
})

heading('waiting through trouble', () => {
  concurrent('8. a network blip while following (more failed polls than the retries): the wait goes on to done', async () => {
    const { emu, inputs } = await start()
    // long enough to be running still when the polls are answered again, however the retries' jitter falls
    emu.setBuild(emu.ids.web, { durationMs: 15_000 })
    emu.inject({ procedure: 'deployment.all', kind: 'reset-before', after: 2, times: 5 })
    const run = await runAction(inputs({ retries: '1', 'poll-interval': '1' }))
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(visibleLog(run)).toContain('Dokploy is not answering')
    expect(visibleLog(run)).toMatch(/Dokploy answers again after/)
  }, 30_000)

  concurrentWithSignals('9. deployment-id is set as soon as the row is proven, and stays set when the runner cancels', async () => {
    const { emu, inputs, rowsOf } = await start()
    emu.setBuild(emu.ids.web, { hang: true })
    const run = await runAction(inputs(), {
      onStdout: (chunk, child) => {
        if (chunk.includes('Build started: deployment')) child.kill('SIGINT')
      }
    })
    expect(run.outputs.status).toBe('cancelled-by-runner')
    expect(run.outputs['deployment-id']).toBe(rowsOf(emu.ids.web)[0].deploymentId)
    expect(run.summary).toContain(rowsOf(emu.ids.web)[0].deploymentId)
  })

  concurrent.each([['refuse' as const], ['proxy-502' as const]])('22. Dokploy restarts while the step follows (%s): cancelled, as the server shows, no url hint', async (down) => {
    const { emu, inputs, rowsOf } = await start()
    emu.setBuild(emu.ids.web, { hang: true })
    let restarted = false
    const run = await runAction(inputs({ retries: '1' }), {
      onStdout: (chunk) => {
        if (!restarted && chunk.includes('Build started: deployment')) {
          restarted = true
          void emu.restart({ downMs: 3000, down })
        }
      }
    })
    expect(run.outputs.status).toBe('cancelled')
    expect(run.outputs['deployment-id']).toBe(rowsOf(emu.ids.web)[0].deploymentId)
    expect(run.stdout).not.toContain('check the url')
    expect(errorLine(run)).toContain('Dokploy cancels running deployments when it restarts')
  }, 30_000)

  concurrent('23. the key’s rate limit runs out after the deploy was queued: status unknown, and do not re-run', async () => {
    const { emu, inputs, deploys } = await start()
    // the build outlasts the key: it ends only once Dokploy has rejected the key
    emu.setBuild(emu.ids.web, { durationMs: 5000, holdBefore: (event) => (event === 'end' ? emu.until(() => emu.stats().unauthorized > 0, 20_000) : undefined) })
    emu.setRateLimit(emu.apiKey, 4)
    const run = await runAction(inputs())
    expect(deploys()).toBe(1)
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('unknown')
    expect(errorLine(run)).toContain('Do not re-run this step')
  })
})

heading('secrets the action never read', () => {
  concurrent('12. a build log that prints a connection string and a 500 that repeats a database password are masked', async () => {
    const { emu, inputs } = await start()
    const web = emu.state.find('application', emu.ids.web)
    const url = /DATABASE_URL=(\S+)/.exec(String(web?.env))?.[1] ?? ''
    expect(url).toContain('S3CR3T')
    emu.setBuild(emu.ids.web, { durationMs: 100, echo: [`connecting to ${url}`], fail: `cannot reach ${url}` })
    const failed = await runAction(inputs({ 'log-lines': '20' })) // the harness fails the test on any leaked marker
    expect(failed.code).toBe(1)
    expect(failed.summary).toContain('connecting to')

    const password = String(emu.state.find('postgres', emu.ids.postgres)?.databasePassword)
    emu.dbDeploy(emu.ids.postgres, { fail: `FATAL: password authentication failed (${password})` })
    const db = await runAction(inputs({ resource: 'postgres', id: emu.ids.postgres }))
    expect(db.code).toBe(1)
    expect(db.outputs.status).toBe('error')
    expect(errorLine(db)).toContain('password authentication failed')
  })
})
