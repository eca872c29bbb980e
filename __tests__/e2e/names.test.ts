import { afterAll, expect } from '@jest/globals'
import { concurrent, heading } from './at-once.js'
import { annotations, emulators, errorLine, runAction, visibleLog, type ActionRun } from './harness.js'

/**
 * project / environment / name instead of id: one project.all per run, the resolved id in the
 * `resource-id` output, and a failure that lists what exists (and deploys nothing) when the name
 * does not lead to exactly one service. Each test has an emulator of its own, so that they run at once.
 */
const { start: startEmulator, closeAll } = emulators({ buildMs: 100 })
afterAll(closeAll)

/** An emulator of the test's own, and what its tests read of it. */
async function start() {
  const emu = await startEmulator()
  /** Requests that reached the server for one procedure (an emulator per test: one test's worth). */
  const sent = (procedure: string) => emu.requests.filter((r) => r.procedure === procedure)
  /** Every state-changing call this test sent: deploys, saves, reloads … */
  const mutations = (): string[] => emu.requests.filter((r) => r.method === 'POST').map((r) => r.procedure ?? '')
  return {
    emu,
    sent,
    byName: (extra: Record<string, string>): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, project: 'shop', ...extra }),
    procedures: (): (string | null)[] => emu.requests.map((r) => r.procedure),
    expectFailedBeforeAnyChange: (run: ActionRun): void => {
      expect(run.code).toBe(1)
      expect(run.outputs.status).toBe('failed')
      expect(run.outputs['resource-id']).toBe('')
      expect(mutations()).toEqual([])
      expect(sent('project.all')).toHaveLength(1)
    }
  }
}

const EVERY_KIND = [
  ['application', 'web', 'web'],
  ['compose', 'stack', 'stack'],
  ['postgres', 'db', 'postgres'],
  ['mysql', 'mysql-db', 'mysql'],
  ['mariadb', 'maria-db', 'mariadb'],
  ['mongo', 'mongo-db', 'mongo'],
  ['redis', 'cache', 'redis'],
  ['libsql', 'edge', 'libsql']
] as const

heading('each resource by name, in environment production', () => {
  concurrent.each(EVERY_KIND)('%s "%s"', async (resource, name, key) => {
    const { emu, byName, sent } = await start()
    const id = emu.ids[key]
    // log: tail: a row seen running would be streamed, and the live log reads .one for the secrets first
    const run = await runAction(byName({ resource, environment: 'production', name, log: 'tail' }))

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    expect(run.outputs['resource-id']).toBe(id)
    expect(visibleLog(run)).toContain(`Found ${resource} "${name}" in production: id ${id}.`)
    expect(run.outputs['log-url']).toContain(`/dashboard/project/${emu.ids.shop}/environment/${emu.ids.prod}/services/${resource}/${id}`)
    expect(run.summary).toContain(`<code>${name}</code>`)
    expect(run.summary).toContain('production')

    const deploys = sent(`${resource}.deploy`)
    expect(deploys).toHaveLength(1)
    expect(deploys[0].input).toMatchObject({ [`${resource}Id`]: id })
    expect(sent('project.all')).toHaveLength(1)
    // the name came with the lookup; so did a database's appName and server, which the rollout check reads the
    // tasks with: nothing reads its secrets-laden `.one`. An application's or compose stack's trimmed entry in
    // project.all has no appName, so the check reads their `.one`, once, after done.
    expect(sent(`${resource}.one`)).toHaveLength(resource === 'application' || resource === 'compose' ? 1 : 0)
  })
})

heading('matching names', () => {
  concurrent('a case-insensitive match counts when it is the only one: worker finds Worker in staging', async () => {
    const { emu, byName, sent } = await start()
    const run = await runAction(byName({ environment: 'staging', name: 'worker', operation: 'start' }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.worker)
    expect(visibleLog(run)).toContain(`Found application "Worker" in staging: id ${emu.ids.worker}.`)
    expect(sent('application.start')[0].input).toEqual({ applicationId: emu.ids.worker })
  })

  concurrent('project and environment names are matched the same way', async () => {
    const { emu, byName } = await start()
    const run = await runAction(byName({ project: 'Shop', environment: 'PRODUCTION', name: 'WEB', operation: 'stop' }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.web)
    expect(run.outputs.status).toBe('idle')
  })

  heading('with "web" and "Web" side by side in production', () => {
    const withUpperWeb = async () => {
      const started = await start()
      const { emu } = started
      const web = emu.state.services.application.find((row) => row.applicationId === emu.ids.web)
      emu.state.services.application.push({ ...structuredClone(web), applicationId: 'app-web-upper', name: 'Web', appName: 'web-upper-qwerty' })
      return started
    }

    concurrent('the exact, case-sensitive match wins', async () => {
      const { emu, byName } = await withUpperWeb()
      const lower = await runAction(byName({ environment: 'production', name: 'web', operation: 'start' }))
      const upper = await runAction(byName({ environment: 'production', name: 'Web', operation: 'start' }))

      expect(lower.code).toBe(0)
      expect(lower.outputs['resource-id']).toBe(emu.ids.web)
      expect(upper.code).toBe(0)
      expect(upper.outputs['resource-id']).toBe('app-web-upper')
    })

    concurrent('two case-insensitive matches are ambiguous: the step fails and starts nothing', async () => {
      const { byName, expectFailedBeforeAnyChange } = await withUpperWeb()
      const run = await runAction(byName({ environment: 'production', name: 'WEB', operation: 'start' }))

      expectFailedBeforeAnyChange(run)
      const message = errorLine(run)
      expect(message).toContain('"WEB"')
      // both candidates sit in the environment that was named: the message must say that, not send the user to set it
      expect(message).toMatch(/app-web-upper|"Web"/)
      expect(message).not.toContain('Set the environment input')
    })
  })

  concurrent('without environment every environment is searched: web in production and staging fails, deploying nothing', async () => {
    const { emu, byName, sent, expectFailedBeforeAnyChange } = await start()
    const run = await runAction(byName({ name: 'web' }))

    expectFailedBeforeAnyChange(run)
    const message = errorLine(run)
    expect(message).toContain('"web"')
    expect(message).toContain('"production"')
    expect(message).toContain('"staging"')
    expect(message).toContain('Set the environment input')
    expect(sent('application.deploy')).toHaveLength(0)
    expect(emu.stats().deployCalls).toEqual({})
  })

  concurrent('without environment a name found in one environment only is enough', async () => {
    const { emu, byName } = await start()
    const run = await runAction(byName({ name: 'Worker', operation: 'start' }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.worker)
    expect(visibleLog(run)).toContain(`Found application "Worker" in staging: id ${emu.ids.worker}.`)
  })

  concurrent('the same name in two projects is fine once the project is named', async () => {
    const { emu, byName, sent } = await start()
    const blog = await runAction(byName({ project: 'blog', name: 'web' }))
    const shop = await runAction(byName({ project: 'shop', environment: 'production', name: 'web' }))

    expect(blog.code).toBe(0)
    expect(blog.outputs['resource-id']).toBe(emu.ids.blogWeb)
    expect(shop.code).toBe(0)
    expect(shop.outputs['resource-id']).toBe(emu.ids.web)
    expect(sent('application.deploy').map((r) => r.input.applicationId)).toEqual([emu.ids.blogWeb, emu.ids.web])
    expect(sent('project.all')).toHaveLength(2) // one per run
  })
})

heading('names that lead nowhere list what exists', () => {
  concurrent('an unknown project lists the projects', async () => {
    const { byName, expectFailedBeforeAnyChange } = await start()
    const run = await runAction(byName({ project: 'shopp', environment: 'production', name: 'web' }))

    expectFailedBeforeAnyChange(run)
    expect(errorLine(run)).toContain('No project named "shopp"')
    expect(errorLine(run)).toContain('Projects: "shop", "blog".')
  })

  concurrent('an unknown environment lists the environments of the project', async () => {
    const { byName, expectFailedBeforeAnyChange } = await start()
    const run = await runAction(byName({ environment: 'prod', name: 'web' }))

    expectFailedBeforeAnyChange(run)
    expect(errorLine(run)).toContain('"prod"')
    expect(errorLine(run)).toContain('Environments: "production", "staging".')
  })

  concurrent('an unknown application lists the applications there', async () => {
    const { byName, expectFailedBeforeAnyChange } = await start()
    const run = await runAction(byName({ environment: 'production', name: 'shop-web' }))

    expectFailedBeforeAnyChange(run)
    expect(errorLine(run)).toContain('No application named "shop-web" in environment "production" of project "shop"')
    expect(errorLine(run)).toContain('"web", "api"')
    expect(errorLine(run)).not.toContain('stack')
  })

  concurrent('an unknown database lists the databases of that kind, by name (read from environment.byProjectId)', async () => {
    const { byName, sent, expectFailedBeforeAnyChange } = await start()
    const run = await runAction(byName({ resource: 'postgres', name: 'pg' }))

    expectFailedBeforeAnyChange(run)
    expect(errorLine(run)).toContain('No postgres named "pg" in project "shop"')
    expect(errorLine(run)).toContain('"db (production)", "db (staging)"')
    expect(errorLine(run)).not.toContain('undefined')
    expect(sent('environment.byProjectId')).toHaveLength(1)
  })
})

heading('the three shapes of project.all', () => {
  concurrent('v0.24.0 (no environments): services on the project; environment is ignored with a warning', async () => {
    const { emu, byName, procedures } = await start()
    emu.setVersion('v0.24.0')
    const run = await runAction(byName({ resource: 'postgres', environment: 'production', name: 'db' }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.postgres)
    expect(annotations(run, 'warning')).toEqual([{ title: 'Dokploy', message: 'This Dokploy has no environments; ignoring environment "production".' }])
    expect(visibleLog(run)).toContain(`Found postgres "db": id ${emu.ids.postgres}.`)
    // the rollout check: the full row gave the appName and server, so only the tasks are read
    expect(procedures()).toEqual(['project.all', 'postgres.deploy', 'swarm.getAppInfos'])
  })

  concurrent('v0.24.0: an application by name, without environment', async () => {
    const { emu, byName, sent } = await start()
    emu.setVersion('v0.24.0')
    // log: tail: a row seen running would be streamed, and the live log reads .one for the secrets first
    const run = await runAction(byName({ name: 'web', log: 'tail' }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.web)
    expect(sent('project.all')).toHaveLength(1)
    expect(sent('environment.byProjectId')).toHaveLength(0)
    expect(sent('application.one')).toHaveLength(0)
    expect(sent('application.deploy')).toHaveLength(1)
  })

  concurrent('v0.27.0 (full rows): a database is found in project.all alone', async () => {
    const { emu, byName, procedures } = await start()
    emu.setVersion('v0.27.0')
    const run = await runAction(byName({ resource: 'postgres', environment: 'production', name: 'db' }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.postgres)
    expect(procedures()).toEqual(['project.all', 'postgres.deploy', 'swarm.getAppInfos'])
  })

  concurrent('v0.30.2 (trimmed, databases as ids only): environment.byProjectId supplies the names', async () => {
    const { emu, byName, sent, procedures } = await start()
    emu.setVersion('v0.30.2')
    const run = await runAction(byName({ resource: 'postgres', environment: 'production', name: 'db' }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.postgres)
    expect(procedures()).toEqual(['project.all', 'environment.byProjectId', 'postgres.deploy', 'swarm.getAppInfos'])
    expect(sent('environment.byProjectId')[0].input).toEqual({ projectId: emu.ids.shop })
  })

  concurrent('v0.30.2: the staging database of the same name is told apart by environment', async () => {
    const { emu, byName, sent } = await start()
    const run = await runAction(byName({ resource: 'postgres', environment: 'staging', name: 'db', operation: 'stop' }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.postgresStaging)
    expect(sent('postgres.stop')[0].input).toEqual({ postgresId: emu.ids.postgresStaging })
  })

  concurrent('v0.30.2: applications carry their names in project.all, so byProjectId is not needed', async () => {
    const { emu, byName, sent } = await start()
    const run = await runAction(byName({ environment: 'production', name: 'api' }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.api)
    expect(sent('project.all')).toHaveLength(1)
    expect(sent('environment.byProjectId')).toHaveLength(0)
  })

  concurrent('with an id there is no lookup at all: the operation alone, and the dashboard link is the projects page', async () => {
    const { emu, procedures } = await start()
    const run = await runAction({ url: emu.url, 'api-key': emu.apiKey, resource: 'postgres', id: emu.ids.postgres, operation: 'stop' })

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.postgres)
    expect(procedures()).toEqual(['postgres.stop'])
    expect(run.outputs['log-url']).toBe(`${emu.url}/dashboard/projects`)
  })
})

heading('reload by name: the appName comes with the lookup when it can', () => {
  concurrent('v0.30.2 database: from environment.byProjectId, no .one', async () => {
    const { emu, byName, sent, procedures } = await start()
    const run = await runAction(byName({ resource: 'mariadb', environment: 'production', name: 'maria-db', operation: 'reload' }))

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    // then the rollout check reads the tasks, with the appName and server from the same lookup
    expect(procedures()).toEqual(['project.all', 'environment.byProjectId', 'mariadb.reload', 'swarm.getAppInfos'])
    const row = emu.state.find('mariadb', emu.ids.mariadb)
    expect(sent('mariadb.reload')[0].input).toEqual({ mariadbId: emu.ids.mariadb, appName: row?.appName })
  })

  concurrent('v0.27.0 application: from the full rows of project.all, no .one', async () => {
    const { emu, byName, sent, procedures } = await start()
    emu.setVersion('v0.27.0')
    const run = await runAction(byName({ environment: 'production', name: 'web', operation: 'reload' }))

    expect(run.code).toBe(0)
    expect(procedures()).toEqual(['project.all', 'application.reload'])
    const row = emu.state.find('application', emu.ids.web)
    expect(sent('application.reload')[0].input).toEqual({ applicationId: emu.ids.web, appName: row?.appName })
  })

  concurrent('v0.30.2 application: the trimmed list has no appName, so one more read supplies it', async () => {
    const { emu, byName, sent } = await start()
    const run = await runAction(byName({ environment: 'production', name: 'web', operation: 'reload' }))

    expect(run.code).toBe(0)
    expect(sent('project.all')).toHaveLength(1)
    expect(emu.requests).toHaveLength(3)
    const row = emu.state.find('application', emu.ids.web)
    expect(sent('application.reload')[0].input).toEqual({ applicationId: emu.ids.web, appName: row?.appName })
  })
})
