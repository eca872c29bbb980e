import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { annotations, emulators, runAction, type ActionRun } from './harness.js'

/**
 * Issue 17: where production Dokploy runs. Services on remote servers and builds on build servers: the log
 * lives on the row's buildServerId, else on the service's serverId (Dokploy never fills the row's own
 * serverId), readLogs never reads on a build server, and every server has its own build queue. Run
 * through dist/index.js on Node 24 against the emulator; each test has an emulator of its own, so that
 * they run at once.
 */
// builds long enough to be streamed from their start, however busy the machine
const { start: startEmulator, closeAll } = emulators({ buildMs: 4000 })
afterAll(closeAll)

async function start() {
  const emu = await startEmulator()
  const upgrades = () => emu.requests.filter((r) => r.api === 'websocket')
  return {
    emu,
    inputs: (extra: Record<string, string> = {}): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, ...extra }),
    upgrades,
    calls: (procedure: string) => emu.requests.filter((r) => r.procedure === procedure),
    rowOf: (run: ActionRun) => emu.deployments.find((d) => d.deploymentId === run.outputs['deployment-id'])
  }
}
const notices = (run: ActionRun): string[] => annotations(run, 'notice').map(({ message }) => message)
/** The build log's group, as the runner shows it (debug lines are off). */
function group(run: ActionRun): string[] {
  const all = run.stdout.split('\n')
  const at = all.findIndex((line) => line.startsWith('::group::Build log of '))
  if (at < 0) return []
  return all.slice(at + 1, all.indexOf('::endgroup::', at)).filter((line) => !line.startsWith('::debug::'))
}

heading('the live log of services on other servers', () => {
  concurrent('a deploy on a remote server streams live: the socket names the service’s serverId (the row has none)', async () => {
    const { emu, inputs, upgrades, rowOf } = await start()
    emu.placeService(emu.ids.web, { serverId: 'srv-remote-1' })
    const run = await runAction(inputs())
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    const row = rowOf(run)
    expect(row?.serverId).toBeNull()
    expect(upgrades()).toHaveLength(1)
    expect(upgrades()[0].input).toEqual({ logPath: row?.logPath, serverId: 'srv-remote-1' })
    expect(group(run)[0]).toBe('Initializing deployment')
    expect(group(run)).toContain('Docker Deployed: ✅')
    expect(notices(run)).toEqual([])
  })

  concurrent('a build on a build server streams live from the build server, not from where the service runs', async () => {
    const { emu, inputs, upgrades, rowOf } = await start()
    emu.placeService(emu.ids.web, { serverId: 'srv-remote-1', buildServerId: 'srv-build-1' })
    const run = await runAction(inputs())
    expect(run.code).toBe(0)
    expect(rowOf(run)?.buildServerId).toBe('srv-build-1')
    expect(upgrades()).toHaveLength(1)
    expect(upgrades()[0].input).toEqual({ logPath: rowOf(run)?.logPath, serverId: 'srv-build-1' })
    expect(group(run)).toContain('Docker Deployed: ✅')
    expect(notices(run)).toEqual([])
  })

  concurrent('a compose stack on a remote server streams live', async () => {
    const { emu, inputs, upgrades, rowOf } = await start()
    emu.placeService(emu.ids.stack, { serverId: 'srv-remote-2' })
    const run = await runAction(inputs({ resource: 'compose', id: emu.ids.stack }))
    expect(run.code).toBe(0)
    expect(upgrades()).toHaveLength(1)
    expect(upgrades()[0].input).toEqual({ logPath: rowOf(run)?.logPath, serverId: 'srv-remote-2' })
    expect(group(run)).toContain('Docker Deployed: ✅')
    expect(notices(run)).toEqual([])
  })
})

heading('the failure tail from the host that holds the log', () => {
  concurrent('log: tail on a remote server: readLogs reads it there', async () => {
    const { emu, inputs, upgrades, calls } = await start()
    emu.placeService(emu.ids.web, { serverId: 'srv-remote-1' })
    emu.setBuild(emu.ids.web, { durationMs: 4000, fail: 'npm ERR! boom' })
    const run = await runAction(inputs({ log: 'tail' }))
    expect(run.code).toBe(1)
    expect(calls('deployment.readLogs')).toHaveLength(1)
    expect(upgrades()).toHaveLength(0)
    expect(run.summary).toContain('npm ERR&#33; boom')
  })

  concurrent('log: tail on a build server: readLogs would read the wrong host, so the log socket reads the tail there', async () => {
    const { emu, inputs, upgrades, calls, rowOf } = await start()
    emu.placeService(emu.ids.web, { serverId: 'srv-remote-1', buildServerId: 'srv-build-1' })
    emu.setBuild(emu.ids.web, { durationMs: 4000, fail: 'npm ERR! boom' })
    const run = await runAction(inputs({ log: 'tail', 'log-lines': '3' }))
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expect(calls('deployment.readLogs')).toHaveLength(0)
    // one socket, after the row ended, on the build server
    expect(upgrades()).toHaveLength(1)
    expect(upgrades()[0].input).toEqual({ logPath: rowOf(run)?.logPath, serverId: 'srv-build-1' })
    expect(upgrades()[0].at).toBeGreaterThanOrEqual(emu.settledAt(rowOf(run)?.deploymentId as string) as number)
    expect(run.summary).toContain('npm ERR&#33; boom')
    expect(run.summary).toContain('Error occurred ❌, check the logs for details.')
    expect(run.summary).not.toContain('Initializing deployment')
    expect(group(run)).toEqual([])
  })

  concurrent('log: live on a build server: the stream held the whole log, and is the tail', async () => {
    const { emu, inputs, upgrades, calls } = await start()
    emu.placeService(emu.ids.web, { buildServerId: 'srv-build-1' })
    emu.setBuild(emu.ids.web, { durationMs: 4000, fail: 'npm ERR! boom' })
    const run = await runAction(inputs())
    expect(run.code).toBe(1)
    expect(calls('deployment.readLogs')).toHaveLength(0)
    expect(upgrades()).toHaveLength(1)
    expect(run.summary).toContain('npm ERR&#33; boom')
    expect(notices(run)).toEqual([])
  })
})

heading('queues per server', () => {
  concurrent('the queue position counts the builds on the service’s own server only', async () => {
    const { emu, inputs, upgrades, rowOf } = await start()
    emu.placeService(emu.ids.web, { serverId: 'srv-remote-1' })
    emu.placeService(emu.ids.api, { serverId: 'srv-remote-1' })
    // as the step makes its first request, Dokploy's own host gets two builds (one running, one waiting) and
    // srv-remote-1 one: ours waits behind that one only
    emu.setBuild(emu.ids.stack, { durationMs: 60_000 })
    emu.setBuild(emu.ids.blogWeb, { durationMs: 60_000 })
    emu.setBuild(emu.ids.api, { durationMs: 10_000 })
    emu.hook({
      procedure: 'deployment.all',
      when: 'before',
      run: () => {
        emu.webhookDeploy(emu.ids.stack)
        emu.webhookDeploy(emu.ids.blogWeb)
        emu.webhookDeploy(emu.ids.api)
      }
    })
    const run = await runAction(inputs())
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(run.stdout).toMatch(/^Queued: behind 1 other build\(s\) on this server\.$/m)
    expect(run.stdout).not.toMatch(/behind [23] other build/)
    expect(emu.queueList().filter((j) => j.state === 'active').map((j) => j.data.composeId ?? j.data.applicationId)).toEqual([emu.ids.stack])
    // its row was proven its own, and it streamed from the service's server
    expect(upgrades()[0].input).toEqual({ logPath: rowOf(run)?.logPath, serverId: 'srv-remote-1' })
  })
})
