// HTTP front of the emulator: tRPC and REST wire formats, auth and rate limits, the request log and
// fault injection. State, queue and procedure logic live in the sibling modules.

import http from 'node:http'
import { createState, SECRET_MARKERS, HOSTILE_TEXT, WORKFLOW_COMMAND_LINES } from './state.js'
import { BuildQueue } from './queue.js'
import { createProcedures } from './procedures.js'
import { SCHEMAS, validate, flattenIssues, coerceQuery } from './schemas.js'
import { TrpcError, trpcErrorItem, trpcResultItem, restErrorBody, codeForStatus, HTML } from './wire.js'
import { FaultBook, gzipBomb, streamHugeReply } from './faults.js'
import { Timers } from './timers.js'
import { DEFAULT_VERSION, normalizeVersion, atLeast } from './versions.js'
import { acceptUpgrade, handshakeProblem, refuseUpgrade } from './websocket.js'
import { listenDeployment } from './listen-deployment.js'
import { Swarm } from './swarm.js'

export { SECRET_MARKERS, HOSTILE_TEXT, WORKFLOW_COMMAND_LINES }

/** REST bodies over this size get 413 (tRPC has no cap). */
const REST_BODY_LIMIT = 1024 * 1024

/**
 * @typedef {object} EmulatorOptions
 * @property {number} [port] default 0 (a free port)
 * @property {number} [buildMs] default build duration of app/compose jobs, ms (default 200)
 * @property {number} [dbMs] default duration of a database deploy, ms (default 100)
 * @property {string} [version] Dokploy version to emulate (default 'v0.30.2')
 * @property {string} [apiKey] the main key (default 'test-key-…', deterministic)
 * @property {string[]} [apiKeys] further valid keys
 * @property {string[]} [memberKeys] further valid keys of a member: no docker:read, so swarm.getAppInfos answers 401
 * @property {boolean} [hostile] names, titles, logs and error messages carry HTML/Markdown and workflow commands
 * @property {number} [concurrency] builds at once on the server (Dokploy's buildsConcurrency; default 1)
 * @property {number} [rowLagMs] a job turns active this long before its deployment row exists (default 200)
 * @property {Record<string, number>} [serverConcurrency] builds at once on each remote server's queue (default: concurrency)
 * @property {number} [doneLagMs] a row turns done/error this long after its last log line, on either path (default:
 *   what a real server shows, docs/dokploy-timing.md: about 1 ms after the error line, serviceUpdateMs after the done line)
 * @property {number} [serviceUpdateMs] on the done path, Dokploy's Swarm service update between the last line and the
 *   row turning done (default 1000)
 * @property {number} [overwriteLagMs] a git build's title is overwritten this long after its final status (default 50)
 * @property {AccessGate} [access] a Cloudflare Access application in front of the whole host (see setAccess)
 * @property {boolean} [seenBuilds] a build does not reach its end before a client was shown it: its job in a queue listing, or its
 *   row in a deployment list (default false, or what setDefaultSeenBuilds set). Real builds outlast a client's first look; a
 *   short simulated one, on a busy machine, need not: with this, it always does
 * @property {number} [timeScale] real time per unit of simulated time (default 1, or what setDefaultTimeScale set). Every
 *   duration of the server's own work is simulated: builds, database deploys, the lags above, delayStartMs, restart
 *   downtime. Faults on the wire ('delay', 'cut-after') and Retry-After headers stay in real time, as the action's
 *   request-timeout does.
 */

/**
 * Cloudflare Access in front of Dokploy, as a service-token policy sees a request: without the two headers it
 * redirects (302) to the team's login page on `<team>.cloudflareaccess.com`; with a token it does not accept it
 * answers its own 403 page; with the right one it lets the request through, the log socket's upgrade included.
 * @typedef {{clientId: string, clientSecret: string, team?: string}} AccessGate
 */

/** Time scale of emulators started without `timeScale`: the end-to-end harness sets it once for every test. */
let defaultTimeScale = 1

/** @param {number} scale */
export function setDefaultTimeScale(scale) {
  defaultTimeScale = scale
}

/** seenBuilds of emulators started without it: the end-to-end harness sets it once for every test. */
let defaultSeenBuilds = false

/** @param {boolean} seen */
export function setDefaultSeenBuilds(seen) {
  defaultSeenBuilds = seen
}

/**
 * Runs `run` when a request for `procedure` arrives (`before` it is processed) or once it is processed but
 * not yet answered (`after`): how a test makes a push land at an exact point between two requests. A promise
 * `run` returns holds the request (unanswered) until it settles: the step waits for its answer, so whatever
 * the test does meanwhile lands between two of its requests however slowly the machine runs.
 * `procedure: 'listen-deployment'` (with `when: 'after'`) runs once an upgrade to the live log was accepted
 * and the log so far sent on it.
 * @typedef {object} Hook
 * @property {string} procedure
 * @property {'before'|'after'} when
 * @property {(request: RequestEntry | undefined) => unknown} run called with the request (undefined for listen-deployment)
 * @property {number} [skip] let this many matching requests pass first (default 0)
 * @property {number} [times] default 1
 * @property {number} [hits] filled in: how many times it ran
 * @property {number} [seen] filled in: matching requests seen
 */

/**
 * @typedef {object} RequestEntry
 * @property {string} method
 * @property {string} path pathname, without the query string
 * @property {string} url path and query as sent
 * @property {string|null} procedure 'router.proc' (a batch: comma-joined); null for non-API paths
 * @property {string[]} procedures each procedure named by the request (one, or several for a batch)
 * @property {'trpc'|'rest'|'other'|'websocket'} api 'websocket': an upgrade to the live log
 * @property {any} input tRPC: the unwrapped `json` input (array of them for a batch); REST: params or body; undefined if none/unparseable
 * @property {any} raw the parsed body or `input` query parameter as sent (wrapper included)
 * @property {Record<string, string|string[]|undefined>} headers request headers (lower-case names)
 * @property {number} at arrival time, epoch ms
 * @property {number|null} status HTTP status answered (101 for an upgrade); null while pending or when no answer was sent (reset, hang)
 * @property {string} [fault] kind of the injected fault that hit this request
 */

/**
 * @typedef {object} EmulatorStats
 * @property {number} requests HTTP requests received
 * @property {Record<string, number>} byProcedure requests naming each procedure
 * @property {Record<string, number>} deployCalls processed `deploy` calls (app, compose, DB) by service id
 * @property {Record<string, number>} redeployCalls processed `redeploy` calls by service id
 * @property {Record<string, number>} rebuildCalls processed DB `rebuild` calls (destructive) by service id
 * @property {Record<string, number>} killBuildCalls processed `killBuild` calls by service id
 * @property {Record<string, number>} cleanQueuesCalls processed `cleanQueues` calls by service id
 * @property {number} rest requests to the REST API
 * @property {number} unauthorized 401 answers
 * @property {number} faults requests hit by an injected fault
 */

/**
 * @typedef {object} Emulator
 * @property {string} url 'http://127.0.0.1:PORT'
 * @property {string} apiKey
 * @property {Record<string, string>} ids readable key -> id (web, api, stack, postgres, …, shop, blog, prod, staging, blogProd, org)
 * @property {Record<string, string>} names readable key -> display name (with HTML/Markdown when hostile)
 * @property {RequestEntry[]} requests
 * @property {import('./queue.js').DeploymentRow[]} deployments every deployment row ever created (live objects)
 * @property {import('./state.js').State} state
 * @property {() => string} version current emulated version
 * @property {() => EmulatorStats} stats
 * @property {() => import('./queue.js').QueueEntry[]} queueList current build queue (what deployment.queueList returns)
 * @property {number} timeScale real time per unit of simulated time
 * @property {(ms: number) => Promise<void>} sleep resolves after `ms` of simulated time: a test waiting for the server's work
 * @property {() => Promise<void>} close
 * @property {(version: string) => void} setVersion
 * @property {(serviceId: string, behaviour: Partial<import('./queue.js').BuildBehaviour>) => void} setBuild replaces the service's build behaviour; omitted fields take the defaults
 * @property {(behaviour: Partial<import('./queue.js').BuildBehaviour>) => void} setBuildDefaults changes the defaults every build falls back to
 * @property {(serviceId: string, opts?: {title?: string, description?: string, sha?: string}) => string} webhookDeploy a push: Dokploy's webhook queues a job titled with the commit message and described `Hash: <sha>` (the push's commit, which becomes the branch head); returns the job id
 * @property {(applicationId: string, opts: {pr: number, sha: string, host?: string}) => string} previewDeploy the GitHub App's pull_request webhook: creates the pull request's preview (with its domain) once, then queues "Preview Deployment" described `Hash: <head sha>`; returns the job id
 * @property {(opts?: {downMs?: number, down?: 'refuse'|'proxy-502'}) => Promise<void>} restart the server restarts: running rows cancelled, queue lost, job ids from job-1; for downMs it refuses connections (or a proxy answers 502); resolves when it is back
 * @property {(hook: Hook) => Hook} hook
 * @property {(rule: import('./faults.js').FaultRule) => import('./faults.js').FaultRule} inject
 * @property {() => void} clearFaults
 * @property {(key: string, remainingRequests: number) => void} setRateLimit
 * @property {(serviceId: string, behaviour: {durationMs?: number, fail?: string, holdEnd?: () => Promise<void> | void}) => void} dbDeploy replaces the
 *   database's deploy behaviour; a promise `holdEnd` returns holds the deploy's end (after durationMs) until it settles
 * @property {(refuse: UpgradeRefusal | undefined) => void} refuseUpgrades from now on, upgrades to the live log get this instead (undefined: served again)
 * @property {() => number} dropLogSockets cuts every open live-log connection (no closing handshake); returns how many
 * @property {() => number} openLogSockets live-log connections open now
 * @property {(ignore: boolean) => void} ignoreLogCloses live-log connections opened from now on never answer the client's close frame
 * @property {(deploymentId: string) => number | undefined} settledAt when the row turned done, error or cancelled (epoch ms)
 * @property {(deploymentId: string) => number | undefined} lastLineAt when the build wrote its last line (epoch ms)
 * @property {(serviceId: string, place: {serverId?: string|null, buildServerId?: string|null}) => void} placeService
 *   puts a service on a remote server (serverId: where it runs and queues) and, for an application, a build server
 * @property {(serverId: string, builds: number) => void} setConcurrency builds at once on that server's queue
 * @property {(gate: AccessGate | undefined) => void} setAccess puts Cloudflare Access in front of the host (undefined: removes it)
 * @property {(deploymentId: string) => {line: string, at: number}[]} loggedAt each line of the deployment's log with when it was written (epoch ms)
 * @property {(serviceId: string, fail?: string) => boolean} endBuild the service's running build reaches its end now (with `fail`: fails);
 *   its status follows doneLagMs later, as at the end of its duration; false when none was running
 * @property {(done: () => boolean, timeoutMs?: number) => Promise<void>} until resolves once `done()` holds (checked every few ms);
 *   rejects after timeoutMs of real time (default 10 s), so that a test waiting for an event that never comes fails, and says so
 * @property {import('./swarm.js').Swarm} swarm each service's Swarm tasks and containers (what runs after a deployment)
 * @property {(serviceId: string, behaviour: import('./swarm.js').RolloutBehaviour) => void} setRollout how the service's next rollouts go (replaces)
 */

/**
 * What a refused upgrade gets: a proxy's or Cloudflare's 403, a redirect, a 404 (no such route), an upgrade
 * closed at once with no data (the key not accepted there), or no answer at all.
 * @typedef {'forbidden'|'redirect'|'not-found'|'unauthorized'|'hang'} UpgradeRefusal
 */

/** @typedef {{status: number, headers: Record<string, string>, body: string}} Reply */

/** @param {number} status @param {unknown} value @param {Record<string, string>} [headers] @returns {Reply} */
const jsonReply = (status, value, headers = {}) => ({
  status,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(value)
})
/** @param {number} status @param {string} body @param {Record<string, string>} [headers] @returns {Reply} */
const htmlReply = (status, body, headers = {}) => ({ status, headers: { 'content-type': 'text/html; charset=utf-8', ...headers }, body })

/** @param {string|undefined} ct */
const isJson = (ct) => typeof ct === 'string' && ct.toLowerCase().startsWith('application/json')

/** @param {unknown} v @returns {v is Record<string, any>} */
const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * Which API a path belongs to and the procedures it names.
 * @param {URL} url
 * @returns {{api: 'trpc'|'rest'|'other', procedures: string[]}}
 */
function classify(url) {
  const p = url.pathname
  if (p === '/api/trpc' || p.startsWith('/api/trpc/')) {
    const name = decodeURIComponent(p.slice('/api/trpc/'.length))
    return { api: 'trpc', procedures: url.searchParams.get('batch') === '1' ? name.split(',') : [name] }
  }
  if (p === '/api/health') return { api: 'other', procedures: [] }
  if (p.startsWith('/api/') && p.length > 5) return { api: 'rest', procedures: [decodeURIComponent(p.slice(5))] }
  return { api: 'other', procedures: [] }
}

/** @param {http.IncomingMessage} req @returns {Promise<string>} */
function readBody(req) {
  return new Promise((resolve, reject) => {
    /** @type {Buffer[]} */
    const chunks = []
    req.on('data', (c) => chunks.push(c))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/**
 * Start an emulated Dokploy server on 127.0.0.1.
 * @param {EmulatorOptions} [options]
 * @returns {Promise<Emulator>}
 */
export async function startEmulator(options = {}) {
  let version = normalizeVersion(options.version ?? DEFAULT_VERSION)
  const state = createState({ hostile: options.hostile })
  const timers = new Timers(options.timeScale ?? defaultTimeScale)
  const swarm = new Swarm({ state, timers })
  const queue = new BuildQueue({
    onDeployed: (kind, serviceId, deploymentId) =>
      swarm.deployed(kind, serviceId, deploymentId, queue.deployments.find((d) => d.deploymentId === deploymentId)),
    state,
    timers,
    getVersion: () => version,
    hostile: options.hostile,
    buildMs: options.buildMs,
    concurrency: options.concurrency,
    serverConcurrency: options.serverConcurrency,
    serviceUpdateMs: options.serviceUpdateMs,
    rowLagMs: options.rowLagMs,
    doneLagMs: options.doneLagMs,
    overwriteLagMs: options.overwriteLagMs,
    seenBuilds: options.seenBuilds ?? defaultSeenBuilds
  })
  /** @type {Hook[]} */
  const hooks = []
  /** @param {string[]} procedures @param {'before'|'after'} when @param {RequestEntry} [entry] @returns {Promise<void> | undefined} */
  const runHooks = (procedures, when, entry) => {
    /** @type {PromiseLike<unknown>[]} */
    const holds = []
    for (const hook of hooks) {
      if (hook.when !== when || !procedures.includes(hook.procedure) || (hook.hits ?? 0) >= (hook.times ?? 1)) continue
      hook.seen = (hook.seen ?? 0) + 1
      if (hook.seen <= (hook.skip ?? 0)) continue
      hook.hits = (hook.hits ?? 0) + 1
      const held = hook.run(entry)
      if (held && typeof (/** @type {PromiseLike<unknown>} */ (held)).then === 'function') holds.push(/** @type {PromiseLike<unknown>} */ (held))
    }
    return holds.length ? Promise.all(holds).then(() => undefined) : undefined
  }
  /** @type {AccessGate | undefined} */
  let access = options.access
  /**
   * What Cloudflare Access answers in place of Dokploy, or undefined when it lets the request through.
   * @param {http.IncomingMessage} req @returns {Reply | undefined}
   */
  const accessGate = (req) => {
    if (!access) return undefined
    const id = req.headers['cf-access-client-id']
    const secret = req.headers['cf-access-client-secret']
    if (id === access.clientId && secret === access.clientSecret) return undefined
    const host = req.headers.host ?? 'dokploy.example.com'
    if (id === undefined && secret === undefined) {
      const login = `https://${access.team ?? 'acme'}.cloudflareaccess.com/cdn-cgi/access/login/${host}?kid=4c8a1f&redirect_url=${encodeURIComponent(req.url ?? '/')}`
      return { status: 302, headers: { location: login, server: 'cloudflare', 'content-type': 'text/html' }, body: '' }
    }
    return htmlReply(403, HTML.accessForbidden(), { server: 'cloudflare', 'cf-ray': '8f1c2d3e4a5b6c7e-FRA' })
  }
  /** While set, the server is restarting: 'refuse' closes connections, 'proxy-502' is a proxy in front answering 502. */
  let down = /** @type {undefined | 'refuse' | 'proxy-502'} */ (undefined)
  const faults = new FaultBook()
  const apiKey = options.apiKey ?? 'test-key-4f9c2a7e1b8d3c60'
  const memberKeys = new Set(options.memberKeys ?? [])
  const keys = new Set([apiKey, ...(options.apiKeys ?? []), ...memberKeys])
  /** @type {Map<string, number>} */
  const remaining = new Map()
  /** @type {Map<string, {durationMs: number, fail?: string, holdEnd?: () => Promise<void> | void}>} */
  const dbBehaviour = new Map()
  /** @type {RequestEntry[]} */
  const requests = []
  const counters = {
    byProcedure: /** @type {Record<string, number>} */ ({}),
    deployCalls: /** @type {Record<string, number>} */ ({}),
    redeployCalls: /** @type {Record<string, number>} */ ({}),
    rebuildCalls: /** @type {Record<string, number>} */ ({}),
    killBuildCalls: /** @type {Record<string, number>} */ ({}),
    cleanQueuesCalls: /** @type {Record<string, number>} */ ({}),
    rest: 0,
    unauthorized: 0,
    faults: 0
  }

  /** Pull-request previews of applications, as Dokploy's GitHub App creates them (newest last). @type {Record<string, any>[]} */
  const previews = []
  const procedures = createProcedures({
    state,
    queue,
    previews,
    timers,
    getVersion: () => version,
    swarm,
    dbBehaviour: (id) => ({ durationMs: options.dbMs ?? 100, ...dbBehaviour.get(id) }),
    count: (counter, id) => {
      counters[counter][id] = (counters[counter][id] ?? 0) + 1
    }
  })

  /**
   * One key check; a rate-limited key spends one request per check and is rejected once spent.
   * @param {string|undefined} key
   */
  const checkKey = (key) => {
    if (!key || !keys.has(key)) return false
    const left = remaining.get(key)
    if (left === undefined) return true
    if (left <= 0) return false
    remaining.set(key, left - 1)
    return true
  }

  /** @param {string} name */
  const lookup = (name) => {
    const def = Object.hasOwn(procedures, name) ? procedures[name] : undefined
    return def && (!def.since || atLeast(version, def.since)) ? def : undefined
  }

  /**
   * Validate and run one procedure; throws TrpcError.
   * @param {string} name @param {import('./procedures.js').Procedure} def @param {unknown} input
   */
  const run = async (name, def, input) => {
    let value = {}
    const schema = SCHEMAS[name]
    if (schema) {
      const v = validate(schema, input, version)
      if (!v.ok) {
        throw new TrpcError('BAD_REQUEST', JSON.stringify(v.issues, null, 2), { issues: v.issues, zodError: flattenIssues(v.issues) })
      }
      value = v.value
    }
    try {
      return await def.handler(value)
    } catch (err) {
      if (err instanceof TrpcError) throw err
      throw new TrpcError('INTERNAL_SERVER_ERROR', err instanceof Error ? err.message : String(err))
    }
  }

  /**
   * tRPC (`/api/trpc/<router>.<proc>`), single or batch.
   * @param {string[]} names @param {string} method @param {URL} url @param {http.IncomingHttpHeaders} headers @param {string} body
   * @returns {Promise<Reply>}
   */
  const handleTrpc = async (names, method, url, headers, body) => {
    const batch = url.searchParams.get('batch') === '1'
    const path = names.join(',')
    /** @param {TrpcError} err */
    const fail = (err) => jsonReply(err.httpStatus, batch ? names.map(() => trpcErrorItem(err, path)) : trpcErrorItem(err, path))
    /** @type {unknown} */
    let parsed
    if (method === 'POST') {
      const ct = headers['content-type']
      if (!isJson(ct)) return fail(new TrpcError('UNSUPPORTED_MEDIA_TYPE', `Unsupported content-type "${ct ?? ''}`))
      if (body.length) {
        try {
          parsed = JSON.parse(body)
        } catch (err) {
          return fail(new TrpcError('PARSE_ERROR', err instanceof Error ? err.message : 'Invalid JSON'))
        }
      }
    } else if (method === 'GET') {
      const raw = url.searchParams.get('input')
      if (raw !== null) {
        try {
          parsed = JSON.parse(raw)
        } catch (err) {
          return fail(new TrpcError('PARSE_ERROR', err instanceof Error ? err.message : 'Invalid JSON'))
        }
      }
    } else {
      return fail(new TrpcError('METHOD_NOT_SUPPORTED', `Unsupported ${method}-request to path "${path}"`))
    }
    const key = headers['x-api-key']
    const authed = typeof key === 'string' && checkKey(key) // once per request or batch

    /** @param {string} name @param {unknown} rawInput @returns {Promise<{item: object, status: number}>} */
    const call = async (name, rawInput) => {
      try {
        const def = lookup(name)
        if (!def) throw new TrpcError('NOT_FOUND', `No procedure found on path "${name}"`)
        if (def.type === 'query' && method !== 'GET') {
          throw new TrpcError('METHOD_NOT_SUPPORTED', `Unsupported POST-request to query procedure at path "${name}"`)
        }
        if (def.type === 'mutation' && method !== 'POST') {
          throw new TrpcError('METHOD_NOT_SUPPORTED', `Unsupported GET-request to mutation procedure at path "${name}"`)
        }
        if (!def.public && !authed) throw new TrpcError('UNAUTHORIZED')
        if (def.permission && memberKeys.has(String(key))) throw new TrpcError('UNAUTHORIZED', `unauthorized to access resource "${def.permission.split(':')[0]}"`)
        // superjson wrapper: the input is under `json`; without it the procedure sees undefined.
        const value = await run(name, def, isObject(rawInput) ? rawInput.json : undefined)
        return { item: trpcResultItem(value), status: 200 }
      } catch (err) {
        const e = err instanceof TrpcError ? err : new TrpcError('INTERNAL_SERVER_ERROR', String(err))
        return { item: trpcErrorItem(e, name), status: e.httpStatus }
      }
    }

    if (!batch) {
      const { item, status } = await call(names[0], parsed)
      return jsonReply(status, item)
    }
    const results = []
    for (let i = 0; i < names.length; i++) results.push(await call(names[i], isObject(parsed) ? parsed[String(i)] : undefined))
    const statuses = new Set(results.map((r) => r.status))
    const status = statuses.size === 1 ? results[0].status : 207
    return jsonReply(status, results.map((r) => r.item))
  }

  /**
   * REST (`/api/<router>.<proc>`): raw values, flat query params, plain JSON bodies, key checked twice.
   * @param {string} name @param {string} method @param {URL} url @param {http.IncomingHttpHeaders} headers @param {string} body
   * @returns {Promise<Reply>}
   */
  const handleRest = async (name, method, url, headers, body) => {
    const key = headers['x-api-key']
    const k = typeof key === 'string' ? key : undefined
    if (!checkKey(k) || !checkKey(k)) return jsonReply(401, { message: 'Unauthorized' })
    const def = lookup(name)
    if (def?.permission && memberKeys.has(String(k))) return jsonReply(401, { message: 'Unauthorized' })
    if (!def || (def.type === 'query') !== (method === 'GET') || (method !== 'GET' && method !== 'POST')) {
      return jsonReply(404, { message: 'Not found', code: 'NOT_FOUND', data: { code: 'NOT_FOUND', httpStatus: 404, zodError: null } })
    }
    /** @param {TrpcError} err */
    const fail = (err) => jsonReply(err.httpStatus, restErrorBody(err, name))
    /** @type {unknown} */
    let input
    if (method === 'POST') {
      const ct = headers['content-type']
      if (!isJson(ct)) return fail(new TrpcError('UNSUPPORTED_MEDIA_TYPE', `Unsupported content-type "${ct ?? ''}`))
      if (Buffer.byteLength(body) > REST_BODY_LIMIT) return fail(new TrpcError('PAYLOAD_TOO_LARGE', 'Request body too large'))
      try {
        input = body.length ? JSON.parse(body) : {}
      } catch (err) {
        return fail(new TrpcError('PARSE_ERROR', err instanceof Error ? err.message : 'Invalid JSON'))
      }
    } else {
      input = coerceQuery(SCHEMAS[name] ?? {}, Object.fromEntries(url.searchParams))
    }
    try {
      const value = await run(name, def, input)
      // Void: 200, JSON content type, empty body.
      if (value === undefined) return { status: 200, headers: { 'content-type': 'application/json' }, body: '' }
      return jsonReply(200, value)
    } catch (err) {
      return fail(err instanceof TrpcError ? err : new TrpcError('INTERNAL_SERVER_ERROR', String(err)))
    }
  }

  /**
   * Full processing of a request (what Dokploy would do without faults).
   * @param {{api: string, procedures: string[]}} cls @param {string} method @param {URL} url
   * @param {http.IncomingHttpHeaders} headers @param {string} body
   * @returns {Promise<Reply>}
   */
  const dispatch = async (cls, method, url, headers, body) => {
    if (cls.api === 'trpc') return handleTrpc(cls.procedures, method, url, headers, body)
    if (cls.api === 'rest') return handleRest(cls.procedures[0], method, url, headers, body)
    if (url.pathname === '/api/health' && method === 'GET') return jsonReply(200, { ok: true })
    return htmlReply(404, HTML.notFound())
  }

  /** @param {http.ServerResponse} res @param {RequestEntry} entry @param {Reply} reply */
  const send = (res, entry, reply) => {
    if (res.writableEnded || res.destroyed) return
    entry.status = reply.status
    if (reply.status === 401) counters.unauthorized++
    res.writeHead(reply.status, { ...reply.headers, 'content-length': String(Buffer.byteLength(reply.body)) })
    res.end(reply.body)
  }

  /** Default body of a 'status' fault: an error envelope in the style of the API hit. @param {RequestEntry} entry @param {number} status */
  const faultBody = (entry, status) => {
    const err = new TrpcError(codeForStatus(status), http.STATUS_CODES[status] ?? `HTTP ${status}`)
    const body = entry.api === 'rest' ? restErrorBody(err, entry.procedure ?? undefined) : trpcErrorItem(err, entry.procedure ?? undefined)
    // The envelope's httpStatus should agree with the status line even where tRPC has no exact code.
    const data = 'error' in body ? body.error.json.data : body.data
    data.httpStatus = status
    return JSON.stringify(body)
  }

  /** @param {http.IncomingMessage} req @param {http.ServerResponse} res */
  const handle = async (req, res) => {
    const method = (req.method ?? 'GET').toUpperCase()
    const url = new URL(req.url ?? '/', 'http://emulator.local')
    const cls = classify(url)
    /** @type {RequestEntry} */
    const entry = {
      method,
      path: url.pathname,
      url: req.url ?? '/',
      procedure: cls.procedures.length ? cls.procedures.join(',') : null,
      procedures: cls.procedures,
      api: cls.api,
      input: undefined,
      raw: undefined,
      headers: { ...req.headers },
      at: Date.now(),
      status: null
    }
    requests.push(entry)
    for (const p of cls.procedures) counters.byProcedure[p] = (counters.byProcedure[p] ?? 0) + 1
    if (cls.api === 'rest') counters.rest++
    const body = await readBody(req)
    try {
      if (cls.api === 'trpc') {
        entry.raw = method === 'GET' ? JSON.parse(url.searchParams.get('input') ?? 'null') ?? undefined : body ? JSON.parse(body) : undefined
        entry.input =
          url.searchParams.get('batch') === '1'
            ? cls.procedures.map((_, i) => (isObject(entry.raw) && isObject(entry.raw[i]) ? entry.raw[i].json : undefined))
            : isObject(entry.raw)
              ? entry.raw.json
              : undefined
      } else if (cls.api === 'rest') {
        entry.raw = method === 'GET' ? Object.fromEntries(url.searchParams) : body ? JSON.parse(body) : undefined
        entry.input = entry.raw
      }
    } catch {
      // unparseable input: logged as undefined, answered by dispatch
    }

    if (down === 'refuse') {
      entry.fault = 'restarting'
      req.socket.destroy()
      return
    }
    const gated = accessGate(req)
    if (gated) {
      entry.fault = 'access'
      send(res, entry, gated)
      return
    }
    if (down === 'proxy-502') {
      entry.fault = 'restarting'
      send(res, entry, htmlReply(502, HTML.gateway(502), { server: 'nginx' }))
      return
    }
    const processIt = async () => {
      await runHooks(cls.procedures, 'before', entry)
      const reply = await dispatch(cls, method, url, req.headers, body)
      await runHooks(cls.procedures, 'after', entry)
      return reply
    }
    const rule = faults.match({ procedures: cls.procedures, method, api: cls.api })
    if (!rule) {
      send(res, entry, await processIt())
      return
    }
    entry.fault = rule.kind
    counters.faults++
    const reset = () => {
      entry.status = null
      req.socket.destroy()
    }
    switch (rule.kind) {
      case 'status': {
        const status = rule.status ?? 503
        send(res, entry, {
          status,
          headers: { 'content-type': rule.contentType ?? 'application/json', ...rule.headers },
          body: rule.body ?? faultBody(entry, status)
        })
        return
      }
      case 'html': {
        // a proxy's error page; with `forward` Dokploy processed the request before the proxy failed
        const status = rule.status ?? 502
        if (rule.forward) await processIt()
        send(res, entry, htmlReply(status, HTML.gateway(status), { server: 'nginx' }))
        return
      }
      case 'cloudflare':
        send(res, entry, htmlReply(403, HTML.cloudflareChallenge(), { 'cf-mitigated': 'challenge', server: 'cloudflare', 'cf-ray': '8f1c2d3e4a5b6c7d-FRA' }))
        return
      case 'redirect':
        send(res, entry, {
          status: rule.status ?? 301,
          headers: { location: rule.location ?? `https://${req.headers.host ?? 'dokploy.example.com'}${req.url ?? '/'}`, 'content-type': 'text/plain' },
          body: http.STATUS_CODES[rule.status ?? 301] ?? 'Redirect'
        })
        return
      case 'reset-before':
        reset()
        return
      case 'reset-after':
        await processIt()
        reset()
        return
      case 'hang':
        return // never answered; close() destroys the socket
      case 'delay': {
        const reply = await processIt()
        await timers.sleepReal(rule.ms ?? 0)
        send(res, entry, reply)
        return
      }
      case 'cut-after': {
        // Cloudflare gives up after rule.ms; the origin keeps working in the background.
        processIt().catch(() => {})
        await timers.sleepReal(rule.ms ?? 0)
        send(res, entry, htmlReply(524, HTML.cloudflareTimeout(), { server: 'cloudflare' }))
        return
      }
      case 'truncated': {
        const reply = await processIt()
        send(res, entry, { status: 200, headers: { 'content-type': 'application/json' }, body: reply.body.slice(0, Math.floor(reply.body.length / 2)) })
        return
      }
      case 'html-200':
        send(res, entry, htmlReply(200, HTML.okPage()))
        return
      case 'empty':
        send(res, entry, { status: 200, headers: { 'content-type': 'application/json' }, body: '' })
        return
      case 'unauthorized':
        send(
          res,
          entry,
          entry.api === 'rest'
            ? jsonReply(401, { message: 'Unauthorized' })
            : jsonReply(401, trpcErrorItem(new TrpcError('UNAUTHORIZED'), entry.procedure ?? undefined))
        )
        return
      case 'huge': {
        entry.status = 200
        streamHugeReply(res, rule.bytes)
        return
      }
      case 'gzip-bomb': {
        const body = await gzipBomb(rule.bytes)
        entry.status = 200
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': String(body.length) })
        res.end(body)
        return
      }
    }
  }

  /** @type {UpgradeRefusal | undefined} */
  let upgradeRefusal
  let deafToCloses = false
  /** @type {Set<import('./websocket.js').WebSocketConnection>} */
  const logSockets = new Set()

  /**
   * `/listen-deployment`: a real WebSocket upgrade, then Dokploy's checks and its `tail -f`.
   * @param {http.IncomingMessage} req @param {import('node:stream').Duplex} socket @param {Buffer} head
   */
  const handleUpgrade = (req, socket, head) => {
    const url = new URL(req.url ?? '/', 'http://emulator.local')
    /** @type {RequestEntry} */
    const entry = {
      method: (req.method ?? 'GET').toUpperCase(),
      path: url.pathname,
      url: req.url ?? '/',
      procedure: null,
      procedures: [],
      api: 'websocket',
      input: Object.fromEntries(url.searchParams),
      raw: undefined,
      headers: { ...req.headers },
      at: Date.now(),
      status: null
    }
    requests.push(entry)
    socket.on('error', () => socket.destroy())
    const refuse = (/** @type {number} */ status, /** @type {Record<string, string>} */ headers, /** @type {string} */ body) => {
      entry.status = status
      refuseUpgrade(socket, status, headers, body)
    }
    if (down === 'refuse') {
      entry.fault = 'restarting'
      return socket.destroy()
    }
    if (down === 'proxy-502') {
      entry.fault = 'restarting'
      return refuse(502, { 'content-type': 'text/html', server: 'nginx' }, HTML.gateway(502))
    }
    const gated = accessGate(req)
    if (gated) {
      entry.fault = 'access'
      return refuse(gated.status, gated.headers, gated.body)
    }
    if (url.pathname !== '/listen-deployment') return refuse(404, { 'content-type': 'text/html' }, HTML.notFound())
    switch (upgradeRefusal) {
      case 'forbidden':
        entry.fault = upgradeRefusal
        return refuse(403, { 'content-type': 'text/html', 'cf-mitigated': 'challenge', server: 'cloudflare' }, HTML.cloudflareChallenge())
      case 'redirect':
        entry.fault = upgradeRefusal
        return refuse(301, { location: `https://${req.headers.host ?? 'dokploy.example.com'}${req.url ?? '/'}` }, '')
      case 'not-found':
        entry.fault = upgradeRefusal
        return refuse(404, { 'content-type': 'text/html' }, HTML.notFound())
      case 'hang':
        entry.fault = upgradeRefusal
        return
    }
    const problem = handshakeProblem(req)
    if (problem) return refuse(problem.status, problem.headers ?? {}, problem.reason)
    entry.status = 101
    const connection = acceptUpgrade(req, socket, head)
    connection.deaf = deafToCloses
    logSockets.add(connection)
    connection.on('close', () => logSockets.delete(connection))
    const key = req.headers['x-api-key']
    const keyValid = typeof key === 'string' && checkKey(key)
    if (!keyValid) counters.unauthorized++
    if (upgradeRefusal === 'unauthorized') {
      entry.fault = upgradeRefusal
      return connection.close()
    }
    listenDeployment({ connection, url, keyValid, queue })
    void runHooks(['listen-deployment'], 'after')
  }

  /** @type {Set<import('node:net').Socket>} */
  const sockets = new Set()
  const server = http.createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent && !res.destroyed) {
        res.writeHead(500, { 'content-type': 'text/plain' })
        res.end(`emulator error: ${err instanceof Error ? err.message : String(err)}`)
      }
    })
  })
  server.on('upgrade', handleUpgrade)
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve(undefined))
  })
  const address = server.address()
  const port = typeof address === 'object' && address ? address.port : 0

  let closed = false
  let closedForGood = false
  /** @param {string} serviceId */
  const mustExist = (serviceId) => {
    const found = state.lookup(serviceId)
    if (!found) throw new Error(`Unknown service id: ${serviceId}`)
    return found
  }

  /** @type {Emulator} */
  const emu = {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    ids: state.ids,
    names: state.names,
    requests,
    deployments: queue.deployments,
    state,
    version: () => version,
    stats: () => ({
      requests: requests.length,
      byProcedure: { ...counters.byProcedure },
      deployCalls: { ...counters.deployCalls },
      redeployCalls: { ...counters.redeployCalls },
      rebuildCalls: { ...counters.rebuildCalls },
      killBuildCalls: { ...counters.killBuildCalls },
      cleanQueuesCalls: { ...counters.cleanQueuesCalls },
      rest: counters.rest,
      unauthorized: counters.unauthorized,
      faults: counters.faults
    }),
    queueList: () => queue.queueList(),
    timeScale: timers.scale,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, timers.real(ms))),
    close: async () => {
      if (closed) return
      closed = true
      closedForGood = true
      timers.close()
      for (const socket of sockets) socket.destroy()
      if (server.listening) await new Promise((resolve) => server.close(() => resolve(undefined)))
    },
    setVersion: (v) => {
      version = normalizeVersion(v)
    },
    setBuild: (serviceId, behaviour) => {
      mustExist(serviceId)
      queue.setBuild(serviceId, behaviour)
    },
    previewDeploy: (applicationId, { pr, sha, host }) => {
      const app = state.find('application', applicationId)
      if (!app) throw new Error(`previewDeploy: ${applicationId} is not an application`)
      let preview = previews.find((p) => p.applicationId === applicationId && p.pullRequestNumber === String(pr))
      if (!preview) {
        const previewDeploymentId = `prev-${previews.length + 1}-${pr}`
        preview = {
          previewDeploymentId,
          applicationId,
          appName: `preview-${app.appName}-${previewDeploymentId.slice(-4)}`,
          branch: `feature-${pr}`,
          pullRequestId: String(9000 + pr),
          pullRequestNumber: String(pr),
          pullRequestURL: `https://github.com/acme/shop/pull/${pr}`,
          pullRequestTitle: `PR #${pr}`,
          pullRequestCommentId: null,
          previewStatus: 'idle',
          createdAt: new Date().toISOString(),
          domainId: `dom-prev-${pr}`,
          domain: { domainId: `dom-prev-${pr}`, host: host ?? `preview-${pr}.shop.example.com`, https: true, path: '/', port: 3000, certificateType: 'letsencrypt' }
        }
        previews.push(preview)
      }
      // the GitHub App's pull_request webhook: "Preview Deployment", described by the head commit
      return queue.enqueue({ kind: 'application', serviceId: applicationId, title: 'Preview Deployment', description: `Hash: ${sha}`, previewDeploymentId: preview.previewDeploymentId }).id
    },
    setBuildDefaults: (behaviour) => {
      Object.assign(queue.defaultBuild, behaviour)
    },
    webhookDeploy: (serviceId, opts = {}) => {
      const { kind } = mustExist(serviceId)
      if (kind !== 'application' && kind !== 'compose') throw new Error(`webhookDeploy: ${serviceId} is a ${kind}`)
      // A push brings a new head commit; the run is titled with its message, like Dokploy's webhook does.
      const fresh = queue.newCommit()
      const commit = opts.sha ? { ...fresh, hash: opts.sha } : fresh
      queue.heads.set(serviceId, commit)
      return queue.enqueue({ kind, serviceId, title: opts.title ?? commit.message, description: opts.description ?? `Hash: ${commit.hash}` }).id
    },
    restart: async ({ downMs = 0, down: how = 'refuse' } = {}) => {
      queue.restart()
      // the process that held the log sockets is gone, whatever stands in front of it
      for (const connection of logSockets) connection.terminate()
      if (downMs <= 0) return
      down = how
      if (how === 'refuse') {
        // the process is gone: open connections drop and new ones are refused until it listens again
        const closed = new Promise((resolve) => server.close(() => resolve(undefined)))
        for (const socket of sockets) socket.destroy()
        await closed
        await new Promise((resolve) => setTimeout(resolve, timers.real(downMs)))
        if (!closedForGood) await new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(undefined)))
      } else {
        await new Promise((resolve) => setTimeout(resolve, timers.real(downMs)))
      }
      down = undefined
    },
    hook: (hook) => {
      hook.hits = 0
      hooks.push(hook)
      return hook
    },
    inject: (rule) => faults.inject(rule),
    clearFaults: () => faults.clear(),
    setRateLimit: (key, n) => {
      remaining.set(key, n)
    },
    dbDeploy: (serviceId, behaviour) => {
      const { kind } = mustExist(serviceId)
      if (kind === 'application' || kind === 'compose') throw new Error(`dbDeploy: ${serviceId} is not a database`)
      dbBehaviour.set(serviceId, { durationMs: options.dbMs ?? 100, ...behaviour }) // replaces: omitted fail = success
    },
    refuseUpgrades: (refuse) => {
      upgradeRefusal = refuse
    },
    dropLogSockets: () => {
      const count = logSockets.size
      for (const connection of logSockets) connection.terminate()
      return count
    },
    openLogSockets: () => logSockets.size,
    ignoreLogCloses: (ignore) => {
      deafToCloses = ignore
    },
    settledAt: (deploymentId) => queue.settledAt(deploymentId),
    lastLineAt: (deploymentId) => queue.lastLineAt(deploymentId),
    placeService: (serviceId, place) => {
      const { kind, row } = mustExist(serviceId)
      if (place.serverId !== undefined) row.serverId = place.serverId
      if (place.buildServerId !== undefined) {
        if (kind !== 'application') throw new Error(`placeService: only an application has a build server, not a ${kind}`)
        row.buildServerId = place.buildServerId
      }
    },
    setConcurrency: (serverId, builds) => queue.setConcurrency(serverId, builds),
    setAccess: (gate) => {
      access = gate
    },
    loggedAt: (deploymentId) => queue.loggedAt(deploymentId),
    endBuild: (serviceId, fail) => {
      mustExist(serviceId)
      return queue.endBuild(serviceId, fail)
    },
    until: (done, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const giveUp = Date.now() + timeoutMs
        const check = () => {
          if (done()) return resolve()
          if (Date.now() >= giveUp) return reject(new Error(`emulator: the awaited condition did not come within ${timeoutMs} ms`))
          setTimeout(check, 5)
        }
        check()
      }),
    swarm,
    setRollout: (serviceId, behaviour) => {
      mustExist(serviceId)
      swarm.setRollout(serviceId, behaviour)
    }
  }
  return emu
}
