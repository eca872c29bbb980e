import { afterAll, expect } from '@jest/globals'
import { isDeepStrictEqual } from 'node:util'
import { concurrent, heading } from './at-once.js'
import { annotations, emulators, runAction, visibleLog, type ActionRun } from './harness.js'

/**
 * Changes made before the operation: a new docker-image (keeping or replacing the registry login)
 * and env (merge or replace). Each is sent only when it changes something, before the deploy, and
 * the log names keys, never values. Each test has an emulator of its own, so that they run at once.
 */
const { start: startEmulator, closeAll } = emulators({ buildMs: 100 })
afterAll(closeAll)

/** An emulator of the test's own, so that the tests run at once. */
async function start() {
  const emu = await startEmulator()
  return {
    emu,
    inputs: (extra: Record<string, string>): Record<string, string> => ({ url: emu.url, 'api-key': emu.apiKey, ...extra }),
    sent: (procedure: string) => emu.requests.filter((r) => r.procedure === procedure),
    /** Position of a procedure's first request in this run (the test's own emulator). */
    order: (procedure: string): number => emu.requests.findIndex((r) => r.procedure === procedure),
    row: (kind: 'application' | 'compose' | 'postgres' | 'mysql' | 'redis' | 'libsql', key: string) => {
      const found = emu.state.find(kind, emu.ids[key])
      if (!found) throw new Error(`no ${kind} ${key} in the fixture`)
      return found
    }
  }
}

/**
 * Compares values that hold secret markers without printing them: a failed toEqual would show
 * both sides in the test report.
 */
function expectSameSecret(actual: unknown, expected: unknown, what: string): void {
  if (!isDeepStrictEqual(actual, expected)) throw new Error(`${what} differs from what was expected (values not shown: they hold secrets)`)
}

/** A value may reach stdout only in the ::add-mask:: line that hides it. */
function expectOnlyMasked(run: ActionRun, value: string): void {
  const lines = run.stdout.split('\n').filter((line) => line.includes(value))
  expect(lines.length).toBeGreaterThan(0)
  expect(lines.filter((line) => !line.startsWith('::add-mask::'))).toEqual([])
  expect(run.summary).not.toContain(value)
  expect(JSON.stringify(run.outputs)).not.toContain(value)
}

heading('docker-image', () => {
  concurrent('a new image keeps the registry login the application has, then deploys once', async () => {
    const { emu, inputs, sent, order, row } = await start()
    const api = row('application', 'api')
    const login = { registryUrl: api.registryUrl, username: api.username, password: api.password }
    const run = await runAction(inputs({ id: emu.ids.api, 'docker-image': 'ghcr.io/acme/api:2.0' }))

    expect(run.code).toBe(0)
    expect(run.outputs.status).toBe('done')
    const saves = sent('application.saveDockerProvider')
    expect(saves).toHaveLength(1)
    const { password, ...visible } = saves[0].input
    expect(visible).toEqual({ applicationId: emu.ids.api, dockerImage: 'ghcr.io/acme/api:2.0', registryUrl: 'ghcr.io', username: 'acme-bot' })
    expectSameSecret(password, login.password, 'the registry password sent')
    expect(sent('application.deploy')).toHaveLength(1)
    expect(sent('application.redeploy')).toHaveLength(0)
    expect(order('application.saveDockerProvider')).toBeLessThan(order('application.deploy'))

    expect(api.dockerImage).toBe('ghcr.io/acme/api:2.0')
    expectSameSecret({ registryUrl: api.registryUrl, username: api.username, password: api.password }, login, 'the stored registry login')
    expect(visibleLog(run)).toContain('Image: ghcr.io/acme/api:1.0 → ghcr.io/acme/api:2.0 (registry login kept).')
  })

  concurrent('registry-url, registry-username and registry-password replace the login', async () => {
    const { emu, inputs, sent, row } = await start()
    const newPassword = 'rp-9d2e7b41c0aa'
    const run = await runAction(
      inputs({
        id: emu.ids.api,
        'docker-image': 'registry.example.com/acme/api:2.0',
        'registry-url': 'registry.example.com',
        'registry-username': 'deploy-bot',
        'registry-password': newPassword
      })
    )

    expect(run.code).toBe(0)
    const saves = sent('application.saveDockerProvider')
    expect(saves).toHaveLength(1)
    expect(saves[0].input.password === newPassword).toBe(true)
    expect(saves[0].input).toMatchObject({ dockerImage: 'registry.example.com/acme/api:2.0', registryUrl: 'registry.example.com', username: 'deploy-bot' })
    const api = row('application', 'api')
    expect(api.password === newPassword).toBe(true)
    expect(api.username).toBe('deploy-bot')
    expect(visibleLog(run)).toContain('(new registry login)')
    expectOnlyMasked(run, newPassword)
    expect(sent('application.deploy')).toHaveLength(1)
  })

  concurrent('registry-password alone replaces only the password', async () => {
    const { emu, inputs, sent } = await start()
    const newPassword = 'rp-only-5c81f2e9'
    const run = await runAction(inputs({ id: emu.ids.api, 'docker-image': 'ghcr.io/acme/api:2.1', 'registry-password': newPassword }))

    expect(run.code).toBe(0)
    const [save] = sent('application.saveDockerProvider')
    expect(save.input).toMatchObject({ dockerImage: 'ghcr.io/acme/api:2.1', registryUrl: 'ghcr.io', username: 'acme-bot' })
    expect(save.input.password === newPassword).toBe(true)
  })

  concurrent('registry-url alone: the stored login is not sent to the other registry', async () => {
    const { emu, inputs, sent } = await start()
    const run = await runAction(inputs({ id: emu.ids.api, 'docker-image': 'registry.example.net/acme/api:3', 'registry-url': 'registry.example.net' }))

    expect(run.code).toBe(0)
    const [save] = sent('application.saveDockerProvider')
    expect(save.input).toMatchObject({ registryUrl: 'registry.example.net', username: null, password: null })
    expect(annotations(run, 'warning').map(({ message }) => message)).toContainEqual(expect.stringMatching(/^registry-url changes the registry: its stored login is not sent/))
  })

  concurrent('redeploy with docker-image warns and deploys instead: redeploy would not pull the image', async () => {
    const { emu, inputs, sent } = await start()
    const run = await runAction(inputs({ id: emu.ids.api, operation: 'redeploy', 'docker-image': 'ghcr.io/acme/api:2.0' }))

    expect(run.code).toBe(0)
    expect(annotations(run, 'warning').map(({ message }) => message)).toContainEqual(expect.stringMatching(/^redeploy does not pull images; deploying instead/))
    expect(sent('application.saveDockerProvider')).toHaveLength(1)
    expect(sent('application.deploy')).toHaveLength(1)
    expect(sent('application.redeploy')).toHaveLength(0)
    expect(emu.stats().redeployCalls).toEqual({})
    expect(run.summary).toContain('Dokploy deploy of api: done')
  })

  concurrent('the image already set is not saved again; the deploy still runs', async () => {
    const { emu, inputs, sent, row } = await start()
    const run = await runAction(inputs({ id: emu.ids.api, 'docker-image': 'ghcr.io/acme/api:1.0' }))

    expect(run.code).toBe(0)
    expect(sent('application.saveDockerProvider')).toHaveLength(0)
    expect(visibleLog(run)).toContain('Image: already ghcr.io/acme/api:1.0, not saved.')
    expect(sent('application.deploy')).toHaveLength(1)
    expect(row('application', 'api').applicationStatus).toBe('done')
  })

  concurrent('a git-sourced application switches to the image, with no registry login', async () => {
    const { emu, inputs, sent, row } = await start()
    const run = await runAction(inputs({ id: emu.ids.web, 'docker-image': 'nginx:1.27' }))

    expect(run.code).toBe(0)
    expect(sent('application.saveDockerProvider')[0].input).toEqual({
      applicationId: emu.ids.web,
      dockerImage: 'nginx:1.27',
      registryUrl: null,
      username: null,
      password: null
    })
    expect(row('application', 'web').sourceType).toBe('docker')
    expect(visibleLog(run)).toContain('(no registry login)')
  })

  concurrent('by name: the image goes to the application the lookup found', async () => {
    const { emu, inputs, sent } = await start()
    const run = await runAction(inputs({ project: 'shop', environment: 'production', name: 'api', 'docker-image': 'ghcr.io/acme/api:3.0' }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.api)
    expect(sent('application.saveDockerProvider')[0].input).toMatchObject({ applicationId: emu.ids.api, dockerImage: 'ghcr.io/acme/api:3.0' })
    expect(sent('project.all')).toHaveLength(1)
  })
})

heading('env', () => {
  const NEW_VALUE = 'nK7qX2Lp9Vz4Rt8Wb3Mc5Hd'
  const CHANGED_VALUE = 'lL5mC8Vq2Xz9Pw4Rb7Nt3Kf'

  concurrent('merge sets the given keys, keeps every other key, and keeps build args, build secrets and createEnvFile', async () => {
    const { emu, inputs, sent, row } = await start()
    const web = row('application', 'web')
    web.createEnvFile = false // not the default: proves the flag is resent as it was, not reset
    const before = structuredClone(web)
    const run = await runAction(inputs({ id: emu.ids.web, env: `NEW_KEY=${NEW_VALUE}\nLOG_LEVEL=${CHANGED_VALUE}` }))

    expect(run.code).toBe(0)
    expect(sent('application.saveEnvironment')).toHaveLength(1)
    const after = row('application', 'web')
    expect(after.env.split('\n').map((line: string) => line.split('=')[0])).toEqual(['NODE_ENV', 'DATABASE_URL', 'LOG_LEVEL', 'NEW_KEY'])
    expectSameSecret(after.env, before.env.replace('LOG_LEVEL=info', `LOG_LEVEL=${CHANGED_VALUE}`) + `\nNEW_KEY=${NEW_VALUE}`, 'the merged env')
    expectSameSecret(after.buildArgs, before.buildArgs, 'buildArgs')
    expectSameSecret(after.buildSecrets, before.buildSecrets, 'buildSecrets')
    expect(after.createEnvFile).toBe(false)

    expect(visibleLog(run)).toContain('Environment (merge) saved: added NEW_KEY; changed LOG_LEVEL.')
    expectOnlyMasked(run, NEW_VALUE)
    expectOnlyMasked(run, CHANGED_VALUE)
  })

  concurrent('replace makes the given entries the whole env and lists the removed keys', async () => {
    const { emu, inputs, row } = await start()
    const before = structuredClone(row('application', 'web'))
    const run = await runAction(inputs({ id: emu.ids.web, env: `NEW_KEY=${NEW_VALUE}\nNODE_ENV=production`, 'env-strategy': 'replace' }))

    expect(run.code).toBe(0)
    const after = row('application', 'web')
    expect(after.env).toBe(`NEW_KEY=${NEW_VALUE}\nNODE_ENV=production`)
    expectSameSecret(after.buildArgs, before.buildArgs, 'buildArgs')
    expectSameSecret(after.buildSecrets, before.buildSecrets, 'buildSecrets')
    expect(after.createEnvFile).toBe(before.createEnvFile)
    expect(visibleLog(run)).toContain('Environment (replace) saved: added NEW_KEY; removed DATABASE_URL, LOG_LEVEL.')
    expectOnlyMasked(run, NEW_VALUE)
  })

  concurrent('an env that changes nothing is not saved', async () => {
    const { emu, inputs, sent } = await start()
    const run = await runAction(inputs({ id: emu.ids.web, env: 'LOG_LEVEL=info\nNODE_ENV=production' }))

    expect(run.code).toBe(0)
    expect(sent('application.saveEnvironment')).toHaveLength(0)
    expect(visibleLog(run)).toContain('Environment: no change, not saved.')
    expect(sent('application.deploy')).toHaveLength(1)
  })

  concurrent('env is saved before the deploy, and before the image when both are given', async () => {
    const { emu, inputs, sent, order } = await start()
    const run = await runAction(inputs({ id: emu.ids.api, env: `NEW_KEY=${NEW_VALUE}`, 'docker-image': 'ghcr.io/acme/api:2.0' }))

    expect(run.code).toBe(0)
    const saved = order('application.saveEnvironment')
    expect(saved).toBeGreaterThanOrEqual(0)
    expect(saved).toBeLessThan(order('application.saveDockerProvider'))
    expect(order('application.saveDockerProvider')).toBeLessThan(order('application.deploy'))
    expect(sent('application.deploy')).toHaveLength(1)
  })

  concurrent('compose uses compose.saveEnvironment, before compose.deploy, keeping createEnvFile', async () => {
    const { emu, inputs, sent, order, row } = await start()
    const stack = row('compose', 'stack')
    stack.createEnvFile = false
    const before = structuredClone(stack)
    const run = await runAction(inputs({ resource: 'compose', id: emu.ids.stack, env: `NEW_KEY=${NEW_VALUE}` }))

    expect(run.code).toBe(0)
    const saves = sent('compose.saveEnvironment')
    expect(saves).toHaveLength(1)
    expect(Object.keys(saves[0].input).sort()).toEqual(['composeId', 'createEnvFile', 'env'])
    expect(saves[0].input).toMatchObject({ composeId: emu.ids.stack, createEnvFile: false })
    expectSameSecret(row('compose', 'stack').env, `${before.env}\nNEW_KEY=${NEW_VALUE}`, 'the merged compose env')
    expectSameSecret(row('compose', 'stack').composeFile, before.composeFile, 'composeFile')
    expect(order('compose.saveEnvironment')).toBeLessThan(order('compose.deploy'))
    expect(visibleLog(run)).toContain('Environment (merge) saved: added NEW_KEY.')
    expectOnlyMasked(run, NEW_VALUE)
  })

  concurrent('a database uses its own saveEnvironment, before its deploy', async () => {
    const { emu, inputs, sent, order, row } = await start()
    const before = structuredClone(row('mysql', 'mysql'))
    const run = await runAction(inputs({ resource: 'mysql', id: emu.ids.mysql, env: `TZ=Europe/Berlin\nNEW_KEY=${NEW_VALUE}` }))

    expect(run.code).toBe(0)
    const saves = sent('mysql.saveEnvironment')
    expect(saves).toHaveLength(1)
    expect(Object.keys(saves[0].input).sort()).toEqual(['env', 'mysqlId'])
    expect(saves[0].input.mysqlId).toBe(emu.ids.mysql)
    expectSameSecret(row('mysql', 'mysql').env, `${before.env.replace('TZ=UTC', 'TZ=Europe/Berlin')}\nNEW_KEY=${NEW_VALUE}`, 'the merged mysql env')
    expect(order('mysql.saveEnvironment')).toBeLessThan(order('mysql.deploy'))
    expect(emu.stats().deployCalls[emu.ids.mysql]).toBe(1)
    expect(visibleLog(run)).toContain('Environment (merge) saved: added NEW_KEY; changed TZ.')
    expectOnlyMasked(run, NEW_VALUE)
  })

  concurrent('existing env values are masked, yet the summary still names the environment found by name', async () => {
    const { emu, inputs } = await start()
    // web's env holds NODE_ENV=production: masking that value must not blank the environment row of the summary
    const run = await runAction(inputs({ project: 'shop', environment: 'production', name: 'web', env: `NEW_KEY=${NEW_VALUE}` }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.web)
    expect(run.summary).toMatch(/<th align="left">Environment<\/th><td>production<\/td>/)
  })

  concurrent('a database found by name on v0.30 gets its env too', async () => {
    const { emu, inputs, sent, order, row } = await start()
    const run = await runAction(inputs({ resource: 'redis', project: 'shop', environment: 'production', name: 'cache', env: `NEW_KEY=${NEW_VALUE}`, operation: 'reload' }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.redis)
    expect(sent('redis.saveEnvironment')[0].input).toMatchObject({ redisId: emu.ids.redis })
    expect(order('redis.saveEnvironment')).toBeLessThan(order('redis.reload'))
    expect(row('redis', 'redis').env.endsWith(`\nNEW_KEY=${NEW_VALUE}`)).toBe(true)
  })

  concurrent('libsql by name: env saved with libsqlId, then deployed; its values masked', async () => {
    const { emu, inputs, sent, order, row } = await start()
    const run = await runAction(inputs({ resource: 'libsql', project: 'shop', environment: 'production', name: 'edge', env: `NEW_KEY=${NEW_VALUE}` }))

    expect(run.code).toBe(0)
    expect(run.outputs['resource-id']).toBe(emu.ids.libsql)
    expect(Object.keys(sent('libsql.saveEnvironment')[0].input).sort()).toEqual(['env', 'libsqlId'])
    expect(order('libsql.saveEnvironment')).toBeLessThan(order('libsql.deploy'))
    expect(row('libsql', 'libsql').env.endsWith(`\nNEW_KEY=${NEW_VALUE}`)).toBe(true)
    expectOnlyMasked(run, NEW_VALUE)
  })
})
