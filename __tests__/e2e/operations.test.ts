import { afterAll, describe, expect, test } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { emulators, errorLine, runAction, visibleLog, type Emulator } from './harness.js'

/**
 * Every resource × operation Dokploy has, through dist/index.js, against the emulator. Each test has an
 * emulator of its own, so that they run at once; the wire check at the end reads the requests of them all.
 */
const emulated = emulators({ buildMs: 150 })
afterAll(emulated.closeAll)
const started: Emulator[] = []
async function startEmulator(): Promise<Emulator> {
  const emu = await emulated.start()
  started.push(emu)
  return emu
}

const calls = (emu: Emulator, procedure: string): number => emu.requests.filter((r) => r.procedure === procedure && !r.fault).length

const QUEUED = [
  ['application', 'web', 'deploy'],
  ['application', 'web', 'redeploy'],
  ['compose', 'stack', 'deploy'],
  ['compose', 'stack', 'redeploy']
] as const

heading('queued operations follow their deployment to done', () => {
  concurrent.each(QUEUED)('%s %s %s', async (resource, key, operation) => {
    const emu = await startEmulator()
    const id = emu.ids[key]
    const before = calls(emu, `${resource}.${operation}`)
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, resource, id, operation })

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(run.outputs['resource-id']).toBe(id)
    const row = emu.deployments.find((d) => d.deploymentId === run.outputs['deployment-id'])
    expect(row).toBeDefined()
    expect(row?.applicationId ?? row?.composeId).toBe(id)
    expect(row?.status).toBe('done')
    expect(calls(emu, `${resource}.${operation}`)).toBe(before + 1)
    expect(Number(run.outputs.duration)).toBeGreaterThanOrEqual(0)
    // by id, the queue job's dashboard link tells where the service lives, without reading its secrets
    expect(run.outputs['log-url']).toBe(`${emu.url}/dashboard/project/${emu.ids.shop}/environment/${emu.ids.prod}/services/${resource}/${id}?tab=deployments`)
    expect(calls(emu, 'project.all')).toBe(0)
    expect(run.summary).toContain('done')
    expect(run.summary).toContain(run.outputs['deployment-id'])
    expect(visibleLog(run)).toMatch(/matched (by the reference this step put in its description|as the first deployment of this service started after this step's queue job)/)
  })
})

const SYNC: [string, string, string, string][] = [
  ['application', 'web', 'start', 'done'],
  ['application', 'web', 'stop', 'idle'],
  ['application', 'web', 'reload', 'done'],
  ['compose', 'stack', 'start', 'done'],
  ['compose', 'stack', 'stop', 'idle']
]
for (const [resource, key] of [
  ['postgres', 'postgres'],
  ['mysql', 'mysql'],
  ['mariadb', 'mariadb'],
  ['mongo', 'mongo'],
  ['redis', 'redis'],
  ['libsql', 'libsql']
]) {
  SYNC.push([resource, key, 'deploy', 'done'], [resource, key, 'start', 'done'], [resource, key, 'stop', 'idle'], [resource, key, 'reload', 'done'])
}

heading('synchronous operations report the status they leave behind', () => {
  concurrent.each(SYNC)('%s %s %s', async (resource, key, operation, status) => {
    const emu = await startEmulator()
    const id = emu.ids[key]
    const before = calls(emu, `${resource}.${operation}`)
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, resource, id, operation })

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe(status)
    expect(run.outputs['resource-id']).toBe(id)
    expect(run.outputs['deployment-id']).toBe('')
    expect(calls(emu, `${resource}.${operation}`)).toBe(before + 1)
    expect(run.summary).toContain(status)
  })
})

heading('libsql', () => {
  concurrent('a Dokploy before v0.29 has no libsql: the step says so', async () => {
    const emu = await startEmulator()
    emu.setVersion('v0.28.8')
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, resource: 'libsql', id: emu.ids.libsql, operation: 'start' })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain('This Dokploy has no libsql.start (404)')
  })
})

heading('the wire', () => {
  concurrent('wait: false returns once Dokploy queued the deploy, with status queued', async () => {
    const emu = await startEmulator()
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, wait: 'false' })
    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('queued')
    expect(run.outputs['deployment-id']).toBe('')
  })

  concurrent('a failed build fails the step with Dokploy\'s error and the log tail', async () => {
    const emu = await startEmulator()
    emu.setBuild(emu.ids.web, { durationMs: 100, fail: 'npm ERR! build script exited with code 1' })
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web, 'log-lines': '5' })

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expect(run.outputs['deployment-id']).not.toBe('')
    expect(errorLine(run)).toContain('ended error')
    // Dokploy leaves a failed build's errorMessage null: the reason is in the log tail only
    expect(errorLine(run)).not.toContain('Dokploy says')
    expect(visibleLog(run)).toContain('npm ERR! build script exited with code 1')
    expect(run.stdout).toMatch(/::group::Why deployment/)
    expect(run.summary).toContain('Last')
    expect(run.summary).toContain('<details>')
  })

  concurrent('a deployment Dokploy could not create: its errorMessage rides in the annotation and the summary', async () => {
    const emu = await startEmulator()
    emu.setBuild(emu.ids.web, { durationMs: 100, createError: 'ENOSPC: no space left on device' })
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, id: emu.ids.web })

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expect(run.outputs['deployment-id']).not.toBe('')
    expect(errorLine(run)).toContain('Dokploy says: An error have occurred: ENOSPC: no space left on device')
    expect(run.summary).toContain('ENOSPC: no space left on device')
  })

  concurrent('a database deploy that fails answers 500: the step fails with status error', async () => {
    const emu = await startEmulator()
    emu.dbDeploy(emu.ids.mysql, { durationMs: 50, fail: 'container exited: port already allocated' })
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, resource: 'mysql', id: emu.ids.mysql })
    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    expect(errorLine(run)).toContain('mysql.deploy')
  })

  concurrent('the default title names the commit and the run, the description holds the run URL', async () => {
    const emu = await startEmulator()
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, resource: 'application', id: emu.ids.api })
    expect(run.code).toBe(0)
    const row = emu.deployments.find((d) => d.deploymentId === run.outputs['deployment-id'])
    expect(row?.title).toBe('1a2b3c4 · Deploy #42')
    // the run URL, and a reference unique to this step by which its queue job and row are recognised
    expect(row?.description).toMatch(/^https:\/\/github\.com\/acme\/shop\/actions\/runs\/9000001 · ref [0-9a-f]{8}$/)
  })
})

// Serial, after every concurrent test above has ended (jest runs a file's describe blocks after its root tests):
// it reads the requests of every emulator the file started, the traffic of every operation.
describe('the wire', () => {
  test('only tRPC endpoints are used, never REST, and never a database rebuild or killBuild', () => {
    const requests = started.flatMap((emu) => emu.requests)
    expect(requests.length).toBeGreaterThan(40)
    // the live log's WebSocket aside (a row seen running is streamed), every request is tRPC
    expect(requests.filter((r) => r.api !== 'trpc' && r.api !== 'websocket')).toEqual([])
    expect(requests.filter((r) => /\.(rebuild|killBuild|cancelDeployment)$/.test(r.procedure ?? ''))).toEqual([])
  })
})
