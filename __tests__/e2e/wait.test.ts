import { afterAll, expect } from '@jest/globals'
import { concurrent, concurrentWithSignals, heading } from './at-once.js'
import type { EmulatorOptions } from '../emulator/server.js'
import { emulators, errorLine, runAction, visibleLog, type Emulator } from './harness.js'

/**
 * Issue 3: the step reports the deployment its own call created, whatever else the server is doing.
 * Each test has an emulator of its own and runs beside the others; races are staged on the step's own
 * requests (a build that waits for the step's look at the queue, a poll held until builds ended), never on
 * the clock, so they come out the same on a busy machine.
 */
const { start: startEmulator, closeAll } = emulators({ buildMs: 300 })
afterAll(closeAll)

const start = async (options: EmulatorOptions = {}) => {
  const emu = await startEmulator(options)
  return {
    emu,
    inputs: (extra: Record<string, string> = {}): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, ...extra }),
    rowsOf: (serviceId: string) => emu.deployments.filter((d) => d.applicationId === serviceId || d.composeId === serviceId)
  }
}
const ourTitle = '1a2b3c4 · Deploy #42'
/** The step's own deploys carry its reference in the description; a push's does not. */
const isOurs = (job: { data: Record<string, unknown> }): boolean => String(job.data.descriptionLog).includes(' · ref ')
/** Resolves once the step's `nth` request (from 1) to `procedure` was processed, just before it is answered. */
const answered = (emu: Emulator, procedure: string, nth = 1): Promise<void> =>
  new Promise((resolve) => emu.hook({ procedure, when: 'after', skip: nth - 1, run: () => resolve() }))

/**
 * As the step's first request arrives: another service's build that holds the only build slot, and a push
 * of ours queued behind it. The step sees its job waiting behind both; then, as its `nth` request to
 * `procedure` arrives, the long build ends and the push and our 20 ms build run and end, overwritten, before
 * that request is answered: both end between two of the step's looks, however slowly either side runs.
 */
function stageLongBuildThenPush(emu: Emulator, procedure: string, nth: number): void {
  emu.setBuild(emu.ids.stack, { durationMs: 5800, hang: true })
  emu.setBuild(emu.ids.web, { durationMs: 20, doneLagMs: 200 })
  emu.hook({
    procedure: 'deployment.all',
    when: 'before',
    run: () => {
      emu.webhookDeploy(emu.ids.stack, { title: 'compose push' })
      emu.webhookDeploy(emu.ids.web, { title: 'feat: webhook first' })
    }
  })
  emu.hook({
    procedure,
    when: 'before',
    skip: nth - 1,
    run: () => {
      emu.endBuild(emu.ids.stack)
      return emu.until(() => emu.queueList().length === 0)
    }
  })
}

heading('its own deployment', () => {
  concurrent('a webhook deployment queued just before the call runs first; the step follows its own, behind it', async () => {
    const { emu, inputs, rowsOf } = await start()
    // the push builds until the step has seen its own job waiting behind it
    const seenQueued = answered(emu, 'deployment.queueList')
    emu.setBuild(emu.ids.web, { durationMs: 1200, holdBefore: (event, job) => (event === 'end' && !isOurs(job) ? seenQueued : undefined) })
    // queued as the step's deploy arrives, so it is still building whatever the step's start-up took
    emu.hook({ procedure: 'application.deploy', when: 'before', run: () => emu.webhookDeploy(emu.ids.web, { title: 'feat: pushed just before' }) })
    const run = await runAction(inputs())

    expect(run.code).toBe(0)
    const rows = rowsOf(emu.ids.web)
    expect(rows).toHaveLength(2)
    const [webhook, ours] = rows
    expect(run.outputs['deployment-id']).toBe(ours.deploymentId)
    expect(run.outputs['deployment-id']).not.toBe(webhook.deploymentId)
    expect(run.outputs.status).toBe('done')
    // by its reference while it runs, or, when a busy machine's poll came after the commit overwrote it,
    // as the first row started after its job turned active: either proves it, neither is the push's
    expect(visibleLog(run)).toMatch(/matched by the reference this step put in its description|matched as the first deployment of this service started after this step's queue job/)
    expect(visibleLog(run)).toContain('Queued: behind 1 other build(s) on this server.')
  })

  concurrent('a webhook deployment queued just after the call runs second; the step reports the first', async () => {
    const { emu, inputs, rowsOf } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 800 })
    let pushed = false
    const run = await runAction(inputs(), {
      onStdout: (chunk) => {
        if (!pushed && chunk.includes('Dokploy queued the deploy')) {
          pushed = true
          emu.webhookDeploy(emu.ids.web, { title: 'fix: pushed just after' })
        }
      }
    })

    expect(pushed).toBe(true)
    expect(run.code).toBe(0)
    const [ours] = rowsOf(emu.ids.web)
    expect(run.outputs['deployment-id']).toBe(ours.deploymentId)
    expect(emu.queueList().length + rowsOf(emu.ids.web).length).toBeGreaterThanOrEqual(2)
  })

  concurrent('a deployment that ends between two polls with its title already overwritten is found by queue order', async () => {
    const { emu, inputs, rowsOf } = await start()
    // another service's long build holds the queue; then a webhook job and ours wait behind it, and both end
    // before the step's second look at the queue is answered
    stageLongBuildThenPush(emu, 'deployment.queueList', 2)
    const run = await runAction(inputs({ 'poll-interval': '5' }))

    expect(run.code).toBe(0)
    const [webhook, ours] = rowsOf(emu.ids.web)
    // both git builds ended before the step saw them: neither carries the title sent any more
    expect(ours.title).not.toBe(ourTitle)
    expect(run.outputs['deployment-id']).toBe(ours.deploymentId)
    expect(run.outputs['deployment-id']).not.toBe(webhook.deploymentId)
    expect(visibleLog(run)).toContain('matched by its place among this service\'s builds queued with this step\'s job')
  })

  concurrent('without a queue listing (v0.27), two finished rows with overwritten titles: unknown, never done', async () => {
    // both builds end unseen: the step has no queue to see them in, and is shown no row before they ended
    const { emu, inputs, rowsOf } = await start({ seenBuilds: false })
    emu.setVersion('v0.27.0')
    // the step's first look at the rows (after its snapshot) finds none; both end before its next look is answered
    stageLongBuildThenPush(emu, 'deployment.all', 3)
    const run = await runAction(inputs({ 'poll-interval': '5' }))

    expect(rowsOf(emu.ids.web).map((row) => row.status)).toEqual(['done', 'done'])
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('unknown')
    expect(run.outputs['deployment-id']).toBe('')
    expect(errorLine(run)).toContain('its outcome cannot be proven')
    expect(errorLine(run)).toContain('before v0.28.3')
    expect(emu.stats().deployCalls[emu.ids.web]).toBe(1)
  })

  concurrent('a build queued behind another service says so, then follows its own to done', async () => {
    const { emu, inputs, rowsOf } = await start()
    // the other build ends once the step has seen its job waiting behind it
    const seenQueued = answered(emu, 'deployment.queueList')
    emu.setBuild(emu.ids.stack, { durationMs: 2000, holdBefore: (event) => (event === 'end' ? seenQueued : undefined) })
    emu.hook({ procedure: 'deployment.all', when: 'before', run: () => emu.webhookDeploy(emu.ids.stack, { title: 'compose push' }) })
    const run = await runAction(inputs())

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(visibleLog(run)).toContain('Queued: behind 1 other build(s) on this server.')
    expect(run.outputs['deployment-id']).toBe(rowsOf(emu.ids.web)[0].deploymentId)
  })
})

heading('queued, lost, stuck', () => {
  concurrent('a job lost from the queue (server restart) fails with status lost', async () => {
    const { emu, inputs, rowsOf } = await start()
    emu.setBuild(emu.ids.stack, { hang: true })
    emu.webhookDeploy(emu.ids.stack, { title: 'compose push' })
    let restarted = false
    const run = await runAction(inputs(), {
      onStdout: (chunk) => {
        if (!restarted && chunk.includes('Queued: behind')) {
          restarted = true
          emu.restart()
        }
      }
    })

    expect(restarted).toBe(true)
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('lost')
    expect(errorLine(run)).toContain('neither in the build queue nor in the deployment list')
    expect(rowsOf(emu.ids.web)).toHaveLength(0)
  }, 40_000)

  concurrent('a build that never ends times out after wait-timeout, with the elapsed time and the log tail', async () => {
    const { emu, inputs, rowsOf } = await start()
    emu.setBuild(emu.ids.web, { hang: true })
    const run = await runAction(inputs({ 'wait-timeout': '4', 'log-lines': '3' }))
    const ended = Date.now()

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('timeout')
    expect(run.outputs['deployment-id']).toBe(rowsOf(emu.ids.web)[0].deploymentId)
    expect(errorLine(run)).toMatch(/Still running when the step stopped waiting after \d+s \(wait-timeout\): deployment .* was still running/)
    expect(run.stdout).toMatch(/::group::Deployment \S+: still running when the step stopped waiting/)
    expect(run.summary).toContain('Last 3 lines of the build log')
    // from its first request (the step's clock starts before it; Node's start-up, slow on a busy machine, is left out)
    expect(ended - emu.requests[0].at).toBeLessThan(4000 + 5000)
    // the action never kills builds: killBuild is host-wide
    expect(emu.requests.some((r) => /killBuild|cancelDeployment/.test(r.procedure ?? ''))).toBe(false)
  }, 20_000)

  concurrent('a build that never starts times out as well, saying it had not started', async () => {
    const { emu, inputs } = await start()
    emu.setBuild(emu.ids.stack, { hang: true })
    emu.webhookDeploy(emu.ids.stack, { title: 'compose push' })
    const run = await runAction(inputs({ 'wait-timeout': '3' }))
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('timeout')
    expect(errorLine(run)).toContain('the build had not started')
  }, 20_000)
})

heading('failure diagnostics', () => {
  concurrent('on error: errorMessage and the last log-lines lines, in a group and in the summary', async () => {
    const { emu, inputs } = await start()
    emu.setBuild(emu.ids.web, { durationMs: 200, fail: 'Dockerfile:12 RUN npm ci exited with 1' })
    // log: tail, the path that reads the tail with readLogs (the live log's own tail is in live.test.ts)
    const run = await runAction(inputs({ 'log-lines': '4', log: 'tail' }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    const group = run.stdout.slice(run.stdout.indexOf('::group::'), run.stdout.indexOf('::endgroup::'))
    expect(group).toContain('Dockerfile:12 RUN npm ci exited with 1')
    expect(group.split('\n').filter((line) => line.startsWith('│ ')).length).toBeGreaterThanOrEqual(4)
    expect(run.summary).toContain('Dockerfile:12 RUN npm ci exited with 1')
    expect(run.summary).toContain('Last 4 lines of the build log')
    const readLogs = emu.requests.find((r) => r.procedure === 'deployment.readLogs')
    expect(readLogs?.input).toMatchObject({ tail: 4 })
  })

  concurrent('a server without deployment.readLogs (v0.29.0) still fails cleanly, without the tail', async () => {
    const { emu, inputs } = await start()
    emu.setVersion('v0.29.0')
    emu.setBuild(emu.ids.web, { durationMs: 200, fail: 'build failed' })
    const run = await runAction(inputs({ log: 'tail' }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expect(visibleLog(run)).toContain('cannot return build logs')
    expect(run.summary).not.toContain('<details>')
  })

  concurrent('a server without deployment.queueList (v0.27.0) follows the row that carries its reference', async () => {
    const { emu, inputs, rowsOf } = await start()
    emu.setVersion('v0.27.0')
    // the build ends (and its description is overwritten) only once the step has been shown its row running
    let shown!: () => void
    const rowShown = new Promise<void>((resolve) => (shown = resolve))
    emu.hook({ procedure: 'deployment.all', when: 'after', times: Infinity, run: () => void (rowsOf(emu.ids.web).length > 0 && shown()) })
    emu.setBuild(emu.ids.web, { durationMs: 5000, holdBefore: (event) => (event === 'end' ? rowShown : undefined) })
    const run = await runAction(inputs())
    expect(run.code).toBe(0)
    expect(run.outputs['deployment-id']).toBe(rowsOf(emu.ids.web)[0].deploymentId)
    expect(emu.requests.filter((r) => r.procedure === 'deployment.queueList' && r.status === 200)).toHaveLength(0)
  })
})

heading('databases', () => {
  concurrent('a database deploy cut by a proxy (524) is followed through the status until done', async () => {
    const { emu } = await start()
    // the deploy ends only once the step, told of the cut, has read the status (running): it outlasts the
    // step's reaction however slowly the step runs
    emu.dbDeploy(emu.ids.postgres, { durationMs: 2500, holdEnd: () => answered(emu, 'postgres.one') })
    // faults act in real time: the cut comes well before the deploy ends, at any time scale
    emu.inject({ procedure: 'postgres.deploy', kind: 'cut-after', ms: 100 })
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, resource: 'postgres', id: emu.ids.postgres })

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(visibleLog(run)).toContain('524')
    expect(visibleLog(run)).toContain('only the status is read')
    expect(emu.stats().deployCalls[emu.ids.postgres]).toBe(1)
  })

  concurrent('a database deploy cut by a proxy that then fails ends with status error', async () => {
    const { emu } = await start()
    emu.dbDeploy(emu.ids.mongo, { durationMs: 1500, fail: 'mongod exited', holdEnd: () => answered(emu, 'mongo.one') })
    emu.inject({ procedure: 'mongo.deploy', kind: 'cut-after', ms: 100 })
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, resource: 'mongo', id: emu.ids.mongo })

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expect(emu.stats().deployCalls[emu.ids.mongo]).toBe(1)
  })
})

heading('cancellation', () => {
  concurrentWithSignals('SIGINT during the wait stops at once, writes outputs and summary, exits non-zero', async () => {
    const { emu, inputs } = await start()
    emu.setBuild(emu.ids.web, { hang: true })
    let sentAt = 0
    const run = await runAction(inputs(), {
      killAfterMs: 15_000,
      onStdout: (chunk, child) => {
        if (!sentAt && chunk.includes('Build started:')) {
          sentAt = Date.now()
          child.kill('SIGINT')
        }
      }
    })

    expect(sentAt).toBeGreaterThan(0)
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('cancelled-by-runner')
    expect(run.outputs['resource-id']).toBe(emu.ids.web)
    expect(run.summary).toContain('cancelled-by-runner')
    // well within the runner's 7.5 s grace
    expect(run.ms - (sentAt - (Date.now() - run.ms))).toBeLessThan(7500)
  }, 20_000)
})
