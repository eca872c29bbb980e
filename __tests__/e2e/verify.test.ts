import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { domainRow } from '../emulator/state.js'
import { annotations, emulators, errorLine, runAction, visibleLog, type ActionRun } from './harness.js'

/**
 * After Dokploy's `done`, the step checks that the new version runs (verify: running, the default):
 * through dist/index.js against the emulator, whose Swarm runs, rolls back, crash-loops or turns healthy
 * slowly as each test asks.
 */
const MEMBER_KEY = 'member-key-7d1e9b3a55c2f004'
const { start: startEmulator, closeAll } = emulators({ buildMs: 100, memberKeys: [MEMBER_KEY] })
afterAll(closeAll)

/** An emulator of the test's own, so that the tests run at once. */
async function start() {
  const emu = await startEmulator()
  return {
    emu,
    inputs: (extra: Record<string, string>): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, ...extra }),
    sent: (procedure: string) => emu.requests.filter((r) => r.procedure === procedure),
    order: (procedure: string): number => emu.requests.findIndex((r) => r.procedure === procedure),
    appNameOf: (kind: 'application' | 'compose' | 'postgres', key: string): string => {
      const row = emu.state.find(kind, emu.ids[key])
      if (!row) throw new Error(`no ${kind} ${key}`)
      return String(row.appName)
    }
  }
}
const notices = (run: ActionRun) => annotations(run, 'notice').filter((n) => n.title === 'Dokploy: rollout not checked')

heading('an application deploy', () => {
  concurrent('a healthy rollout is done, checked after the deployment ended, in one read of the tasks', async () => {
    const { emu, inputs, sent, order, appNameOf } = await start()
    const run = await runAction(inputs({ id: emu.ids.web }))

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(visibleLog(run)).toMatch(/Rollout checked: 1 task running the new version/)
    expect(notices(run)).toEqual([])
    // the tasks are read after the row turned done, for the service's appName
    const reads = sent('swarm.getAppInfos')
    expect(reads).toHaveLength(1)
    expect(reads[0].input).toEqual({ appName: [appNameOf('application', 'web')] })
    const row = emu.deployments.find((d) => d.deploymentId === run.outputs['deployment-id'])
    expect(reads[0].at).toBeGreaterThanOrEqual(emu.settledAt(String(row?.deploymentId)) ?? Infinity)
    expect(order('application.one')).toBeLessThan(order('swarm.getAppInfos'))
  })

  concurrent('a new image that crashes and is rolled back by Swarm: rolled-back, failing, with the task error', async () => {
    const { emu, inputs, sent } = await start()
    emu.setRollout(emu.ids.api, { crash: 'rollback' })
    const run = await runAction(inputs({ id: emu.ids.api, 'docker-image': 'ghcr.io/acme/api:2.0' }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('rolled-back')
    expect(errorLine(run)).toMatch(/Swarm rolled the service back: it runs ghcr\.io\/acme\/api:1\.0 again\. The new task's error: task: non-zero exit \(1\)/)
    expect(annotations(run, 'error')[0].title).toBe('Dokploy deploy of api: rolled-back')
    expect(run.summary).toContain('task: non-zero exit &#40;1&#41;')
    expect(JSON.parse(run.outputs.results)[0].status).toBe('rolled-back')
    // the runtime log Dokploy reads is the running container's: the previous version's, and labelled so
    expect(sent('application.readLogs')[0].input).toMatchObject({ applicationId: emu.ids.api, tail: 50 })
    expect(run.stdout).toMatch(/Runtime log, the container that runs now, which after Swarm's rollback is the previous version's, not the failed one's:\n│ ghcr\.io\/acme\/api:1\.0 starting/)
    expect(run.summary).toContain('<summary>Runtime log: the container that runs now, which after Swarm&#39;s rollback is the previous version&#39;s')
    // the row itself stays done: Dokploy's word, which the check corrected
    expect(emu.deployments.find((d) => d.deploymentId === run.outputs['deployment-id'])?.status).toBe('done')
  })

  concurrent("the task's error is masked like every server text", async () => {
    const { emu, inputs } = await start()
    const api = emu.state.find('application', emu.ids.api)
    const secret = /^DATABASE_URL=(.*)$/m.exec(String(api?.env))?.[1] ?? ''
    expect(secret).toMatch(/S3CR3T-/)
    emu.setRollout(emu.ids.api, { crash: 'rollback', error: `task: non-zero exit (1): cannot reach ${secret}` })
    // the harness fails any run whose log, outputs or summary holds a secret marker
    const run = await runAction(inputs({ id: emu.ids.api, 'docker-image': 'ghcr.io/acme/api:2.0' }))

    expect(run.outputs.status).toBe('rolled-back')
    // only the password of the connection string is a secret (README: What is masked)
    expect(errorLine(run)).toContain('task: non-zero exit (1): cannot reach postgres://app:***@db:5432/app')
  })

  concurrent('a git build that crash-loops (the previous version has the same image): unhealthy', async () => {
    const { emu, inputs } = await start()
    emu.setRollout(emu.ids.web, { crash: 'loop' })
    const run = await runAction(inputs({ id: emu.ids.web, 'verify-timeout': '30' }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('unhealthy')
    expect(errorLine(run)).toMatch(/failed during the rollout \(task: non-zero exit \(1\)\)/)
  })

  concurrent('the deploy that fixes a crash loop is done: the failures of the version it replaced do not count', async () => {
    const { emu, inputs } = await start()
    emu.setRollout(emu.ids.web, { crash: 'loop', crashAfterMs: 500 })
    const broken = await runAction(inputs({ id: emu.ids.web, 'verify-timeout': '30' }))
    expect(broken.outputs.status).toBe('unhealthy')
    // the old version goes on crashing for a while, then the fix is deployed
    await emu.sleep(3000)
    emu.setRollout(emu.ids.web, { runningAfterMs: 0 })
    const fixed = await runAction(inputs({ id: emu.ids.web }))

    expect(fixed.code).toBe(0)
    expect(fixed.outputs.status).toBe('done')
    expect(visibleLog(fixed)).toMatch(/Rollout checked/)
  })

  concurrent('a health check that passes slowly, within verify-timeout: done, after the step saw it starting', async () => {
    const { emu, inputs, sent } = await start()
    emu.setRollout(emu.ids.web, { runningAfterMs: 8000 })
    const run = await runAction(inputs({ id: emu.ids.web, 'verify-timeout': '120' }))

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    const log = visibleLog(run)
    const starting = log.indexOf('Rollout: the new task is starting')
    const checked = log.indexOf('Rollout checked')
    expect(starting).toBeGreaterThan(-1)
    expect(checked).toBeGreaterThan(starting)
    expect(sent('swarm.getAppInfos').length).toBeGreaterThan(1)
  })

  concurrent('never healthy: unhealthy when verify-timeout ends, not wait-timeout', async () => {
    const { emu, inputs, sent } = await start()
    emu.setRollout(emu.ids.web, { neverHealthy: true })
    const run = await runAction(inputs({ id: emu.ids.web, 'verify-timeout': '2', 'wait-timeout': '600' }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('unhealthy')
    expect(errorLine(run)).toMatch(/not running and healthy when verify-timeout \(2s\) ended: the new task is starting/)
    const reads = sent('swarm.getAppInfos')
    // the reads span verify-timeout, counted after done
    expect(reads[reads.length - 1].at - reads[0].at).toBeGreaterThanOrEqual(1500)
  })

  concurrent('a key without docker:read: done, with one notice that the rollout was not checked', async () => {
    const { emu, sent } = await start()
    emu.setRollout(emu.ids.web, { crash: 'loop' })
    const run = await runAction({ url: emu.url, 'api-key': MEMBER_KEY, id: emu.ids.web })

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(sent('swarm.getAppInfos').map((r) => r.status)).toEqual([401])
    const said = notices(run)
    expect(said).toHaveLength(1)
    expect(said[0].message).toMatch(/the rollout was not checked: this key may not read them \(unauthorized, HTTP 401; swarm\.getAppInfos needs docker:read/)
    expect(run.summary).toContain('the rollout was not checked')
    expect(visibleLog(run)).not.toMatch(/Rollout checked/)
  })

  concurrent('an empty task list proves nothing: done, with the notice', async () => {
    const { emu, inputs, appNameOf } = await start()
    const appName = appNameOf('application', 'web')
    emu.hook({ procedure: 'swarm.getAppInfos', when: 'before', run: () => emu.swarm.tasks.set(appName, []), times: 5 })
    const run = await runAction(inputs({ id: emu.ids.web }))

    expect(run.outputs.status).toBe('done')
    expect(notices(run)).toHaveLength(1)
    expect(notices(run)[0].message).toMatch(/Dokploy listed no Swarm tasks for web-\w+ \(it answers an empty list whenever it cannot reach Docker\)/)
  })

  concurrent('verify: none reads no task, and done is Dokploy\'s word alone', async () => {
    const { emu, inputs, sent } = await start()
    emu.setRollout(emu.ids.web, { crash: 'loop' })
    const run = await runAction(inputs({ id: emu.ids.web, verify: 'none' }))

    expect(run.outputs.status).toBe('done')
    expect(sent('swarm.getAppInfos')).toEqual([])
    expect(notices(run)).toEqual([])
  })

  concurrent('a service on a remote server is read there: its serverId is passed', async () => {
    const { emu, inputs, sent, appNameOf } = await start()
    const web = emu.state.find('application', emu.ids.web)
    if (web) web.serverId = 'srv-remote-1'
    const run = await runAction(inputs({ id: emu.ids.web }))

    expect(run.outputs.status).toBe('done')
    expect(sent('swarm.getAppInfos')[0].input).toEqual({ appName: [appNameOf('application', 'web')], serverId: 'srv-remote-1' })
    expect(visibleLog(run)).toMatch(/on server srv-remote-1/)
  })
})

heading('a compose stack', () => {
  concurrent('docker-compose with several services: every container runs, read with the project label', async () => {
    const { emu, inputs, sent, appNameOf } = await start()
    emu.setRollout(emu.ids.stack, { services: ['web', 'worker', 'db'] })
    const run = await runAction(inputs({ resource: 'compose', id: emu.ids.stack }))

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(sent('docker.getContainersByAppNameMatch')[0].input).toEqual({ appName: appNameOf('compose', 'stack'), appType: 'docker-compose' })
    expect(visibleLog(run)).toMatch(/Rollout checked: 3 containers running/)
  })

  concurrent('a stack whose service never turns healthy: unhealthy', async () => {
    const { emu, inputs, sent, appNameOf } = await start()
    const stack = emu.state.find('compose', emu.ids.stack)
    if (stack) stack.composeType = 'stack'
    emu.setRollout(emu.ids.stack, { services: ['web', 'worker'], neverHealthy: true })
    const run = await runAction(inputs({ resource: 'compose', id: emu.ids.stack, 'verify-timeout': '2' }))

    expect(run.outputs.status).toBe('unhealthy')
    expect(sent('docker.getContainersByAppNameMatch')[0].input).toEqual({ appName: appNameOf('compose', 'stack'), appType: 'stack' })
  })
})

heading('a database', () => {
  concurrent('deploy: its task must run the database image', async () => {
    const { emu, inputs, sent, order, appNameOf } = await start()
    const run = await runAction(inputs({ resource: 'postgres', id: emu.ids.postgres }))

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(order('postgres.deploy')).toBeLessThan(order('swarm.getAppInfos'))
    expect(sent('swarm.getAppInfos')[0].input).toEqual({ appName: [appNameOf('postgres', 'postgres')] })
    expect(visibleLog(run)).toMatch(/Rollout checked: 1 task running the new version/)
  })

  concurrent('start that never turns healthy: unhealthy', async () => {
    const { emu, inputs } = await start()
    emu.setRollout(emu.ids.postgres, { neverHealthy: true })
    const run = await runAction(inputs({ resource: 'postgres', id: emu.ids.postgres, operation: 'start', 'verify-timeout': '2' }))

    expect(run.outputs.status).toBe('unhealthy')
  })

  concurrent('stop is not checked', async () => {
    const { emu, inputs, sent } = await start()
    const run = await runAction(inputs({ resource: 'postgres', id: emu.ids.postgres, operation: 'stop' }))

    expect(run.outputs.status).toBe('idle')
    expect(sent('swarm.getAppInfos')).toEqual([])
  })
})

/** The service's own page, on 127.0.0.1: answers with `reply` per request, in order (the last one repeats). */
async function site(replies: { status: number; body: string }[]) {
  const seen: string[] = []
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '')
    const reply = replies[Math.min(seen.length - 1, replies.length - 1)]
    res.writeHead(reply.status, { 'content-type': 'text/plain' })
    res.end(reply.body)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return { url: `http://127.0.0.1:${port}`, host: `127.0.0.1:${port}`, seen, close: () => new Promise((resolve) => server.close(resolve)) }
}

heading('verify-url and verify-text', () => {
  concurrent('retried until the page answers 2xx with the text: done', async () => {
    const { emu, inputs } = await start()
    const page = await site([
      { status: 503, body: 'starting' },
      { status: 200, body: 'build old999' },
      { status: 200, body: 'build abc123def' }
    ])
    try {
      const run = await runAction(inputs({ id: emu.ids.web, 'verify-url': `${page.url}/version`, 'verify-text': 'abc123' }))

      expect(run.code).toBe(0)
      expect(run.outputs.status).toBe('done')
      expect(page.seen).toEqual(['/version', '/version', '/version'])
      const log = visibleLog(run)
      expect(log).toMatch(/verify-url: http:\/\/127\.0\.0\.1:\d+\/version answered HTTP 200, with verify-text in its body after .* \(3 attempts\)/)
      // the tasks first, then the page
      expect(log.indexOf('Rollout checked')).toBeLessThan(log.indexOf('answered HTTP 200'))
    } finally {
      await page.close()
    }
  })

  concurrent('a page that never shows the text: unhealthy, with a short masked excerpt of the body', async () => {
    const { emu, inputs } = await start()
    const api = emu.state.find('application', emu.ids.web)
    const secret = /^DATABASE_URL=(.*)$/m.exec(String(api?.env))?.[1] ?? ''
    const page = await site([{ status: 200, body: `build old999 ${secret} ${'x'.repeat(5000)}` }])
    try {
      // the harness fails a run whose output holds the secret: the page quotes one the step learned from .one
      const run = await runAction(inputs({ id: emu.ids.web, 'verify-url': page.url, 'verify-text': 'abc123', 'verify-timeout': '2' }))

      expect(run.code).toBe(1)
      expect(run.outputs.status).toBe('unhealthy')
      const message = errorLine(run)
      expect(message).toMatch(/did not pass within verify-timeout \(2s, \d+ attempts\): HTTP 200, but the body does not contain verify-text; it begins "build old999 postgres:\/\/app:\*\*\*@db:5432\/app x+…"/)
      expect(message.length).toBeLessThan(400)
      expect(page.seen.length).toBeGreaterThan(1)
    } finally {
      await page.close()
    }
  })

  concurrent("a path is joined to the service's URL", async () => {
    const { emu, inputs } = await start()
    const page = await site([{ status: 204, body: '' }])
    try {
      emu.state.domains.splice(0, emu.state.domains.length, ...emu.state.domains.filter((d) => d.applicationId !== emu.ids.web))
      emu.state.domains.push(domainRow('dom-local', { applicationId: emu.ids.web }, page.host, false, '/'))
      const run = await runAction(inputs({ id: emu.ids.web, 'verify-url': '/health' }))

      expect(run.outputs.status).toBe('done')
      expect(run.outputs.url).toBe(page.url)
      expect(page.seen).toEqual(['/health'])
    } finally {
      await page.close()
    }
  })
})

heading('rollbacks', () => {
  /** Rollbacks on for the application (Dokploy: Advanced → Rollbacks, with a registry), then `n` good deploys. */
  async function deployWithRollbacks({ emu, inputs }: Awaited<ReturnType<typeof start>>, key: string, n: number): Promise<string[]> {
    const app = emu.state.find('application', emu.ids[key])
    if (app) Object.assign(app, { rollbackActive: true, rollbackRegistryId: 'reg-rollbacks' })
    const ids: string[] = []
    for (let i = 0; i < n; i++) {
      const run = await runAction(inputs({ id: emu.ids[key], verify: 'none' }))
      expect(run.outputs.status).toBe('done')
      ids.push(run.outputs['deployment-id'])
    }
    return ids
  }

  concurrent('operation rollback: back to the newest done deployment before the newest; no row, its rollout checked', async () => {
    const world = await start()
    const { emu, inputs, sent, order } = world
    const [first, second] = await deployWithRollbacks(world, 'web', 2)
    const rows = emu.deployments.length
    const run = await runAction(inputs({ id: emu.ids.web, operation: 'rollback' }))

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(run.outputs['rolled-back-to']).toBe(first)
    expect(JSON.parse(run.outputs.results)[0]['rolled-back-to']).toBe(first)
    expect(run.outputs['rolled-back-to']).not.toBe(second)
    expect(emu.deployments).toHaveLength(rows)
    const record = [...emu.swarm.rollbacks.values()].find((r) => r.deploymentId === first)
    expect(sent('rollback.rollback').map((r) => r.input)).toEqual([{ rollbackId: record?.rollbackId }])
    // the check expects the rollback's image, and sees it run
    expect(order('rollback.rollback')).toBeLessThan(order('swarm.getAppInfos'))
    expect(visibleLog(run)).toMatch(/Rolling back to deployment .* \(image registry\.example\.com\/rollbacks\/web-\w+:v1\)[\s\S]*Rollout checked/)
  })

  concurrent('operation rollback without rollbacks: the step fails, saying how to turn them on, and sends nothing', async () => {
    const { emu, inputs, sent } = await start()
    await runAction(inputs({ id: emu.ids.web, verify: 'none' }))
    const run = await runAction(inputs({ id: emu.ids.web, operation: 'rollback' }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('failed')
    expect(errorLine(run)).toMatch(/There is no deployment to roll back to: none of its 1 deployment\(s\) Dokploy lists has a rollback\. In Dokploy, open the application's Advanced tab, turn Rollbacks on and choose a rollback registry/)
    expect(sent('rollback.rollback')).toEqual([])
    expect(run.outputs['rolled-back-to']).toBe('')
  })

  concurrent('on-failure: rollback: a deploy that crash-loops is rolled back to the previous good one, both reported, the step failing', async () => {
    const world = await start()
    const { emu, inputs, sent } = world
    const [good] = await deployWithRollbacks(world, 'web', 1)
    emu.setRollout(emu.ids.web, { crash: 'loop' })
    const run = await runAction(inputs({ id: emu.ids.web, 'on-failure': 'rollback', 'verify-timeout': '30' }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('unhealthy')
    expect(run.outputs['rolled-back-to']).toBe(good)
    expect(errorLine(run)).toMatch(/failed during the rollout .* on-failure: rollback: rolled back to deployment \S+: it runs \(checked\)\./)
    expect(sent('deployment.allByType')).toHaveLength(1)
  })
})
