import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { annotations, emulators, endOnceStreaming, errorLine, runAction, visibleLog } from './harness.js'
import type { EmulatorOptions } from '../emulator/server.js'

/**
 * Issue 11: several services in one step. Every target is resolved before anything is sent, all are
 * triggered, then followed at once; each keeps every promise of a single target (its own deployment,
 * never twice) and one target's failure does not stop the others from being followed to their end.
 */
// Each test has an emulator of its own and runs beside the others.
const { start: startEmulator, closeAll } = emulators({ buildMs: 300 })
afterAll(closeAll)

const start = async (options: EmulatorOptions = {}) => {
  const emu = await startEmulator(options)
  // a worker application in production, beside web and api (staging already has its own "Worker")
  const api = emu.state.services.application.find((row) => row.applicationId === emu.ids.api)
  emu.state.services.application.push({ ...structuredClone(api), applicationId: 'app-worker', name: 'worker', appName: 'worker-prdxyz' })
  return {
    emu,
    base: (extra: Record<string, string>): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, ...extra }),
    sent: (procedure: string) => emu.requests.filter((r) => r.procedure === procedure && !r.fault),
    mutations: (): string[] => emu.requests.filter((r) => r.method === 'POST').map((r) => r.procedure ?? ''),
    rowsOf: (id: string) => emu.deployments.filter((d) => d.applicationId === id || d.composeId === id)
  }
}
const results = (outputs: Record<string, string>) => JSON.parse(outputs.results) as Record<string, unknown>[]
const isOurs = (job: { data: Record<string, unknown> }): boolean => String(job.data.descriptionLog).includes(' · ref ')

heading('the two examples of the issue, as written', () => {
  concurrent('resource: database, project: shop, environment: staging, name: "*", operation: stop: every staging database is stopped', async () => {
    const { emu, base, sent, mutations } = await start()
    const run = await runAction(base({ resource: 'database', project: 'shop', environment: 'staging', name: '*', operation: 'stop' }))

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    const stopped = [
      ['postgres', emu.ids.postgresStaging, 'db'],
      ['redis', emu.ids.redisStaging, 'cache'],
      ['libsql', emu.ids.libsqlStaging, 'edge']
    ]
    expect(results(run.outputs).map((r) => [r.resource, r.id, r.name, r.environment, r.status])).toEqual(stopped.map(([kind, id, name]) => [kind, id, name, 'staging', 'idle']))
    expect(run.outputs['resource-id']).toBe(stopped.map(([, id]) => id).join('\n'))
    for (const [kind, id] of stopped) expect(emu.state.find(kind as 'postgres', id)?.applicationStatus).toBe('idle')
    // production's databases are untouched; nothing but the three stops changed anything
    expect(emu.state.find('postgres', emu.ids.postgres)?.applicationStatus).toBe('done')
    expect(mutations().sort()).toEqual(['libsql.stop', 'postgres.stop', 'redis.stop'])
    // one lookup for all: project.all, and environment.byProjectId for the database names
    expect(sent('project.all')).toHaveLength(1)
    expect(sent('environment.byProjectId')).toHaveLength(1)
    // the log names each target on every line of its own
    expect(visibleLog(run)).toMatch(/^\[cache\] redis\.stop: Dokploy accepted it; the redis db is now idle \(stopped\)/m)
    expect(visibleLog(run)).toMatch(/^\[edge\] libsql\.stop: Dokploy accepted it/m)
    expect(run.summary).toContain('<h2>✅ Dokploy stop of db, cache, edge: done</h2>')
    // a stop sends no deployment title
    expect(run.summary).not.toContain('Title:')
    expect(run.summary.match(/<tr><td>✅/g)).toHaveLength(3)
  })

  concurrent('project: shop, environment: production, name: "api, web, worker": three applications deployed and followed, one after the other on the server', async () => {
    const { emu, base, sent, rowsOf } = await start()
    // no build ends before all three deploys arrived, however slowly the step sends them
    const builds = { [emu.ids.api]: 3000, [emu.ids.web]: 4500, 'app-worker': 3500 }
    const allSent = (event: string) => (event === 'end' ? emu.until(() => Object.keys(builds).every((id) => (emu.stats().deployCalls[id] ?? 0) > 0), 20_000) : undefined)
    for (const [id, durationMs] of Object.entries(builds)) emu.setBuild(id, { durationMs, holdBefore: allSent })
    const run = await runAction(base({ project: 'shop', environment: 'production', name: 'api, web, worker' }))
    const ended = Date.now()

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    const ids = [emu.ids.api, emu.ids.web, 'app-worker']
    expect(run.outputs['resource-id']).toBe(ids.join('\n'))
    // each its own deployment, each deployed once
    const rows = ids.map((id) => rowsOf(id))
    expect(rows.map((r) => r.length)).toEqual([1, 1, 1])
    expect(run.outputs['deployment-id']).toBe(rows.map(([row]) => row.deploymentId).join('\n'))
    for (const id of ids) expect(emu.stats().deployCalls[id]).toBe(1)
    expect(sent('project.all')).toHaveLength(1)
    // every deploy went out before the first build ended: triggered at once, then followed together
    const deploys = sent('application.deploy').map((r) => r.at)
    const firstEnd = Math.min(...rows.map(([row]) => Date.parse(row.finishedAt ?? '')))
    expect(Math.max(...deploys)).toBeLessThan(firstEnd)
    // the queue builds one at a time: wall time about the span of the builds, not more (the step ends soon
    // after the last build, by the emulator's clock, so its own load adds nothing to the bound)
    const lastEnd = Math.max(...rows.map(([row]) => emu.settledAt(row.deploymentId) as number))
    expect(ended - lastEnd).toBeLessThan(6000)
    expect(results(run.outputs)).toEqual([
      { resource: 'application', id: emu.ids.api, name: 'api', environment: 'production', status: 'done', 'deployment-id': rows[0][0].deploymentId, url: '', 'rolled-back-to': '', duration: expect.any(Number) },
      { resource: 'application', id: emu.ids.web, name: 'web', environment: 'production', status: 'done', 'deployment-id': rows[1][0].deploymentId, url: 'https://shop.example.com', 'rolled-back-to': '', duration: expect.any(Number) },
      { resource: 'application', id: 'app-worker', name: 'worker', environment: 'production', status: 'done', 'deployment-id': rows[2][0].deploymentId, url: '', 'rolled-back-to': '', duration: expect.any(Number) }
    ])
    expect(run.outputs.url).toBe('\nhttps://shop.example.com\n')
    expect(run.outputs['log-url'].split('\n')).toEqual(ids.map((id) => `${emu.url}/dashboard/project/${emu.ids.shop}/environment/${emu.ids.prod}/services/application/${id}?tab=deployments`))
    expect(run.summary).toContain('<h2>✅ Dokploy deploy of api, web, worker: done</h2>')
    expect(run.summary).toContain('Title: 1a2b3c4 · Deploy &#35;42')
    for (const name of ['api', 'web', 'worker']) expect(visibleLog(run)).toMatch(new RegExp(`^\\[${name}\\] Deployment \\S+ ended done`, 'm'))
  }, 40_000)
})

heading('mixed outcomes', () => {
  concurrent('one build fails, another waits behind a push deploy: both followed to their own end, the step fails with the first failure', async () => {
    const { emu, base, rowsOf } = await start()
    // the push builds until the step has been shown its api job waiting behind it
    let shown!: () => void
    const seenWaiting = new Promise<void>((resolve) => (shown = resolve))
    emu.hook({
      procedure: 'deployment.queueList',
      when: 'after',
      times: Infinity,
      run: () => void (emu.queueList().some((job) => job.data.applicationId === emu.ids.api && isOurs(job) && job.state === 'waiting') && shown())
    })
    emu.setBuild(emu.ids.api, { durationMs: 2500, holdBefore: (event, job) => (event === 'end' && !isOurs(job) ? seenWaiting : undefined) })
    emu.setBuild(emu.ids.web, { durationMs: 300, fail: (job) => (isOurs(job) ? 'npm ERR! web build failed' : undefined) })
    // a push of api starts building as the step looks its targets up: the step's api job waits behind it
    emu.hook({ procedure: 'project.all', when: 'before', run: () => void emu.webhookDeploy(emu.ids.api) })
    const run = await runAction(base({ project: 'shop', environment: 'production', name: 'web\napi', 'log-lines': '5' }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('error')
    const [webRow] = rowsOf(emu.ids.web)
    const [push, ours] = rowsOf(emu.ids.api)
    expect(push.description).not.toContain(' · ref ')
    expect(ours.status).toBe('done')
    expect(results(run.outputs).map((r) => [r.name, r.status, r['deployment-id']])).toEqual([
      ['web', 'error', webRow.deploymentId],
      ['api', 'done', ours.deploymentId]
    ])
    expect(emu.stats().deployCalls).toEqual({ [emu.ids.web]: 1, [emu.ids.api]: 1 })
    expect(visibleLog(run)).toMatch(/^\[api\] Queued: behind \d other build\(s\) on this server\./m)
    // the failed target's annotation, log tail and summary section are its own
    expect(annotations(run, 'error')).toEqual([{ title: 'Dokploy deploy of web: error', message: expect.stringMatching(/^web: Deployment \S+ ended error/) }])
    expect(run.stdout).toMatch(/^::group::\[web\] Why deployment \S+ failed/m)
    expect(run.summary).toContain('<h3>❌ web: error</h3>')
    expect(run.summary).toContain('npm ERR&#33; web build failed')
    expect(run.summary).not.toContain('<h3>❌ api')
  }, 30_000)

  concurrent('an id that does not exist fails its target only: the other is deployed and followed', async () => {
    const { emu, base } = await start()
    const run = await runAction(base({ id: `${emu.ids.web}, app-nope` }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('failed')
    expect(results(run.outputs).map((r) => [r.id, r.status])).toEqual([
      [emu.ids.web, 'done'],
      ['app-nope', 'failed']
    ])
    expect(emu.stats().deployCalls[emu.ids.web]).toBe(1)
    expect(errorLine(run)).toMatch(/^app-nope: Dokploy found nothing for application\.deploy/)
  })

  concurrent('a timeout reads as still running, per target', async () => {
    // two build slots: web's build must not wait behind api's hanging one, whichever deploy Dokploy gets first;
    // and the wait is long enough for web's build and rollout check, however busy the machine
    const { emu, base } = await start({ concurrency: 2 })
    emu.setBuild(emu.ids.api, { hang: true })
    const run = await runAction(base({ id: `${emu.ids.web}\n${emu.ids.api}`, 'wait-timeout': '8' }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('timeout')
    expect(results(run.outputs).map((r) => r.status)).toEqual(['done', 'timeout'])
    // given by id, a service is named by the name its own settings gave (read for its live log and its rollout check)
    expect(results(run.outputs).map((r) => [r.name, r.environment])).toEqual([
      ['web', 'production'],
      ['api', 'production']
    ])
    expect(annotations(run, 'error')[0].title).toBe('Dokploy deploy of api: still running when the step stopped waiting')
    expect(run.summary).toContain('<h2>⏳ Dokploy deploy of web, api: still running when the step stopped waiting</h2>')
    expect(run.stdout).toMatch(/^::group::\[api\] Deployment \S+: still running when the step stopped waiting/m)
  }, 25_000)
})

heading('every target is resolved before anything is sent', () => {
  concurrent('a name that does not resolve fails the step with nothing sent', async () => {
    const { emu, base, mutations } = await start()
    const run = await runAction(base({ project: 'shop', environment: 'production', name: 'api, nope, web' }))

    expect(run.code).toBe(1)
    expect(run.outputs.status).toBe('failed')
    expect(run.outputs.results).toBe('[]')
    expect(run.outputs['log-url']).toBe(`${emu.url}/dashboard/projects`)
    expect(mutations()).toEqual([])
    expect(errorLine(run)).toContain('No application named "nope" in environment "production" of project "shop"')
  })

  concurrent('two names that lead to one service: refused, nothing sent (it would deploy twice)', async () => {
    const { base, mutations } = await start()
    const run = await runAction(base({ project: 'shop', environment: 'production', name: 'API, api' }))

    expect(run.code).toBe(1)
    expect(mutations()).toEqual([])
    expect(errorLine(run)).toMatch(/"api" and "api" name the same application \(app-api\): give it once\./)
  })

  concurrent('* in an environment without any service of the kind fails, nothing sent', async () => {
    const { base, mutations } = await start()
    const run = await runAction(base({ resource: 'compose', project: 'shop', environment: 'staging', name: '*', operation: 'stop' }))

    expect(run.code).toBe(1)
    expect(mutations()).toEqual([])
    expect(errorLine(run)).toContain('name is "*", but there is no compose in environment "staging" of project "shop"; nothing was sent.')
  })

  concurrent.each<[Record<string, string>, string, string]>([
    [{ id: 'a, b, a' }, '"id" is "a"', 'each service once'],
    [{ id: '', project: 'shop', name: 'web, *' }, '"name" is "web, *"', '* means every service of the kind'],
    [{ resource: 'database', id: 'pg-db' }, '"resource" is "database"', 'database is for a lookup by name'],
    [{ resource: 'database', id: '', project: 'shop', name: 'db', operation: 'redeploy' }, '"operation" is "redeploy"', 'database supports deploy, start, stop, reload']
  ])('input %j is refused before any request', async (extra, named, accepted) => {
    const { emu, base } = await start()
    const run = await runAction(base(extra))

    expect(run.code).toBe(1)
    expect(emu.requests).toEqual([])
    expect(errorLine(run)).toContain(named)
    expect(errorLine(run)).toContain(accepted)
    // the summary shows the operation and resource as written
    expect(run.summary).toContain(`Dokploy ${extra.operation ?? 'deploy'}: failed`)
    expect(run.summary).toContain(`<td>${extra.resource ?? 'application'}</td>`)
  })
})

heading('resource: database over every kind', () => {
  concurrent('reload of every production database: the appNames come with the one lookup', async () => {
    const { emu, base, sent } = await start()
    const run = await runAction(base({ resource: 'database', project: 'shop', environment: 'production', name: '*', operation: 'reload' }))

    expect(run.code).toBe(0)
    const kinds = ['postgres', 'mysql', 'mariadb', 'mongo', 'redis', 'libsql'] as const
    expect(results(run.outputs).map((r) => r.resource)).toEqual([...kinds])
    for (const kind of kinds) {
      const [reload] = sent(`${kind}.reload`)
      const row = emu.state.services[kind].find((r) => r.environmentId === emu.ids.prod)
      expect(reload.input).toEqual({ [`${kind}Id`]: row?.[`${kind}Id`], appName: row?.appName })
    }
    // no .one, which carries every secret
    expect(emu.requests.filter((r) => /\.one$/.test(r.procedure ?? ''))).toEqual([])
    // and each reload's rollout check reads that database's tasks, with the appName and server from the lookup
    expect(emu.requests.map((r) => r.procedure).filter((p) => !/\.reload$/.test(p ?? ''))).toEqual(['project.all', 'environment.byProjectId', ...kinds.map(() => 'swarm.getAppInfos')])
  })

  concurrent('a name found in two database kinds is ambiguous', async () => {
    const { emu, base, mutations } = await start()
    const redis = emu.state.services.redis.find((r) => r.redisId === emu.ids.redis)
    if (redis) redis.name = 'db'
    const run = await runAction(base({ resource: 'database', project: 'shop', environment: 'production', name: 'db', operation: 'stop' }))

    expect(run.code).toBe(1)
    expect(mutations()).toEqual([])
    expect(errorLine(run)).toMatch(/Several database services in environment "production" of project "shop" match "db": "db \(postgres, pg-db\)", "db \(redis, rd-cache\)"/)
  })
})

heading('the live log of several targets', () => {
  concurrent('builds that may overlap: every streamed line carries its target’s name, and no group is opened', async () => {
    const { emu, base } = await start()
    // each build ends only once the step streams its log, so both logs are streamed (web's behind api's)
    emu.setBuild(emu.ids.api, { durationMs: 3000, holdBefore: endOnceStreaming(emu) })
    emu.setBuild(emu.ids.web, { durationMs: 3000, holdBefore: endOnceStreaming(emu) })
    const run = await runAction(base({ project: 'shop', environment: 'production', name: 'api, web' }))

    expect(run.code).toBe(0)
    const log = visibleLog(run)
    for (const name of ['api', 'web']) {
      expect(log).toMatch(new RegExp(`^\\[${name}\\] Initializing deployment$`, 'm'))
      expect(log).toMatch(new RegExp(`^\\[${name}\\] Docker Deployed: ✅$`, 'm'))
    }
    expect(run.stdout).not.toMatch(/^::group::/m)
  })
})
