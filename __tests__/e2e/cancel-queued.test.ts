import { afterAll, expect } from '@jest/globals'
import { concurrent, concurrentWithSignals, heading } from './at-once.js'
import { emulators, errorLine, runAction, type ActionRun, type Emulator, type RunOptions } from './harness.js'

/**
 * Issue 19: a step cancelled by the runner (SIGINT, as `concurrency: cancel-in-progress` does), or whose
 * wait-timeout ends, while its own deploy still waits in Dokploy's queue takes that deploy back: only when
 * every waiting job of the service is its own, since Dokploy's cleanQueues removes them all at once.
 * Each test has an emulator of its own, so that they run at once.
 */
const { start: startEmulator, closeAll } = emulators({ buildMs: 1500 })
afterAll(closeAll)

async function start() {
  const emu = await startEmulator()
  // another service's build holds Dokploy's only build slot: what the step queues waits behind it
  emu.setBuild(emu.ids.stack, { hang: true })
  emu.webhookDeploy(emu.ids.stack)
  const inputs = (extra: Record<string, string> = {}): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, ...extra })
  return {
    emu,
    inputs,
    waiting: (serviceId: string) => emu.queueList().filter((job) => Object.values(job.data).includes(serviceId) && job.state === 'waiting'),
    cleans: (serviceId: string): number => emu.stats().cleanQueuesCalls[serviceId] ?? 0,
    stackStillBuilds: (): void => {
      expect(emu.queueList().find((job) => job.data.composeId === emu.ids.stack)?.state).toBe('active')
    },
    cancelled: (extra: Record<string, string>, when: RegExp, options: RunOptions = {}) => cancelled(inputs(extra), when, options),
    /** The slot is free (the stack's build is not in the way) and the step's own build runs when it is cancelled. */
    runAlone: async () => {
      await emu.restart()
      return cancelled(inputs(), /Build started: deployment/)
    }
  }
}

/** A key whose user lacks `deployment: cancel`: Dokploy answers cleanQueues 401, as its permission check does. */
function refuseCleanQueues(emu: Emulator): void {
  const body = JSON.stringify({ error: { json: { message: 'unauthorized to access resource "deployment"', code: -32001, data: { code: 'UNAUTHORIZED', httpStatus: 401, path: 'application.cleanQueues' } } } })
  emu.inject({ procedure: 'application.cleanQueues', kind: 'status', status: 401, body })
}

/** Runs the step and cancels it (SIGINT) once it prints a line matching `when`; resolves with the run and how long it took from the signal to the exit. */
async function cancelled(inputs: Record<string, string>, when: RegExp, options: RunOptions = {}): Promise<{ run: ActionRun; afterSignalMs: number }> {
  let signalAt = 0
  const run = await runAction(inputs, {
    killAfterMs: 20_000,
    ...options,
    onStdout: (chunk, child) => {
      if (!signalAt && when.test(chunk)) {
        signalAt = Date.now()
        child.kill('SIGINT')
      }
    }
  })
  expect(signalAt).toBeGreaterThan(0)
  return { run, afterSignalMs: Date.now() - signalAt }
}

heading('the runner cancels the step while its deploy waits', () => {
  concurrentWithSignals('behind another service’s build: its job is removed, the other build carries on', async () => {
    const { emu, waiting, cleans, stackStillBuilds, cancelled } = await start()
    const { run, afterSignalMs } = await cancelled({}, /Queued: behind 1 other build/)

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('cancelled-by-runner')
    expect(cleans(emu.ids.web)).toBe(1)
    expect(waiting(emu.ids.web)).toEqual([])
    stackStillBuilds()
    expect(errorLine(run)).toContain("When the runner cancelled the job, the step removed its queued deploy from Dokploy's queue.")
    expect(run.summary).toContain('removed its queued deploy from Dokploy&#39;s queue')
    // the take-back and the report fit well inside the runner's 7.5 s grace (generous: the machine may be busy)
    expect(afterSignalMs).toBeLessThan(7500)
  })

  concurrentWithSignals('together with a push deploy of the same service: nothing is removed, and the push is named', async () => {
    const { emu, waiting, cleans, cancelled } = await start()
    emu.webhookDeploy(emu.ids.web, { title: 'feat: checkout v2' })
    const { run } = await cancelled({}, /Queued: behind 2 other build/)

    expect(run.outputs.status).toBe('cancelled-by-runner')
    expect(cleans(emu.ids.web)).toBe(0)
    // the push and the step's own job are both still waiting
    expect(waiting(emu.ids.web)).toHaveLength(2)
    expect(errorLine(run)).toContain('When the runner cancelled the job, the step left the queue: other deploys of this service were waiting ("feat: checkout v2")')
  })

  concurrentWithSignals('its build already running: nothing is removed, and the message says so', async () => {
    const { emu, cleans, runAlone } = await start()
    emu.setBuild(emu.ids.web, { hang: true })
    const { run } = await runAlone()
    expect(run.outputs.status).toBe('cancelled-by-runner')
    expect(cleans(emu.ids.web)).toBe(0)
    expect(errorLine(run)).toContain('When the runner cancelled the job, its build had already started; Dokploy cannot stop a running build.')
  })

  concurrentWithSignals('a key without the permission: a clear message, and the step still ends within the grace period', async () => {
    const { emu, waiting, cancelled } = await start()
    refuseCleanQueues(emu)
    const { run, afterSignalMs } = await cancelled({}, /Queued: behind 1 other build/)

    expect(run.outputs.status).toBe('cancelled-by-runner')
    expect(waiting(emu.ids.web)).toHaveLength(1)
    expect(errorLine(run)).toContain('When the runner cancelled the job, its queued deploy could not be removed: Dokploy refused application.cleanQueues')
    expect(errorLine(run)).toContain("the key's user lacks rights on this service")
    expect(afterSignalMs).toBeLessThan(7500)
  })

  concurrentWithSignals('cancel-queued: false: nothing is removed', async () => {
    const { emu, waiting, cleans, cancelled } = await start()
    const { run } = await cancelled({ 'cancel-queued': 'false' }, /Queued: behind 1 other build/)
    expect(run.outputs.status).toBe('cancelled-by-runner')
    expect(cleans(emu.ids.web)).toBe(0)
    expect(waiting(emu.ids.web)).toHaveLength(1)
    expect(errorLine(run)).not.toContain('When the runner cancelled the job')
  })

  concurrentWithSignals('several targets: each is taken back on its own', async () => {
    const { emu, waiting, cleans, stackStillBuilds, cancelled } = await start()
    const { run } = await cancelled({ id: `${emu.ids.web}\n${emu.ids.api}` }, /\[[^\]]+\] Queued: behind 2 other build/)
    expect(run.outputs.status).toBe('cancelled-by-runner')
    expect(cleans(emu.ids.web)).toBe(1)
    expect(cleans(emu.ids.api)).toBe(1)
    expect(waiting(emu.ids.web)).toEqual([])
    expect(waiting(emu.ids.api)).toEqual([])
    stackStillBuilds()
  })
})

heading('wait-timeout ends while its deploy waits', () => {
  concurrent('its job is removed; the status stays timeout, and the message does not claim Dokploy may still build it', async () => {
    const { emu, inputs, waiting, cleans, stackStillBuilds } = await start()
    const run = await runAction(inputs({ 'wait-timeout': '3' }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('timeout')
    expect(cleans(emu.ids.web)).toBe(1)
    expect(waiting(emu.ids.web)).toEqual([])
    stackStillBuilds()
    expect(errorLine(run)).toMatch(/^Still queued when the step stopped waiting after \d+s \(wait-timeout\): the build had not started\. When wait-timeout ended, the step removed its queued deploy from Dokploy's queue\.$/)
  })

  concurrent('together with a push deploy of the same service: nothing is removed, and the push is named', async () => {
    const { emu, inputs, waiting, cleans } = await start()
    emu.webhookDeploy(emu.ids.web, { title: 'feat: checkout v2' })
    const run = await runAction(inputs({ 'wait-timeout': '3' }))
    expect(run.outputs.status).toBe('timeout')
    expect(cleans(emu.ids.web)).toBe(0)
    expect(waiting(emu.ids.web)).toHaveLength(2)
    expect(errorLine(run)).toContain('When wait-timeout ended, the step left the queue: other deploys of this service were waiting ("feat: checkout v2")')
  })

  concurrent('its build already running: nothing is removed, and the message says so', async () => {
    const { emu, inputs, cleans } = await start()
    await emu.restart()
    emu.setBuild(emu.ids.web, { hang: true })
    const run = await runAction(inputs({ 'wait-timeout': '3' }))
    expect(run.outputs.status).toBe('timeout')
    expect(cleans(emu.ids.web)).toBe(0)
    expect(errorLine(run)).toContain('When wait-timeout ended, its build had already started; Dokploy cannot stop a running build.')
  })

  concurrent('a key without the permission: a clear message', async () => {
    const { emu, inputs, waiting } = await start()
    refuseCleanQueues(emu)
    const run = await runAction(inputs({ 'wait-timeout': '3' }))
    expect(run.outputs.status).toBe('timeout')
    expect(waiting(emu.ids.web)).toHaveLength(1)
    expect(errorLine(run)).toContain('When wait-timeout ended, its queued deploy could not be removed: Dokploy refused application.cleanQueues')
  })

  concurrent('several targets: each is taken back on its own', async () => {
    const { emu, inputs, waiting, cleans, stackStillBuilds } = await start()
    const run = await runAction(inputs({ id: `${emu.ids.web}\n${emu.ids.api}`, 'wait-timeout': '3' }))
    expect(run.outputs.status).toBe('timeout')
    expect(cleans(emu.ids.web)).toBe(1)
    expect(cleans(emu.ids.api)).toBe(1)
    expect(waiting(emu.ids.web)).toEqual([])
    expect(waiting(emu.ids.api)).toEqual([])
    stackStillBuilds()
  })

  concurrent('cancel-queued: false leaves it queued', async () => {
    const { emu, inputs, waiting, cleans } = await start()
    const run = await runAction(inputs({ 'wait-timeout': '3', 'cancel-queued': 'false' }))
    expect(run.outputs.status).toBe('timeout')
    expect(cleans(emu.ids.web)).toBe(0)
    expect(waiting(emu.ids.web)).toHaveLength(1)
  })
})
