// Tests of the Dokploy emulator itself, over real HTTP: if these drift from API.md, every action test built on
// the emulator proves nothing.
import { describe, test, expect, afterAll } from '@jest/globals'
import { concurrent, heading } from './e2e/at-once.js'
import { startEmulator, setDefaultTimeScale, SECRET_MARKERS, HOSTILE_TEXT } from './emulator/server.js'
import type { Emulator, EmulatorOptions } from './emulator/server.js'

/** Parsed reply bodies are whatever JSON.parse gives: assertions check their shape. */
type Json = ReturnType<typeof JSON.parse>
type Res = { status: number; headers: Headers; text: string; json: Json }

// Each test starts emulators of its own and runs beside the others; all are closed at the end of the file.
const running: Emulator[] = []
/** Shapes are checked with the lags off; 'real timing' below checks the lags themselves. */
async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  const emu = await startEmulator({ buildMs: 40, dbMs: 40, rowLagMs: 0, doneLagMs: 0, overwriteLagMs: 0, ...options })
  running.push(emu)
  return emu
}
afterAll(async () => {
  await Promise.all(running.splice(0).map((e) => e.close()))
})

async function http(
  emu: Emulator,
  method: string,
  path: string,
  opts: { body?: string; headers?: Record<string, string>; key?: string | null } = {}
): Promise<Res> {
  const headers: Record<string, string> = { ...opts.headers }
  const key = opts.key === undefined ? emu.apiKey : opts.key
  if (key !== null) headers['x-api-key'] = key
  const res = await fetch(emu.url + path, { method, headers, body: opts.body, redirect: 'manual' })
  const text = await res.text()
  let json: Json
  try {
    json = text ? JSON.parse(text) : undefined
  } catch {
    json = undefined
  }
  return { status: res.status, headers: res.headers, text, json }
}

/** tRPC query: GET with ?input= URL-encoded {"json":…}. */
function q(emu: Emulator, proc: string, input?: unknown, key?: string | null): Promise<Res> {
  const qs = input === undefined ? '' : `?input=${encodeURIComponent(JSON.stringify({ json: input }))}`
  return http(emu, 'GET', `/api/trpc/${proc}${qs}`, { key })
}

/** tRPC mutation: POST {"json":…}. */
function m(emu: Emulator, proc: string, input: unknown, key?: string | null): Promise<Res> {
  return http(emu, 'POST', `/api/trpc/${proc}`, {
    key,
    body: JSON.stringify({ json: input }),
    headers: { 'content-type': 'application/json' }
  })
}

const data = (r: Res) => r.json.result.data.json
const err = (r: Res) => r.json.error.json

/** Polls until `fn` holds: the bound is only how long a broken emulator may take to fail the test, never a margin. */
async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 15000): Promise<T> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error('waitFor: timed out')
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** A promise and the function that settles it: how a test holds the emulator at a point until it has looked. */
const deferred = () => {
  let release!: () => void
  const promise = new Promise<void>((resolve) => (release = resolve))
  return { promise, release }
}

const rows = async (emu: Emulator, applicationId: string) => data(await q(emu, 'deployment.all', { applicationId }))

heading('wire format', () => {
  concurrent('success, void and error envelopes', async () => {
    const emu = await start()
    const v = await q(emu, 'settings.getDokployVersion')
    expect(v.status).toBe(200)
    expect(v.json).toEqual({ result: { data: { json: 'v0.30.2' } } })

    const dep = await m(emu, 'application.deploy', { applicationId: emu.ids.web, title: 'CI run 1' })
    expect(dep.status).toBe(200)
    expect(dep.json).toEqual({ result: { data: { json: null, meta: { values: ['undefined'], v: 1 } } } })

    const nf = await q(emu, 'application.one', { applicationId: 'nope' })
    expect(nf.status).toBe(404)
    expect(nf.json).toEqual({
      error: {
        json: {
          message: 'Application not found',
          code: -32004,
          data: { code: 'NOT_FOUND', httpStatus: 404, path: 'application.one', zodError: null }
        }
      }
    })
    for (const [proc, input, msg] of [
      ['compose.one', { composeId: 'x' }, 'Compose not found'],
      ['postgres.one', { postgresId: 'x' }, 'Postgres not found'],
      ['redis.start', { redisId: 'x' }, 'Redis not found']
    ] as const) {
      const r = proc.endsWith('.one') ? await q(emu, proc, input) : await m(emu, proc, input)
      expect([r.status, err(r).message]).toEqual([404, msg])
    }
    // Owners skip existence checks on deployment lists.
    expect(await rows(emu, 'nope')).toEqual([])
  })

  concurrent('validation errors look like Zod in tRPC', async () => {
    const emu = await start()
    const empty = await m(emu, 'application.deploy', { applicationId: '' })
    expect(empty.status).toBe(400)
    expect(err(empty).code).toBe(-32600)
    expect(err(empty).data.code).toBe('BAD_REQUEST')
    expect(err(empty).data.zodError).toEqual({
      formErrors: [],
      fieldErrors: { applicationId: ['Too small: expected string to have >=1 characters'] }
    })
    expect(JSON.parse(err(empty).message)[0].path).toEqual(['applicationId'])

    // No `json` wrapper: the procedure sees undefined.
    const bare = await http(emu, 'POST', '/api/trpc/application.deploy', {
      body: JSON.stringify({ applicationId: emu.ids.web }),
      headers: { 'content-type': 'application/json' }
    })
    expect(bare.status).toBe(400)
    expect(err(bare).message).toContain('Invalid input: expected object, received undefined')
    expect(err(bare).data.zodError.formErrors).toEqual(['Invalid input: expected object, received undefined'])
    expect(emu.stats().deployCalls).toEqual({})

    const save = await m(emu, 'application.saveEnvironment', { applicationId: emu.ids.web, env: 'A=1' })
    expect(save.status).toBe(400)
    expect(Object.keys(err(save).data.zodError.fieldErrors).sort()).toEqual(['buildArgs', 'buildSecrets', 'createEnvFile'])

    const docker = await m(emu, 'application.saveDockerProvider', {
      applicationId: emu.ids.api,
      dockerImage: 'ghcr.io/acme/api:2.0',
      registryUrl: null,
      password: null
    })
    expect(docker.status).toBe(400)
    expect(err(docker).data.zodError.fieldErrors).toEqual({
      username: ['Invalid input: expected string, received undefined']
    })

    const tail = await q(emu, 'deployment.readLogs', { deploymentId: 'x', tail: 0 })
    expect(tail.status).toBe(400)
    expect(err(tail).data.zodError.fieldErrors.tail).toEqual(['Too small: expected number to be >=1'])
  })

  concurrent('404 unknown procedure, 405 wrong method, 415 content type, 400 bad JSON', async () => {
    const emu = await start()
    const nope = await q(emu, 'application.nope', { applicationId: 'x' })
    expect([nope.status, err(nope).message, err(nope).data.code]).toEqual([404, 'No procedure found on path "application.nope"', 'NOT_FOUND'])

    const getMutation = await http(emu, 'GET', '/api/trpc/application.deploy')
    expect(getMutation.status).toBe(405)
    expect(err(getMutation)).toMatchObject({
      message: 'Unsupported GET-request to mutation procedure at path "application.deploy"',
      code: -32005,
      data: { code: 'METHOD_NOT_SUPPORTED', httpStatus: 405 }
    })
    const postQuery = await m(emu, 'project.all', {})
    expect([postQuery.status, err(postQuery).message]).toEqual([405, 'Unsupported POST-request to query procedure at path "project.all"'])

    const text = await http(emu, 'POST', '/api/trpc/application.deploy', { body: JSON.stringify({ json: { applicationId: emu.ids.web } }) })
    expect(text.status).toBe(415)
    expect(err(text).message).toBe('Unsupported content-type "text/plain;charset=UTF-8')

    const bad = await http(emu, 'POST', '/api/trpc/application.deploy', { body: '{"json":', headers: { 'content-type': 'application/json' } })
    expect(bad.status).toBe(400)
    expect(err(bad).data.code).toBe('PARSE_ERROR')
    expect(emu.stats().deployCalls).toEqual({})
  })

  concurrent('auth: 401 envelope, health without key, extra keys', async () => {
    const emu = await start({ apiKeys: ['second-key'] })
    expect(emu.apiKey).toMatch(/^test-key-/)
    for (const key of [null, 'wrong']) {
      const r = await q(emu, 'project.all', undefined, key)
      expect(r.status).toBe(401)
      expect(r.json).toEqual({
        error: { json: { message: 'UNAUTHORIZED', code: -32001, data: { code: 'UNAUTHORIZED', httpStatus: 401, path: 'project.all', zodError: null } } }
      })
    }
    expect((await q(emu, 'project.all', undefined, 'second-key')).status).toBe(200)
    const health = await http(emu, 'GET', '/api/health', { key: null })
    expect([health.status, health.json]).toEqual([200, { ok: true }])
    const trpcHealth = await q(emu, 'settings.health', undefined, null)
    expect(trpcHealth.json).toEqual({ result: { data: { json: { status: 'ok' } } } })
    expect((await q(emu, 'settings.getDokployVersion', undefined, null)).status).toBe(401)
  })

  concurrent('rate limit: the key turns into a bad key; REST spends two checks per request', async () => {
    const emu = await start()
    emu.setRateLimit(emu.apiKey, 3)
    expect((await q(emu, 'project.all')).status).toBe(200)
    expect((await q(emu, 'project.all')).status).toBe(200)
    expect((await http(emu, 'GET', '/api/project.all')).status).toBe(401) // needs 2, has 1
    const spent = await q(emu, 'project.all')
    expect(spent.status).toBe(401)
    expect(err(spent).data.code).toBe('UNAUTHORIZED')
    expect((await q(emu, 'settings.health', undefined, null)).status).toBe(200)
  })

  concurrent('REST: raw values, empty void body, Unauthorized, logged as rest', async () => {
    const emu = await start()
    const v = await http(emu, 'GET', '/api/settings.getDokployVersion')
    expect([v.status, v.json]).toEqual([200, 'v0.30.2'])
    const one = await http(emu, 'GET', `/api/application.one?applicationId=${emu.ids.web}`)
    expect(one.json.applicationId).toBe(emu.ids.web)
    const dep = await http(emu, 'POST', '/api/application.deploy', {
      body: JSON.stringify({ applicationId: emu.ids.web }),
      headers: { 'content-type': 'application/json' }
    })
    expect([dep.status, dep.text, dep.headers.get('content-type')]).toEqual([200, '', 'application/json'])
    const wrapped = await http(emu, 'POST', '/api/application.deploy', {
      body: JSON.stringify({ json: { applicationId: emu.ids.web } }),
      headers: { 'content-type': 'application/json' }
    })
    expect([wrapped.status, wrapped.json.message]).toEqual([400, 'Input validation failed'])
    const unauth = await http(emu, 'GET', '/api/project.all', { key: 'bad' })
    expect([unauth.status, unauth.json]).toEqual([401, { message: 'Unauthorized' }])
    const wrongMethod = await http(emu, 'GET', '/api/application.deploy')
    expect([wrongMethod.status, wrongMethod.json.message]).toEqual([404, 'Not found'])
    expect((await http(emu, 'GET', '/api/application/one')).status).toBe(404)
    expect(emu.requests.filter((r) => r.api === 'rest')).toHaveLength(7)
    expect(emu.requests[0]).toMatchObject({ method: 'GET', procedure: 'settings.getDokployVersion', api: 'rest', status: 200 })
    expect(emu.stats().rest).toBe(7)
  })

  concurrent('request log records procedure, unwrapped input and status in order', async () => {
    const emu = await start()
    await q(emu, 'application.one', { applicationId: emu.ids.web })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web, title: 'T' })
    expect(emu.requests.map((r) => [r.method, r.procedure, r.api, r.status])).toEqual([
      ['GET', 'application.one', 'trpc', 200],
      ['POST', 'application.deploy', 'trpc', 200]
    ])
    expect(emu.requests[1].input).toEqual({ applicationId: emu.ids.web, title: 'T' })
    expect(emu.requests[1].raw).toEqual({ json: { applicationId: emu.ids.web, title: 'T' } })
    expect(typeof emu.requests[0].at).toBe('number')
    expect(emu.stats()).toMatchObject({ requests: 2, deployCalls: { [emu.ids.web]: 1 } })
  })

  concurrent('batch: array reply, 207 when mixed', async () => {
    const emu = await start()
    const input = encodeURIComponent(JSON.stringify({ 0: { json: { applicationId: emu.ids.web } }, 1: { json: { applicationId: 'nope' } } }))
    const r = await http(emu, 'GET', `/api/trpc/application.one,application.one?batch=1&input=${input}`)
    expect(r.status).toBe(207)
    expect(r.json[0].result.data.json.applicationId).toBe(emu.ids.web)
    expect(r.json[1].error.json.message).toBe('Application not found')
    expect(emu.requests[0].procedures).toEqual(['application.one', 'application.one'])
  })
})

heading('fixture', () => {
  concurrent('ids, names, appNames and services', async () => {
    const emu = await start()
    expect(emu.ids).toMatchObject({
      web: 'app-web',
      api: 'app-api',
      stack: 'cmp-stack',
      postgres: 'pg-db',
      mysql: 'my-db',
      mariadb: 'mdb-db',
      mongo: 'mg-db',
      redis: 'rd-cache',
      webStaging: 'app-web-stg',
      worker: 'app-worker-stg',
      postgresStaging: 'pg-db-stg',
      blogWeb: 'app-blog-web',
      shop: 'proj-shop',
      blog: 'proj-blog',
      prod: 'env-shop-prod',
      staging: 'env-shop-stg',
      blogProd: 'env-blog-prod'
    })
    const web = data(await q(emu, 'application.one', { applicationId: emu.ids.web }))
    expect(web).toMatchObject({ name: 'web', sourceType: 'github', applicationStatus: 'done', createEnvFile: true })
    expect(web.appName).toMatch(/^web-[a-z]{6}$/)
    expect(web.environment).toMatchObject({ environmentId: emu.ids.prod, project: { projectId: emu.ids.shop } })
    const api = data(await q(emu, 'application.one', { applicationId: emu.ids.api }))
    expect(api).toMatchObject({ sourceType: 'docker', dockerImage: 'ghcr.io/acme/api:1.0', registryUrl: 'ghcr.io', username: 'acme-bot' })
    const stack = data(await q(emu, 'compose.one', { composeId: emu.ids.stack }))
    expect(stack).toMatchObject({ name: 'stack', composeStatus: 'done' })
    // Same appName for the same fixture on every start (deterministic).
    const again = await start()
    expect(again.state.find('application', again.ids.web)?.appName).toBe(web.appName)
  })

  concurrent('every secret field of API.md §6 holds a marker, and responses carry them', async () => {
    const emu = await start()
    expect(SECRET_MARKERS.length).toBeGreaterThan(30)
    expect(new Set(SECRET_MARKERS).size).toBe(SECRET_MARKERS.length)
    for (const mk of SECRET_MARKERS) expect(mk).toMatch(/^S3CR3T-[a-z0-9]+-[a-z0-9]+$/)
    const has = (v: unknown) => typeof v === 'string' && SECRET_MARKERS.some((mk) => v.includes(mk))

    const web = data(await q(emu, 'application.one', { applicationId: emu.ids.web }))
    for (const f of ['env', 'buildArgs', 'buildSecrets', 'refreshToken']) expect(has(web[f])).toBe(true)
    expect(has(web.environment.project.env)).toBe(true)
    expect(has(web.environment.env)).toBe(true)
    expect(has(web.github.githubClientSecret)).toBe(true)
    expect(has(data(await q(emu, 'application.one', { applicationId: emu.ids.api })).password)).toBe(true)
    const stack = data(await q(emu, 'compose.one', { composeId: emu.ids.stack }))
    for (const f of ['env', 'composeFile', 'refreshToken']) expect(has(stack[f])).toBe(true)
    expect(has(stack.github.githubPrivateKey)).toBe(true)
    for (const [router, key, id] of [
      ['postgres', 'postgresId', emu.ids.postgres],
      ['mysql', 'mysqlId', emu.ids.mysql],
      ['mariadb', 'mariadbId', emu.ids.mariadb],
      ['mongo', 'mongoId', emu.ids.mongo]
    ]) {
      const row = data(await q(emu, `${router}.one`, { [key]: id }))
      for (const f of ['databasePassword', 'databaseRootPassword', 'env']) expect(has(row[f])).toBe(true)
    }
    const redis = data(await q(emu, 'redis.one', { redisId: emu.ids.redis }))
    expect(has(redis.databasePassword) && has(redis.env)).toBe(true)
    expect(redis.databaseRootPassword).toBeUndefined()

    // Rows returned by start/stop carry secrets too, and the whole tree of project.all/byProjectId.
    expect(has(data(await m(emu, 'application.stop', { applicationId: emu.ids.web })).env)).toBe(true)
    const all = JSON.stringify(data(await q(emu, 'project.all')))
    expect(has(all)).toBe(true)
    const byProject = JSON.stringify(data(await q(emu, 'environment.byProjectId', { projectId: emu.ids.shop })))
    const every = [
      JSON.stringify(emu.state.projects),
      JSON.stringify(emu.state.environments),
      JSON.stringify(emu.state.services),
      JSON.stringify(emu.state.githubProviders)
    ].join()
    for (const mk of SECRET_MARKERS) expect(every).toContain(mk)
    expect(byProject).toContain('appName')
  })

  concurrent('project.all shape by version', async () => {
    const emu = await start()
    const trimmed = data(await q(emu, 'project.all'))
    const shop = trimmed.find((p: Json) => p.name === 'shop')
    const prod = shop.environments.find((e: Json) => e.name === 'production')
    expect(prod.isDefault).toBe(true)
    expect(prod.applications).toEqual([
      { applicationId: 'app-web', name: 'web', applicationStatus: 'done' },
      { applicationId: 'app-api', name: 'api', applicationStatus: 'done' }
    ])
    expect(prod.compose).toEqual([{ composeId: 'cmp-stack', name: 'stack', composeStatus: 'done' }])
    expect(prod.postgres).toEqual([{ postgresId: 'pg-db' }])
    expect(prod.redis).toEqual([{ redisId: 'rd-cache' }])
    expect(shop.environments.find((e: Json) => e.name === 'staging').applications.map((a: Json) => a.name)).toEqual(['web', 'Worker'])

    emu.setVersion('v0.28.0')
    const full = data(await q(emu, 'project.all')).find((p: Json) => p.projectId === emu.ids.shop)
    const fullWeb = full.environments.find((e: Json) => e.isDefault).applications[0]
    expect(fullWeb.appName).toMatch(/^web-/)
    expect(fullWeb.env).toContain('S3CR3T-')

    emu.setVersion('v0.24.0')
    const legacy = data(await q(emu, 'project.all')).find((p: Json) => p.projectId === emu.ids.shop)
    expect(legacy.environments).toBeUndefined()
    expect(legacy.applications.map((a: Json) => a.applicationId)).toEqual(['app-web', 'app-api'])
    expect(legacy.postgres[0].databasePassword).toContain('S3CR3T-')
    expect((await q(emu, 'environment.byProjectId', { projectId: emu.ids.shop })).status).toBe(404)
  })

  concurrent('environment.one has no appName; project.one trimmed from v0.29.14', async () => {
    const emu = await start()
    const env = data(await q(emu, 'environment.one', { environmentId: emu.ids.staging }))
    expect(env.project.env).toContain('S3CR3T-')
    expect(env.applications).toEqual([
      { applicationId: 'app-web-stg', name: 'web', applicationStatus: 'done' },
      { applicationId: 'app-worker-stg', name: 'Worker', applicationStatus: 'done' }
    ])
    expect((await q(emu, 'environment.one', { environmentId: 'nope' })).status).toBe(404)
    const one = data(await q(emu, 'project.one', { projectId: emu.ids.blog }))
    expect(Object.keys(one.environments[0].applications[0]).sort()).toEqual(['appName', 'applicationId', 'applicationStatus', 'name', 'serverId'])
    emu.setVersion('v0.29.13')
    const full = data(await q(emu, 'project.one', { projectId: emu.ids.blog }))
    expect(full.environments[0].applications[0].env).toContain('S3CR3T-')
  })

  concurrent('hostile fixture: HTML/Markdown names, workflow commands in logs and errors', async () => {
    const emu = await start({ hostile: true, buildMs: 20 })
    expect(emu.names.web).toContain(HOSTILE_TEXT)
    const web = data(await q(emu, 'application.one', { applicationId: emu.ids.web }))
    expect(web.name).toBe(emu.names.web)
    expect(web.appName).toMatch(/^web-[a-z]{6}$/)
    emu.setBuild(emu.ids.web, { fail: 'boom' })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    const [row] = await waitFor(async () => {
      const r = await rows(emu, emu.ids.web)
      // a git build's title is overwritten by the commit message just after the final status
      return r[0]?.status === 'error' && r[0].description.startsWith('Commit:') ? r : undefined
    })
    expect(row.title).toContain('<img src=x onerror=alert(1)>')
    const logs = data(await q(emu, 'deployment.readLogs', { deploymentId: row.deploymentId, tail: 1000 }))
    expect(logs).toMatch(/^::add-mask::x$/m)
    // the one errorMessage Dokploy writes: a deployment it could not create
    emu.setBuild(emu.ids.api, { createError: 'boom' })
    await m(emu, 'application.deploy', { applicationId: emu.ids.api })
    const [failed] = await waitFor(async () => {
      const r = await rows(emu, emu.ids.api)
      return r[0]?.status === 'error' ? r : undefined
    })
    expect(failed.errorMessage).toMatch(/^::set-output name=status::done$/m)
    expect(failed.errorMessage).toMatch(/^::error::forged$/m)
  })
})

heading('application and database operations', () => {
  concurrent('saveEnvironment replaces, saveDockerProvider switches source, start/stop return the row before', async () => {
    const emu = await start()
    const id = emu.ids.web
    const save = await m(emu, 'application.saveEnvironment', { applicationId: id, env: 'A=1', buildArgs: null, buildSecrets: '', createEnvFile: false })
    expect(data(save)).toBe(true)
    expect(emu.state.find('application', id)).toMatchObject({ env: 'A=1', buildArgs: null, buildSecrets: '', createEnvFile: false })

    const docker = await m(emu, 'application.saveDockerProvider', {
      applicationId: id,
      dockerImage: 'ghcr.io/acme/web:2.0',
      username: null,
      password: null,
      registryUrl: null
    })
    expect(data(docker)).toBe(true)
    expect(emu.state.find('application', id)).toMatchObject({ sourceType: 'docker', applicationStatus: 'idle', dockerImage: 'ghcr.io/acme/web:2.0' })

    const started = data(await m(emu, 'application.start', { applicationId: id }))
    expect(started.applicationStatus).toBe('idle')
    expect(emu.state.find('application', id)?.applicationStatus).toBe('done')
    const stopped = data(await m(emu, 'application.stop', { applicationId: id }))
    expect(stopped.applicationStatus).toBe('done')
    expect(emu.state.find('application', id)?.applicationStatus).toBe('idle')

    expect(data(await m(emu, 'application.update', { applicationId: emu.ids.api, dockerImage: 'ghcr.io/acme/api:1.1' }))).toBe(true)
    expect(emu.state.find('application', emu.ids.api)?.dockerImage).toBe('ghcr.io/acme/api:1.1')
    expect(data(await m(emu, 'compose.start', { composeId: emu.ids.stack }))).toBe(true)
    expect(data(await m(emu, 'compose.update', { composeId: emu.ids.stack, description: 'x' })).description).toBe('x')

    const cancel = await m(emu, 'application.cancelDeployment', { applicationId: id })
    expect([cancel.status, err(cancel).message]).toEqual([400, 'Deployment cancellation only available in cloud version'])
  })

  concurrent('reload needs the stored appName', async () => {
    const emu = await start()
    const appName = emu.state.find('postgres', emu.ids.postgres)?.appName
    expect(data(await m(emu, 'postgres.reload', { postgresId: emu.ids.postgres, appName }))).toBe(true)
    const wrong = await m(emu, 'application.reload', { applicationId: emu.ids.web, appName: 'web' })
    expect([wrong.status, err(wrong).data.code]).toEqual([500, 'INTERNAL_SERVER_ERROR'])
  })

  concurrent('database deploy is synchronous: running meanwhile, row before as reply, 500 on failure', async () => {
    const emu = await start()
    const id = emu.ids.postgres
    // the deploy ends only once the test has seen it running, however slowly the machine runs
    const seen = deferred()
    emu.dbDeploy(id, { durationMs: 80, holdEnd: () => seen.promise })
    const t0 = Date.now()
    const pending = m(emu, 'postgres.deploy', { postgresId: id })
    await waitFor(() => emu.state.find('postgres', id)?.applicationStatus === 'running')
    seen.release()
    const r = await pending
    expect(Date.now() - t0).toBeGreaterThanOrEqual(75)
    expect(r.status).toBe(200)
    expect(data(r)).toMatchObject({ postgresId: id, applicationStatus: 'done' })
    expect(data(r).databasePassword).toContain('S3CR3T-')
    expect(emu.state.find('postgres', id)?.applicationStatus).toBe('done')
    expect(emu.deployments).toHaveLength(0)

    emu.dbDeploy(emu.ids.mysql, { durationMs: 10, fail: 'mysql container exited (1)' })
    const failed = await m(emu, 'mysql.deploy', { mysqlId: emu.ids.mysql })
    expect([failed.status, err(failed).message, err(failed).data.code]).toEqual([500, 'mysql container exited (1)', 'INTERNAL_SERVER_ERROR'])
    expect(emu.state.find('mysql', emu.ids.mysql)?.applicationStatus).toBe('error')
    emu.dbDeploy(emu.ids.mysql, { durationMs: 5 })
    expect((await m(emu, 'mysql.deploy', { mysqlId: emu.ids.mysql })).status).toBe(200)
    expect(data(await m(emu, 'mongo.stop', { mongoId: emu.ids.mongo })).applicationStatus).toBe('done')
    expect(emu.state.find('mongo', emu.ids.mongo)?.applicationStatus).toBe('idle')
  })

  concurrent('cut-after: 524 from the proxy while the database deploy finishes in the background', async () => {
    const emu = await start()
    const id = emu.ids.mariadb
    // the deploy ends only once the test has read it running, however slowly the machine runs
    const looked = deferred()
    emu.dbDeploy(id, { durationMs: 120, holdEnd: () => looked.promise })
    emu.inject({ procedure: 'mariadb.deploy', kind: 'cut-after', ms: 30 })
    const r = await m(emu, 'mariadb.deploy', { mariadbId: id })
    expect(r.status).toBe(524)
    expect(r.headers.get('content-type')).toContain('text/html')
    expect(data(await q(emu, 'mariadb.one', { mariadbId: id })).applicationStatus).toBe('running')
    looked.release()
    await waitFor(async () => data(await q(emu, 'mariadb.one', { mariadbId: id })).applicationStatus === 'done')
    expect(emu.stats().deployCalls[id]).toBe(1)
  })

  concurrent('rebuild is recorded (it deletes volumes)', async () => {
    const emu = await start()
    expect(data(await m(emu, 'redis.rebuild', { redisId: emu.ids.redis }))).toBe(true)
    expect(emu.stats().rebuildCalls).toEqual({ [emu.ids.redis]: 1 })
  })
})

heading('build queue', () => {
  concurrent('one build at a time across services; the row appears only when the job starts', async () => {
    const emu = await start({ buildMs: 500 })
    // web's build ends only after the checks below, however busy the machine
    const checked = deferred()
    emu.setBuild(emu.ids.web, { holdBefore: (event) => (event === 'end' ? checked.promise : undefined) })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web, title: 'web run' })
    const stack = await m(emu, 'compose.deploy', { composeId: emu.ids.stack, title: 'stack run' })
    expect(data(stack)).toEqual({ success: true, message: 'Deployment queued', composeId: emu.ids.stack })

    const [webRow] = await rows(emu, emu.ids.web)
    expect(webRow).toMatchObject({ title: 'web run', status: 'running', applicationId: emu.ids.web, composeId: null, finishedAt: null, errorMessage: null })
    expect(data(await q(emu, 'deployment.allByCompose', { composeId: emu.ids.stack }))).toEqual([])
    expect(emu.state.find('compose', emu.ids.stack)?.composeStatus).toBe('done') // last run's status until it starts
    expect(emu.state.find('application', emu.ids.web)?.applicationStatus).toBe('running')

    const queue = data(await q(emu, 'deployment.queueList'))
    // newest first, as Dokploy sorts it
    expect(queue.map((j: Json) => [j.id, j.state, j.data.type, j.data.applicationType])).toEqual([
      ['job-2', 'waiting', 'deploy', 'compose'],
      ['job-1', 'active', 'deploy', 'application']
    ])
    expect(queue[0].data).toMatchObject({ composeId: emu.ids.stack, titleLog: 'stack run' })
    // found on a real v0.30.2: a job carries its service's dashboard path
    const stackService = emu.state.find('compose', emu.ids.stack)
    const env = stackService && emu.state.environment(stackService.environmentId)
    expect(queue[0].servicePath).toEqual({ href: `/dashboard/project/${env?.projectId}/environment/${env?.environmentId}/services/compose/${emu.ids.stack}`, label: 'Compose' })
    checked.release()

    const [stackRow] = await waitFor(async () => {
      const r = data(await q(emu, 'deployment.allByCompose', { composeId: emu.ids.stack }))
      return r.length ? r : undefined
    })
    const web = emu.deployments.find((d) => d.deploymentId === webRow.deploymentId)
    expect(web?.status).toBe('done')
    expect(Date.parse(stackRow.startedAt)).toBeGreaterThanOrEqual(Date.parse(web?.finishedAt ?? ''))
    expect(stackRow.status).toBe('running')
    expect(emu.state.find('compose', emu.ids.stack)?.composeStatus).toBe('running')
  })

  concurrent('git titles become the commit message; docker titles are kept; a failed build leaves errorMessage null (real v0.30.2)', async () => {
    const emu = await start({ buildMs: 15 })
    emu.setBuild(emu.ids.api, { fail: 'pull access denied for ghcr.io/acme/api' })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web, title: 'CI run 7', description: 'sha abc' })
    await m(emu, 'application.deploy', { applicationId: emu.ids.api, title: 'CI run 8' })
    await waitFor(() => emu.deployments.length === 2 && emu.deployments.every((d) => d.status !== 'running'))
    const [web] = await rows(emu, emu.ids.web)
    expect(web.status).toBe('done')
    expect(web.title).not.toBe('CI run 7')
    expect(web.title).toMatch(/\(#\d+\)$/)
    expect(web.description).toMatch(/^Commit: [0-9a-f]{40}$/)
    expect(emu.state.find('application', emu.ids.web)?.applicationStatus).toBe('done')
    const [api] = await rows(emu, emu.ids.api)
    // found on a real v0.30.2: a failed build's reason is in its log, its errorMessage stays null
    expect(api).toMatchObject({ title: 'CI run 8', description: '', status: 'error', errorMessage: null })
    expect(data(await q(emu, 'deployment.readLogs', { deploymentId: api.deploymentId }))).toContain('pull access denied for ghcr.io/acme/api')
    expect(api.finishedAt).not.toBeNull()
    expect(emu.state.find('application', emu.ids.api)?.applicationStatus).toBe('error')
    await m(emu, 'application.redeploy', { applicationId: emu.ids.worker })
    await waitFor(() => emu.deployments.length === 3)
    expect(emu.queueList()).toHaveLength(1)
    expect(emu.queueList()[0].data).toMatchObject({ type: 'redeploy', titleLog: 'Manual deployment' })

    // setBuild replaces: leaving out `fail` means success again.
    emu.setBuild(emu.ids.api, { durationMs: 5 })
    await m(emu, 'application.deploy', { applicationId: emu.ids.api, title: 'CI run 10' })
    await waitFor(async () => (await rows(emu, emu.ids.api))[0]?.status === 'done')
    expect((await rows(emu, emu.ids.api)).map((r: Json) => r.title)).toEqual(['CI run 10', 'CI run 8'])
  })

  concurrent('newest first, only the last 10 per service', async () => {
    const emu = await start({ buildMs: 1 })
    for (let i = 1; i <= 12; i++) {
      await m(emu, 'application.deploy', { applicationId: emu.ids.api, title: `run ${i}` })
    }
    await waitFor(() => emu.deployments.length === 12 && emu.deployments.every((d) => d.status === 'done'))
    const list = await rows(emu, emu.ids.api)
    expect(list.map((r: Json) => r.title)).toEqual(['run 12', 'run 11', 'run 10', 'run 9', 'run 8', 'run 7', 'run 6', 'run 5', 'run 4', 'run 3'])
    expect(emu.deployments).toHaveLength(12)
    const dropped = emu.deployments[0].deploymentId
    expect((await q(emu, 'deployment.readLogs', { deploymentId: dropped })).status).toBe(404)
  })

  concurrent('a deployment Dokploy cannot create is an error row at once, with errorMessage and no log (createDeployment)', async () => {
    const emu = await start({ buildMs: 50 })
    emu.setBuild(emu.ids.web, { createError: 'ENOSPC' })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    const [row] = await waitFor(async () => {
      const r = await rows(emu, emu.ids.web)
      return r.length > 0 ? r : undefined
    })
    expect(row).toMatchObject({ status: 'error', errorMessage: 'An error have occurred: ENOSPC', logPath: '' })
    expect(row.finishedAt).not.toBeNull()
    expect(emu.queueList()).toHaveLength(0)
    expect(emu.state.find('application', emu.ids.web)?.applicationStatus).toBe('error')
  })

  concurrent('readLogs returns the tail; lines appear over time', async () => {
    const emu = await start({ buildMs: 500 })
    // the build goes past its first lines only after the first read, however busy the machine
    const read = deferred()
    emu.setBuild(emu.ids.web, { holdBefore: (event) => (event === 'step-1' ? read.promise : undefined) })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    const [row] = await waitFor(async () => {
      const r = await rows(emu, emu.ids.web)
      return r.length > 0 ? r : undefined
    })
    const early = data(await q(emu, 'deployment.readLogs', { deploymentId: row.deploymentId })).split('\n')
    read.release()
    await waitFor(() => emu.deployments[0].status === 'done')
    const all = data(await q(emu, 'deployment.readLogs', { deploymentId: row.deploymentId })).split('\n')
    expect(all.length).toBeGreaterThan(early.length)
    expect(all[0]).toBe('Initializing deployment')
    expect(all.at(-1)).toBe('Docker Deployed: ✅')
    const tail = data(await q(emu, 'deployment.readLogs', { deploymentId: row.deploymentId, tail: 2 }))
    expect(tail).toBe(all.slice(-2).join('\n'))
    expect((await q(emu, 'deployment.readLogs', { deploymentId: 'nope' })).status).toBe(404)
  })

  concurrent('version gating: readLogs, queueList, compose.deploy reply, cancelled status', async () => {
    const emu = await start({ version: 'v0.29.5' })
    const logs = await q(emu, 'deployment.readLogs', { deploymentId: 'x' })
    expect([logs.status, err(logs).message]).toEqual([404, 'No procedure found on path "deployment.readLogs"'])
    expect((await q(emu, 'deployment.queueList')).status).toBe(200)
    emu.setVersion('v0.28.2')
    expect((await q(emu, 'deployment.queueList')).status).toBe(404)
    expect(data(await q(emu, 'settings.getDokployVersion'))).toBe('v0.28.2')
    emu.setVersion('0.26.3')
    expect(data(await m(emu, 'compose.deploy', { composeId: emu.ids.stack }))).toEqual({ success: true, message: 'Deployment queued' })
    emu.setVersion('v0.25.9')
    expect(data(await m(emu, 'compose.redeploy', { composeId: emu.ids.stack }))).toBe(true)
    // Before v0.25.6 saveEnvironment did not know buildSecrets/createEnvFile.
    emu.setVersion('v0.25.5')
    expect((await m(emu, 'application.saveEnvironment', { applicationId: emu.ids.web, env: '', buildArgs: '' })).status).toBe(200)
  })

  concurrent('restart: running deployment cancelled, service idle, queued jobs lost', async () => {
    const emu = await start({ buildMs: 30 })
    emu.setBuild(emu.ids.web, { hang: true })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web, title: 'hung' })
    await m(emu, 'application.deploy', { applicationId: emu.ids.blogWeb, title: 'queued' })
    await new Promise((r) => setTimeout(r, 60))
    expect(emu.deployments.map((d) => d.status)).toEqual(['running'])
    emu.restart()
    const [row] = await rows(emu, emu.ids.web)
    expect(row.status).toBe('cancelled')
    expect(row.finishedAt).toBeNull() // as v0.30.2 leaves it
    expect(emu.state.find('application', emu.ids.web)?.applicationStatus).toBe('idle')
    expect(data(await q(emu, 'deployment.queueList'))).toEqual([])
    await new Promise((r) => setTimeout(r, 60))
    expect(await rows(emu, emu.ids.blogWeb)).toEqual([])

    // Before v0.25.4 there was no 'cancelled'.
    emu.setVersion('v0.25.3')
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await waitFor(() => emu.deployments.length === 2)
    emu.restart()
    expect((await rows(emu, emu.ids.web))[0].status).toBe('error')
  })

  concurrent('webhook deploy runs first; delayStartMs holds the queue; killBuild ends the running build', async () => {
    const emu = await start({ buildMs: 30 })
    const job = emu.webhookDeploy(emu.ids.web)
    expect(job).toBe('job-1')
    await m(emu, 'application.deploy', { applicationId: emu.ids.web, title: 'CI run 9' })
    // the title is overwritten just after the status turns done; then the job leaves the queue
    await waitFor(() => emu.deployments.length === 2 && emu.queueList().length === 0)
    const [mine, neighbour] = await rows(emu, emu.ids.web)
    expect(neighbour.deploymentId).toBe(emu.deployments[0].deploymentId)
    expect(mine.deploymentId).toBe(emu.deployments[1].deploymentId)
    // The push set the head commit: both runs end titled with it.
    expect(mine.title).toBe(neighbour.title)

    // long enough that the deploy's answer and the read after it come first, however busy the machine
    emu.setBuild(emu.ids.worker, { delayStartMs: 2000 })
    await m(emu, 'application.deploy', { applicationId: emu.ids.worker })
    expect(await rows(emu, emu.ids.worker)).toEqual([])
    await waitFor(async () => (await rows(emu, emu.ids.worker)).length === 1)

    emu.setBuild(emu.ids.blogWeb, { hang: true })
    await m(emu, 'application.deploy', { applicationId: emu.ids.blogWeb })
    await waitFor(() => emu.deployments.some((d) => d.applicationId === emu.ids.blogWeb))
    expect((await m(emu, 'application.killBuild', { applicationId: emu.ids.web })).status).toBe(200)
    await waitFor(() => emu.deployments.some((d) => d.applicationId === emu.ids.blogWeb && d.status !== 'running'))
    const [killed] = await rows(emu, emu.ids.blogWeb)
    expect(killed.status).toBe('error')
    expect(emu.stats().killBuildCalls).toEqual({ [emu.ids.web]: 1 })
  })
})

heading('fault injection', () => {
  const deploy = (emu: Emulator) => m(emu, 'application.deploy', { applicationId: emu.ids.api })
  const deployed = (emu: Emulator) => emu.stats().deployCalls[emu.ids.api] ?? 0

  concurrent('status: 503 with Retry-After, not processed; times and after', async () => {
    const emu = await start()
    const rule = emu.inject({ procedure: 'application.deploy', kind: 'status', status: 503, headers: { 'Retry-After': '1' }, after: 1, times: 2 })
    expect((await deploy(emu)).status).toBe(200)
    const r = await deploy(emu)
    expect([r.status, r.headers.get('retry-after'), err(r).data.httpStatus]).toEqual([503, '1', 503])
    expect((await deploy(emu)).status).toBe(503)
    expect((await deploy(emu)).status).toBe(200)
    expect(rule.hits).toBe(2)
    expect(deployed(emu)).toBe(2)
    expect(emu.requests.map((x) => x.fault ?? null)).toEqual([null, 'status', 'status', null])
    emu.inject({ kind: 'status', status: 429, body: 'slow down', contentType: 'text/plain' })
    const limited = await q(emu, 'project.all')
    expect([limited.status, limited.text]).toEqual([429, 'slow down'])
  })

  concurrent('html, cloudflare, redirect, html-200, empty, unauthorized: answered without processing', async () => {
    const emu = await start()
    emu.inject({ kind: 'html', procedure: 'application.deploy' })
    const gw = await deploy(emu)
    expect([gw.status, gw.headers.get('content-type')]).toEqual([502, 'text/html; charset=utf-8'])
    expect(gw.text).toMatch(/^<!DOCTYPE html><html>.*Bad gateway/)

    emu.inject({ kind: 'cloudflare', procedure: 'application.deploy' })
    const cf = await deploy(emu)
    expect([cf.status, cf.headers.get('cf-mitigated')]).toEqual([403, 'challenge'])

    emu.inject({ kind: 'redirect', status: 308, procedure: 'application.deploy' })
    const redirect = await deploy(emu)
    expect(redirect.status).toBe(308)
    expect(redirect.headers.get('location')).toBe(`https://${new URL(emu.url).host}/api/trpc/application.deploy`)

    emu.inject({ kind: 'html-200', procedure: 'application.deploy' })
    const page = await deploy(emu)
    expect([page.status, page.headers.get('content-type')?.startsWith('text/html')]).toEqual([200, true])

    emu.inject({ kind: 'empty', procedure: 'application.deploy' })
    const empty = await deploy(emu)
    expect([empty.status, empty.text, empty.headers.get('content-type')]).toEqual([200, '', 'application/json'])

    emu.inject({ kind: 'unauthorized', procedure: 'application.deploy' })
    const unauth = await deploy(emu)
    expect([unauth.status, err(unauth).data.code]).toEqual([401, 'UNAUTHORIZED'])

    expect(deployed(emu)).toBe(0)
    expect(emu.deployments).toHaveLength(0)
    expect(emu.stats().faults).toBe(6)
  })

  concurrent('reset-before drops the request; reset-after processes it first', async () => {
    const emu = await start()
    emu.inject({ kind: 'reset-before', procedure: 'application.deploy' })
    await expect(deploy(emu)).rejects.toThrow()
    expect(deployed(emu)).toBe(0)
    expect(emu.requests[0]).toMatchObject({ fault: 'reset-before', status: null })

    emu.inject({ kind: 'reset-after', procedure: 'application.deploy' })
    await expect(deploy(emu)).rejects.toThrow()
    expect(deployed(emu)).toBe(1)
    await waitFor(() => emu.deployments.length === 1)
  })

  concurrent('hang never answers (closed with the emulator); delay answers late', async () => {
    const emu = await start()
    emu.inject({ kind: 'hang', procedure: 'project.all' })
    const hung = fetch(`${emu.url}/api/trpc/project.all`, { headers: { 'x-api-key': emu.apiKey }, signal: AbortSignal.timeout(80) })
    await expect(hung).rejects.toThrow()

    emu.inject({ kind: 'delay', ms: 60, procedure: 'application.deploy' })
    const t0 = Date.now()
    const r = await deploy(emu)
    expect(r.status).toBe(200)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(55)
    expect(deployed(emu)).toBe(1)
  })

  concurrent('truncated: processed, half a JSON body', async () => {
    const emu = await start()
    emu.inject({ kind: 'truncated', procedure: 'application.one' })
    const r = await q(emu, 'application.one', { applicationId: emu.ids.web })
    expect(r.status).toBe(200)
    expect(r.json).toBeUndefined()
    expect(r.text.startsWith('{"result":{"data":{"json":{"applicationId":"app-web"')).toBe(true)
  })

  concurrent('a rule without procedure hits any request, health checks included; clearFaults', async () => {
    const emu = await start()
    emu.inject({ kind: 'html', times: Infinity })
    expect((await http(emu, 'GET', '/api/health', { key: null })).status).toBe(502)
    expect((await q(emu, 'settings.health', undefined, null)).status).toBe(502)
    emu.clearFaults()
    expect((await http(emu, 'GET', '/api/health', { key: null })).status).toBe(200)
    expect(() => emu.inject({ kind: 'nope' as never })).toThrow()
  })
})

heading('real timing (API.md §10, found on a real v0.30.2)', () => {
  concurrent('a job turns active before its row exists; the row turns done after the last log line; the title is overwritten after that; then the job leaves the queue', async () => {
    const emu = await start({ buildMs: 60, rowLagMs: 80, doneLagMs: 80, overwriteLagMs: 80 })
    // each step is held until the test has looked at the one before, however slowly the machine runs: the
    // lags keep their order, not their length
    const gates = new Map<string, () => void>()
    const held = (event: string) =>
      ['row', 'settle', 'overwrite'].includes(event) ? new Promise<void>((resolve) => gates.set(event, resolve)) : undefined
    const release = async (event: string) => {
      await waitFor(() => gates.has(event))
      gates.get(event)?.()
    }
    emu.setBuild(emu.ids.web, { durationMs: 60, holdBefore: held })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web, title: 'CI run', description: 'ref 1' })
    const [job] = data(await q(emu, 'deployment.queueList'))
    expect(job).toMatchObject({ id: 'job-1', state: 'active', data: { titleLog: 'CI run', descriptionLog: 'ref 1' } })
    expect(job.processedOn).toBeGreaterThanOrEqual(job.timestamp)
    expect(await rows(emu, emu.ids.web)).toEqual([]) // active, no row yet
    await release('row')
    const [row] = await waitFor(async () => {
      const r = await rows(emu, emu.ids.web)
      return r.length ? r : undefined
    })
    expect(Date.parse(row.startedAt)).toBeGreaterThanOrEqual(job.processedOn)
    await waitFor(async () => data(await q(emu, 'deployment.readLogs', { deploymentId: row.deploymentId, tail: 1 })) === 'Docker Deployed: ✅')
    expect(emu.deployments[0].status).toBe('running') // last line written, status not yet
    await release('settle')
    await waitFor(() => emu.deployments[0].status === 'done')
    expect(emu.deployments[0].description).toBe('ref 1') // done, not yet overwritten
    expect(emu.queueList()).toHaveLength(1)
    await release('overwrite')
    await waitFor(() => emu.queueList().length === 0)
    expect(emu.deployments[0].description).toMatch(/^Commit: /)
  })

  concurrent('a restart numbers jobs from job-1 again, cancels running rows (finishedAt null) and refuses connections while down', async () => {
    const emu = await start({ buildMs: 40 })
    emu.setBuild(emu.ids.web, { hang: true })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await m(emu, 'application.deploy', { applicationId: emu.ids.api })
    expect(emu.queueList().map((j) => j.id).sort()).toEqual(['job-1', 'job-2'])
    // restart() stops listening before its first await: the next connection is refused, with no clock involved
    const back = emu.restart({ downMs: 1000 })
    await expect(fetch(`${emu.url}/api/health`)).rejects.toThrow()
    await back
    expect((await fetch(`${emu.url}/api/health`)).status).toBe(200)
    expect(emu.deployments[0]).toMatchObject({ status: 'cancelled', finishedAt: null })
    await m(emu, 'application.deploy', { applicationId: emu.ids.blogWeb })
    expect(emu.queueList()[0].id).toBe('job-1')
  })

  concurrent('several builds at once (buildsConcurrency), never two of one service; the queue lists newest first', async () => {
    const emu = await start({ buildMs: 200, concurrency: 2 })
    // the builds end only once the queue was read, however busy the machine
    const listed = deferred()
    for (const id of [emu.ids.web, emu.ids.api]) emu.setBuild(id, { holdBefore: (event) => (event === 'end' ? listed.promise : undefined) })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await m(emu, 'application.deploy', { applicationId: emu.ids.api })
    const queue = emu.queueList()
    listed.release()
    expect(queue.map((j) => [j.id, j.state])).toEqual([
      ['job-3', 'active'],
      ['job-2', 'waiting'],
      ['job-1', 'active']
    ])
  })

  concurrent('one queue per server, each with its own concurrency; a job names its service’s serverId, never a build server', async () => {
    const emu = await start({ buildMs: 400 })
    // the builds end only once the queue was read, however busy the machine
    const listed = deferred()
    for (const id of [emu.ids.web, emu.ids.api, emu.ids.blogWeb, emu.ids.stack]) emu.setBuild(id, { holdBefore: (event) => (event === 'end' ? listed.promise : undefined) })
    emu.placeService(emu.ids.web, { serverId: 'srv-remote-1' })
    emu.placeService(emu.ids.api, { serverId: 'srv-remote-1' })
    // a build server only: the job queues on Dokploy's own host
    emu.placeService(emu.ids.blogWeb, { buildServerId: 'srv-build-1' })
    emu.setConcurrency('srv-remote-1', 2)
    await m(emu, 'application.deploy', { applicationId: emu.ids.blogWeb })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await m(emu, 'application.deploy', { applicationId: emu.ids.api })
    await m(emu, 'compose.deploy', { composeId: emu.ids.stack })
    const queue = emu.queueList()
    listed.release()
    const of = (id: string) => queue.find((j) => j.data.applicationId === id || j.data.composeId === id)
    expect(of(emu.ids.blogWeb)).toMatchObject({ state: 'active', data: { server: false } })
    expect(of(emu.ids.blogWeb)?.data).not.toHaveProperty('serverId')
    // two builds at once on srv-remote-1, one at a time on Dokploy's own host
    expect(of(emu.ids.web)).toMatchObject({ state: 'active', data: { server: true, serverId: 'srv-remote-1' } })
    expect(of(emu.ids.api)).toMatchObject({ state: 'active', data: { serverId: 'srv-remote-1' } })
    expect(of(emu.ids.stack)).toMatchObject({ state: 'waiting' })
  })

  concurrent('readLogs reads on the service’s server, never on a build server: a build server’s log reads as an empty line', async () => {
    const emu = await start({ buildMs: 40 })
    emu.placeService(emu.ids.web, { serverId: 'srv-remote-1' })
    emu.placeService(emu.ids.api, { serverId: 'srv-remote-1', buildServerId: 'srv-build-1' })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await m(emu, 'application.deploy', { applicationId: emu.ids.api })
    await waitFor(() => emu.deployments.length === 2 && emu.deployments.every((d) => d.status === 'done'))
    const tail = async (id: string) => data(await q(emu, 'deployment.readLogs', { deploymentId: emu.deployments.find((d) => d.applicationId === id)?.deploymentId }))
    expect(await tail(emu.ids.web)).toMatch(/Docker Deployed: ✅$/)
    expect(await tail(emu.ids.api)).toBe('\n')
  })

  concurrent('the lag after the last line is the real server’s: about 1 ms on the error path, the Swarm update on the done path', async () => {
    const emu = await start({ buildMs: 40, doneLagMs: undefined, serviceUpdateMs: 300 })
    emu.setBuild(emu.ids.api, { durationMs: 40, fail: 'exit code 1' })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await m(emu, 'application.deploy', { applicationId: emu.ids.api })
    await m(emu, 'compose.deploy', { composeId: emu.ids.stack })
    await waitFor(() => emu.deployments.length === 3 && emu.deployments.every((d) => d.status !== 'running'))
    const lag = (id: string) => {
      const row = emu.deployments.find((d) => d.applicationId === id || d.composeId === id)?.deploymentId as string
      return (emu.settledAt(row) as number) - (emu.lastLineAt(row) as number)
    }
    expect(lag(emu.ids.web)).toBeGreaterThanOrEqual(300 - 5)
    // a failed build, and a compose stack (no Swarm update), are marked right after their last line
    expect(lag(emu.ids.api)).toBeLessThan(lag(emu.ids.web))
    expect(lag(emu.ids.stack)).toBeLessThan(lag(emu.ids.web))
  })

  concurrent('a proxy answers 502 with or without forwarding the request', async () => {
    const emu = await start()
    emu.inject({ kind: 'html', procedure: 'application.start' })
    expect((await m(emu, 'application.start', { applicationId: emu.ids.web })).status).toBe(502)
    emu.state.find('application', emu.ids.web)!.applicationStatus = 'idle'
    emu.inject({ kind: 'html', procedure: 'application.start' })
    await m(emu, 'application.start', { applicationId: emu.ids.web })
    expect(emu.state.find('application', emu.ids.web)?.applicationStatus).toBe('idle') // never forwarded
    emu.inject({ kind: 'html', procedure: 'application.start', forward: true })
    expect((await m(emu, 'application.start', { applicationId: emu.ids.web })).status).toBe(502)
    expect(emu.state.find('application', emu.ids.web)?.applicationStatus).toBe('done')
  })

  concurrent('hooks run between the processing of a request and its answer', async () => {
    const emu = await start()
    const hook = emu.hook({ procedure: 'deployment.queueList', when: 'after', run: () => emu.webhookDeploy(emu.ids.web) })
    expect(data(await q(emu, 'deployment.queueList'))).toEqual([])
    expect(hook.hits).toBe(1)
    expect(emu.queueList()).toHaveLength(1)
  })
})

heading('time scale', () => {
  const since = (start: number): number => Date.now() - start

  concurrent('the server’s own work runs in simulated time: at 0.05 a build with its lags, a database deploy, a delayed start, a restart take a twentieth', async () => {
    const emu = await start({ timeScale: 0.05, buildMs: 2000, rowLagMs: 400, doneLagMs: 400, overwriteLagMs: 400, dbMs: 1000 })
    expect(emu.timeScale).toBe(0.05)

    let t = Date.now()
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await waitFor(() => emu.queueList().length === 0) // 3.2 s simulated
    expect(since(t)).toBeGreaterThanOrEqual(160 - 5)
    expect(since(t)).toBeLessThan(1600)
    // the build log keeps the simulated seconds
    expect(data(await q(emu, 'deployment.readLogs', { deploymentId: emu.deployments[0].deploymentId, tail: 3 }))).toContain('RUN step-4 ... done (1.6s)')

    t = Date.now()
    await m(emu, 'postgres.deploy', { postgresId: emu.ids.postgres })
    expect(since(t)).toBeGreaterThanOrEqual(50 - 5)
    expect(since(t)).toBeLessThan(500)

    emu.setBuild(emu.ids.api, { durationMs: 0, rowLagMs: 0, doneLagMs: 0, overwriteLagMs: 0, delayStartMs: 2000 })
    t = Date.now()
    await m(emu, 'application.deploy', { applicationId: emu.ids.api })
    expect(emu.queueList()[0].state).toBe('waiting')
    await waitFor(() => emu.queueList().length === 0)
    expect(since(t)).toBeGreaterThanOrEqual(100 - 5)
    expect(since(t)).toBeLessThan(1000)

    t = Date.now()
    await emu.restart({ downMs: 4000 })
    expect(since(t)).toBeGreaterThanOrEqual(200 - 5)
    expect(since(t)).toBeLessThan(2000)

    t = Date.now()
    await emu.sleep(2000)
    expect(since(t)).toBeGreaterThanOrEqual(100 - 5)
    expect(since(t)).toBeLessThan(1000)
  })

  concurrent('faults on the wire stay in real time, as the action’s request-timeout does', async () => {
    const emu = await start({ timeScale: 0.05 })
    emu.inject({ kind: 'delay', ms: 200, procedure: 'deployment.queueList' })
    const t = Date.now()
    await q(emu, 'deployment.queueList')
    expect(since(t)).toBeGreaterThanOrEqual(200 - 5)
  })
})

heading('staging a race on events, not on the clock', () => {
  concurrent('holdBefore holds a build at one of its events until released; the rest of its timeline follows as before', async () => {
    const emu = await start()
    const end = deferred()
    const events: string[] = []
    emu.setBuild(emu.ids.web, {
      durationMs: 40,
      holdBefore: (event) => {
        events.push(event)
        return event === 'end' ? end.promise : undefined
      }
    })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await waitFor(() => events.includes('end'))
    await new Promise((resolve) => setTimeout(resolve, 100))
    // held: every progress line written, the last one not, the row still running
    const [row] = emu.deployments
    expect(row.status).toBe('running')
    expect(emu.loggedAt(row.deploymentId).map(({ line }) => line)).toContain('#8 [build 4/4] RUN step-4 ... done (0.032s)')
    expect(emu.loggedAt(row.deploymentId).map(({ line }) => line)).not.toContain('Docker Deployed: ✅')
    end.release()
    await waitFor(() => emu.queueList().length === 0)
    expect(row.status).toBe('done')
    expect(events).toEqual(['row', 'step-1', 'step-2', 'step-3', 'step-4', 'end', 'settle', 'overwrite'])
    // each line with when it was written, in order
    const times = emu.loggedAt(row.deploymentId).map(({ at }) => at)
    expect([...times].sort((a, b) => a - b)).toEqual(times)
    expect(emu.settledAt(row.deploymentId)).toBeGreaterThanOrEqual(times.at(-1) as number)
  })

  concurrent('endBuild ends a build that hangs: its last line, then its status', async () => {
    const emu = await start()
    emu.setBuild(emu.ids.web, { hang: true })
    expect(emu.endBuild(emu.ids.web)).toBe(false) // nothing running yet
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await waitFor(() => emu.deployments.length === 1)
    expect(emu.endBuild(emu.ids.web, 'exit code 3')).toBe(true)
    await waitFor(() => emu.queueList().length === 0)
    expect(emu.deployments[0].status).toBe('error')
    expect(emu.loggedAt(emu.deployments[0].deploymentId).map(({ line }) => line)).toContain('❌ Error: exit code 3')
  })

  concurrent('a hook that returns a promise holds the request unanswered until it settles', async () => {
    const emu = await start()
    const gate = deferred()
    emu.hook({ procedure: 'deployment.queueList', when: 'before', run: () => gate.promise })
    let answered = false
    const reply = q(emu, 'deployment.queueList').then((r) => {
      answered = true
      return r
    })
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(answered).toBe(false)
    emu.webhookDeploy(emu.ids.web)
    gate.release()
    // processed after the hold: it lists the push made meanwhile
    expect(data(await reply)).toHaveLength(1)
  })

  concurrent('seenBuilds: a build does not reach its end before its job was listed (or its row shown)', async () => {
    const emu = await start({ seenBuilds: true })
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await waitFor(() => emu.deployments.length === 1)
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(emu.deployments[0].status).toBe('running')
    expect(data(await q(emu, 'deployment.queueList'))).toHaveLength(1)
    await waitFor(() => emu.queueList().length === 0)
    expect(emu.deployments[0].status).toBe('done')

    // shown in the service's deployment list
    await m(emu, 'application.deploy', { applicationId: emu.ids.web })
    await waitFor(() => emu.deployments.length === 2)
    await new Promise((resolve) => setTimeout(resolve, 150))
    expect(emu.deployments[1].status).toBe('running')
    await q(emu, 'deployment.all', { applicationId: emu.ids.web })
    await waitFor(() => emu.queueList().length === 0)
    expect(emu.deployments[1].status).toBe('done')
  })
})

// Serial, after every concurrent test above has ended (jest runs a file's describe blocks after its root
// tests): it changes the default time scale that every emulator started meanwhile would take.
describe('time scale', () => {
  test('emulators started without a time scale take the default one', async () => {
    setDefaultTimeScale(0.25)
    try {
      expect((await start()).timeScale).toBe(0.25)
      expect((await start({ timeScale: 1 })).timeScale).toBe(1)
    } finally {
      setDefaultTimeScale(1)
    }
    expect((await start()).timeScale).toBe(1)
  })
})
