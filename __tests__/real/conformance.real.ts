import { afterAll, beforeAll, describe, expect, test } from '@jest/globals'
import { annotations, errorLine, leakedSecrets, runAction, visibleLog, type ActionRun } from '../e2e/harness.js'
import { RESOURCES, SPECS, operationsOf, type Resource } from '../../src/operations.js'
import { DokployClient } from '../../src/dokploy/client.js'
import { DokployError } from '../../src/dokploy/errors.js'
import { createTransport } from '../../src/dokploy/transport.js'
import { readContainers, readTasks } from '../../src/dokploy/api.js'
import { createFixtures, removeFixtures, IMAGE, type Fixtures } from './fixtures.js'
import { realDokploy } from './dokploy.js'

/**
 * Conformance: the built action against a real Dokploy (DOKPLOY_URL, DOKPLOY_API_KEY). Only
 * invariants that hold on any server are asserted, with or without a working Docker: a build may end
 * `done` or `error`, but the step must report exactly what its own row says. `npm run test:real`.
 */
const api = realDokploy(process.env.DOKPLOY_URL ?? '', process.env.DOKPLOY_API_KEY ?? '')
let fx: Fixtures
const runs: ActionRun[] = []

beforeAll(async () => {
  fx = await createFixtures(api)
}, 120_000)
afterAll(async () => {
  await removeFixtures(api, fx)
}, 60_000)

async function step(inputs: Record<string, string>): Promise<ActionRun> {
  const run = await runAction({ url: api.url, 'api-key': api.apiKey, 'wait-timeout': '300', ...inputs })
  runs.push(run)
  return run
}

interface Row {
  deploymentId: string
  status: string
}
const rowsOf = async (resource: 'application' | 'compose', id: string): Promise<Row[]> =>
  resource === 'application' ? api.query<Row[]>('deployment.all', { applicationId: id }) : api.query<Row[]>('deployment.allByCompose', { composeId: id })

const idOf = (resource: Resource): string | undefined =>
  resource === 'application' ? fx.ids.web : resource === 'compose' ? fx.ids.stack : fx.ids[resource as keyof Fixtures['ids']]

describe('every resource × operation the action offers is accepted as it sends it', () => {
  // rollback needs rollbacks turned on, with a registry: the fixtures have none, and its own test says what it answers then
  const cases = RESOURCES.flatMap((resource) => operationsOf(resource).filter((operation) => operation !== 'rollback').map((operation) => [resource, operation] as const))
  test.each(cases)('%s %s', async (resource, operation) => {
    const id = idOf(resource)
    if (!id) return // a kind this server does not have (libsql before v0.29)
    // queued operations are not waited for here: the build's fate depends on the server's Docker
    const run = await step({ resource, id, operation, wait: 'false' })
    const error = errorLine(run)
    // whatever the server's Docker did, the input shape was accepted: no 400, no missing procedure
    expect(error).not.toMatch(/\(400\)|This Dokploy has no|did not have the expected shape/)
    if (SPECS[resource].operations[operation] === 'queued') expect(run.outputs.status).toBe('queued')
    else expect(['done', 'idle', 'error']).toContain(run.outputs.status)
  }, 330_000)
})

describe('a followed deploy reports its own row', () => {
  test('the final status and id of the one row the step created, and a log tail when it failed', async () => {
    const before = new Set((await rowsOf('application', fx.ids.api)).map((row) => row.deploymentId))
    const run = await step({ id: fx.ids.api })
    const created = (await rowsOf('application', fx.ids.api)).filter((row) => !before.has(row.deploymentId))
    expect(created).toHaveLength(1)
    expect(run.outputs['deployment-id']).toBe(created[0].deploymentId)
    expect(run.outputs.status).toBe(created[0].status)
    expect(run.code).toBe(created[0].status === 'done' ? 0 : 1)
    // a failed build (no Docker here, say) shows a non-empty tail of its log in the summary
    if (created[0].status === 'error') expect(run.summary).toMatch(/<pre>\s*\S/)
  }, 330_000)

  test('two steps racing on one service: exactly one row each, each step reports its own', async () => {
    const before = new Set((await rowsOf('compose', fx.ids.stack)).map((row) => row.deploymentId))
    const [a, b] = await Promise.all([step({ resource: 'compose', id: fx.ids.stack }), step({ resource: 'compose', id: fx.ids.stack })])
    const created = (await rowsOf('compose', fx.ids.stack)).filter((row) => !before.has(row.deploymentId))
    expect(created).toHaveLength(2)
    const ids = created.map((row) => row.deploymentId).sort()
    expect([a.outputs['deployment-id'], b.outputs['deployment-id']].sort()).toEqual(ids)
    for (const run of [a, b]) expect(run.outputs.status).toBe(created.find((row) => row.deploymentId === run.outputs['deployment-id'])?.status)
  }, 660_000)
})

describe('the live build log', () => {
  test('streams the same lines as deployment.readLogs, when the build lasts long enough to be streamed', async () => {
    const run = await step({ id: fx.ids.web })
    const deploymentId = run.outputs['deployment-id']
    expect(deploymentId).toBeTruthy()
    const lines = run.stdout.split('\n')
    const start = lines.findIndex((line) => line.startsWith('::group::Build log of'))
    // a build that ends before its row is proven is not streamed (README): nothing to compare then
    if (start < 0) return
    const end = lines.findIndex((line, i) => i > start && line === '::endgroup::')
    const streamed = lines.slice(start + 1, end).filter((line) => !line.startsWith('::debug::'))
    const logs = (await api.query<string>('deployment.readLogs', { deploymentId, tail: 10_000 })).split('\n')
    const trimmed = (list: string[]): string[] => list.slice(0, list.findLastIndex((line) => line.trim() !== '') + 1)
    expect(trimmed(streamed).length).toBeGreaterThan(0)
    expect(trimmed(streamed)).toEqual(trimmed(logs))
  }, 330_000)
})

describe('lookup by name resolves as on the emulator', () => {
  const byName: [Resource, keyof Fixtures['names']][] = [
    ['application', 'web'],
    ['compose', 'stack'],
    ...(['postgres', 'mysql', 'mariadb', 'mongo', 'redis', 'libsql'] as const)
      .filter((kind) => (RESOURCES as readonly string[]).includes(kind))
      .map((kind) => [kind as Resource, kind] as [Resource, keyof Fixtures['names']])
  ]
  test.each(byName)('%s by name', async (resource, key) => {
    if (!fx.ids[key]) return // a kind this server does not have
    const where: Record<string, string> = fx.legacy ? {} : { environment: fx.production.name }
    const run = await step({ resource, project: fx.projectName, ...where, name: fx.names[key], operation: 'stop' })
    expect(run.outputs['resource-id']).toBe(fx.ids[key])
    expect(['idle', 'error']).toContain(run.outputs.status)
  }, 120_000)

  test('an ambiguous name fails before anything is sent, naming where it stands', async () => {
    const run = await step({ project: fx.projectName, name: 'web', operation: 'stop' })
    expect(run.code).toBe(1)
    expect(run.outputs['resource-id'] ?? '').toBe('')
    if (fx.legacy) {
      expect(errorLine(run)).toContain(fx.ids.web)
      expect(errorLine(run)).toContain(fx.ids.stagingWeb)
    } else {
      expect(errorLine(run)).toContain(fx.production.name)
      expect(errorLine(run)).toContain(fx.staging.name)
    }
  }, 60_000)
})

describe('several targets', () => {
  test("resource: database, name: '*': every database of the project, each stopped once", async () => {
    const where: Record<string, string> = fx.legacy ? {} : { environment: fx.production.name }
    const run = await step({ resource: 'database', project: fx.projectName, ...where, name: '*', operation: 'stop' })
    const results = JSON.parse(run.outputs.results ?? '[]') as { resource: string; id: string; status: string }[]
    expect(results.map((r) => r.id).sort()).toEqual(fx.databases.map((kind) => fx.ids[kind]).sort())
    // Dokploy answers a stop with success even without Docker (API.md §10)
    for (const result of results) expect(result.status).toBe('idle')
  }, 120_000)
})

describe('roll-out changes exactly what it says', () => {
  test('docker-image and env (merge): the image is set, the new key added, the others kept', async () => {
    const run = await step({ id: fx.ids.web, 'docker-image': 'nginx:1.27-alpine', env: 'ROLLED=out', wait: 'false' })
    expect(run.outputs.status).toBe('queued')
    const app = await api.query<{ dockerImage: string; env: string }>('application.one', { applicationId: fx.ids.web })
    expect(app.dockerImage).toBe('nginx:1.27-alpine')
    const keys = app.env.split('\n').map((line) => line.split('=')[0])
    expect(keys).toEqual(['DATABASE_URL', 'API_TOKEN', 'PLAIN', 'ROLLED'])
  }, 120_000)

  test('env replace on another service: exactly the given lines remain', async () => {
    const run = await step({ id: fx.ids.api, env: 'ONLY=this', 'env-strategy': 'replace', wait: 'false' })
    expect(run.outputs.status).toBe('queued')
    const app = await api.query<{ env: string; dockerImage: string }>('application.one', { applicationId: fx.ids.api })
    expect(app.env.trim()).toBe('ONLY=this')
    expect(app.dockerImage).toBe(IMAGE)
  }, 120_000)
})

describe('the rollout check reads what Dokploy lists', () => {
  test("the tasks and containers parse with the action's own readers (a list, or nothing when Docker is not reachable)", async () => {
    const transport = createTransport()
    const client = new DokployClient({ baseUrl: api.url, apiKey: api.apiKey, requestTimeoutMs: 30_000, retries: 0, transport: transport.send })
    try {
      const app = await api.query<{ appName: string; serverId: string | null }>('application.one', { applicationId: fx.ids.api })
      const stack = await api.query<{ appName: string; serverId: string | null }>('compose.one', { composeId: fx.ids.stack })
      // a key without docker:read gets 401 for the tasks: the action then says the rollout was not checked
      const tasks = await readTasks(client, app.appName, app.serverId ?? undefined, 0).catch((e: unknown) => e)
      if (tasks instanceof DokployError) expect(tasks.failure).toBe('unauthorized')
      else if (tasks !== undefined) {
        if (!Array.isArray(tasks)) throw new Error('swarm.getAppInfos: expected a list or nothing')
        for (const task of tasks) {
          expect(task.name.startsWith(`${app.appName}.`)).toBe(true)
          expect(['running', 'shutdown', 'ready', 'accepted', 'complete']).toContain(task.desired)
          expect(task.current).toMatch(/^[A-Z][a-z]+/)
        }
      }
      const containers = await readContainers(client, stack.appName, 'docker-compose', stack.serverId ?? undefined, 0)
      for (const container of containers) expect(typeof container.state).toBe('string')
    } finally {
      transport.close()
    }
  })

  test('a followed deploy ends done with the rollout checked or one notice saying why not, or with a failing status', async () => {
    const run = await step({ id: fx.ids.api, 'verify-timeout': '60' })
    expect(['done', 'error', 'rolled-back', 'unhealthy']).toContain(run.outputs.status)
    if (run.outputs.status === 'done') {
      const notices = annotations(run, 'notice').filter((n) => n.title === 'Dokploy: rollout not checked')
      expect(notices.length + (/Rollout checked/.test(visibleLog(run)) ? 1 : 0)).toBe(1)
    }
  }, 400_000)
})

describe('rollbacks', () => {
  test('deployment.allByType lists the rows with their rollback; without rollbacks on, rollback fails saying how to turn them on', async () => {
    const run = await step({ id: fx.ids.api, operation: 'rollback' })
    expect(errorLine(run)).not.toMatch(/\(400\)|This Dokploy has no|did not have the expected shape/)
    if (run.outputs.status === 'failed') expect(errorLine(run)).toMatch(/turn Rollbacks on and choose a rollback registry/)
    else expect(run.outputs['rolled-back-to']).not.toBe('')
  }, 400_000)
})

describe('documented messages', () => {
  test('a wrong key', async () => {
    const run = await runAction({ url: api.url, 'api-key': 'not-a-real-key-0000', id: fx.ids.web, operation: 'stop' })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toContain('Dokploy rejected the API key (401)')
  })

  test('a wrong id', async () => {
    const run = await step({ id: 'no-such-application-id', operation: 'stop' })
    expect(run.code).toBe(1)
    expect(errorLine(run)).toMatch(/check the id/)
  })

  test('a procedure this server does not have', async () => {
    const transport = createTransport()
    const client = new DokployClient({ baseUrl: api.url, apiKey: api.apiKey, requestTimeoutMs: 30_000, retries: 0, transport: transport.send })
    try {
      const error = await client.query('deployment.noSuchProcedure', { applicationId: fx.ids.web }, (value) => value).catch((e: unknown) => e)
      expect(error).toBeInstanceOf(DokployError)
      expect((error as DokployError).message).toBe('This Dokploy has no deployment.noSuchProcedure (404): the server is older than this call needs; upgrade Dokploy.')
    } finally {
      transport.close()
    }
  })
})

describe('secrets', () => {
  test('no secret of the fixtures appears in anything any step printed or wrote', () => {
    expect(runs.length).toBeGreaterThan(10)
    for (const run of runs) expect(leakedSecrets(run, fx.secrets)).toEqual([])
  })
})
