// Procedure handlers: what each tRPC/REST procedure does to the fixture and returns (API.md §3–5).
// Input arrives already validated against schemas.js.

import { KINDS, DB_KINDS, LIBSQL_SINCE } from './state.js'
import { TrpcError } from './wire.js'
import { atLeast } from './versions.js'
import { serviceRow, oneView, projectAll, projectOne, environmentOne, environmentsByProject, deploymentView, domainsOf } from './views.js'

/** @typedef {import('./state.js').State} State */
/** @typedef {import('./state.js').Kind} Kind */
/** @typedef {import('./state.js').Row} Row */
/** @typedef {import('./queue.js').BuildQueue} BuildQueue */
/** @typedef {import('./timers.js').Timers} Timers */

/**
 * @typedef {object} Procedure
 * @property {'query'|'mutation'} type
 * @property {boolean} [public] callable without a key
 * @property {string} [since] first Dokploy version that has it; older servers answer 404 No procedure found
 * @property {'docker:read'} [permission] a key of a member (no docker:read) gets 401 unauthorized to access resource "docker"
 * @property {(input: Record<string, any>) => unknown} handler
 */

/**
 * @typedef {object} ProcedureContext
 * @property {State} state
 * @property {BuildQueue} queue
 * @property {Record<string, any>[]} previews pull-request previews of applications
 * @property {Timers} timers
 * @property {() => string} getVersion
 * @property {(serviceId: string) => {durationMs: number, fail?: string, holdEnd?: () => Promise<void> | void}} dbBehaviour
 * @property {(counter: 'deployCalls'|'redeployCalls'|'rebuildCalls'|'killBuildCalls'|'cleanQueuesCalls', serviceId: string) => void} count
 * @property {import('./swarm.js').Swarm} [swarm] what runs after a deployment (tasks, containers)
 */

/**
 * @param {ProcedureContext} ctx
 * @returns {Record<string, Procedure>}
 */
export function createProcedures(ctx) {
  const { state, queue } = ctx
  /** @type {Record<string, Procedure>} */
  const procs = {}
  /** @param {string} name @param {Procedure['handler']} handler @param {Partial<Procedure>} [extra] */
  const query = (name, handler, extra) => (procs[name] = { type: 'query', handler, ...extra })
  /** @param {string} name @param {Procedure['handler']} handler @param {Partial<Procedure>} [extra] */
  const mutation = (name, handler, extra) => (procs[name] = { type: 'mutation', handler, ...extra })

  /** @param {Kind} kind @param {Record<string, any>} input @returns {Row} */
  const need = (kind, input) => {
    const row = state.find(kind, input[KINDS[kind].idKey])
    if (!row) throw new TrpcError('NOT_FOUND', `${KINDS[kind].label} not found`)
    return row
  }
  /** @param {Row} row */
  const rowView = (row) => serviceRow(state, structuredClone(row), ctx.getVersion())
  /** @param {Kind} kind @param {Row} row @param {string} status @returns {Row} the row as it was before */
  const setStatus = (kind, row, status) => {
    const before = rowView(row)
    row[KINDS[kind].statusKey] = status
    return before
  }
  /** Reload addresses the Docker service by appName; a wrong one is what Docker would reject. @param {Row} row @param {string} appName */
  const checkAppName = (row, appName) => {
    if (appName !== row.appName) throw new TrpcError('INTERNAL_SERVER_ERROR', `Error reloading: no such service: ${appName}`)
  }
  /** Fields of an update input other than the id. @param {Kind} kind @param {Record<string, any>} input */
  const changes = (kind, input) => {
    const out = { ...input }
    delete out[KINDS[kind].idKey]
    return out
  }
  const cloudOnly = () => {
    throw new TrpcError('BAD_REQUEST', 'Deployment cancellation only available in cloud version')
  }

  // --- settings -------------------------------------------------------------------------------------------
  query('settings.health', () => ({ status: 'ok' }), { public: true })
  query('settings.getDokployVersion', () => ctx.getVersion())

  // --- application ----------------------------------------------------------------------------------------
  query('application.one', (input) => oneView(state, 'application', need('application', input), ctx.getVersion()))
  for (const type of /** @type {const} */ (['deploy', 'redeploy'])) {
    mutation(`application.${type}`, (input) => {
      need('application', input)
      ctx.count(type === 'deploy' ? 'deployCalls' : 'redeployCalls', input.applicationId)
      queue.enqueue({ kind: 'application', serviceId: input.applicationId, title: input.title, description: input.description, type })
      return undefined // void mutation
    })
  }
  mutation('application.start', (input) => setStatus('application', need('application', input), 'done'))
  mutation('application.stop', (input) => setStatus('application', need('application', input), 'idle'))
  mutation('application.reload', (input) => {
    const row = need('application', input)
    checkAppName(row, input.appName)
    row.applicationStatus = 'done'
    return true
  })
  mutation('application.saveEnvironment', (input) => {
    // Replaces every field it takes (no merge), as Dokploy does.
    Object.assign(need('application', input), changes('application', input))
    return true
  })
  mutation('application.saveDockerProvider', (input) => {
    Object.assign(need('application', input), changes('application', input), { sourceType: 'docker', applicationStatus: 'idle' })
    return true
  })
  mutation('application.update', (input) => {
    Object.assign(need('application', input), changes('application', input))
    return true
  })
  mutation('application.killBuild', (input) => {
    need('application', input)
    ctx.count('killBuildCalls', input.applicationId)
    queue.killBuild('application')
    return undefined
  })
  mutation('application.cancelDeployment', cloudOnly)
  // every waiting job of the application (its previews' too), never an active one; no way to remove one job
  mutation('application.cleanQueues', (input) => {
    need('application', input)
    ctx.count('cleanQueuesCalls', input.applicationId)
    queue.removeWaiting(input.applicationId)
    return undefined
  })

  // --- compose --------------------------------------------------------------------------------------------
  query('compose.one', (input) => oneView(state, 'compose', need('compose', input), ctx.getVersion()))
  for (const type of /** @type {const} */ (['deploy', 'redeploy'])) {
    mutation(`compose.${type}`, (input) => {
      need('compose', input)
      ctx.count(type === 'deploy' ? 'deployCalls' : 'redeployCalls', input.composeId)
      queue.enqueue({ kind: 'compose', serviceId: input.composeId, title: input.title, description: input.description, type })
      const v = ctx.getVersion()
      const message = type === 'deploy' ? 'Deployment queued' : 'Redeployment queued'
      if (atLeast(v, 'v0.27.0')) return { success: true, message, composeId: input.composeId }
      if (atLeast(v, 'v0.26.0')) return { success: true, message }
      return true
    })
  }
  mutation('compose.start', (input) => {
    need('compose', input).composeStatus = 'done'
    return true
  })
  mutation('compose.stop', (input) => {
    need('compose', input).composeStatus = 'idle'
    return true
  })
  mutation('compose.saveEnvironment', (input) => {
    Object.assign(need('compose', input), changes('compose', input))
    return true
  })
  mutation('compose.update', (input) => {
    const row = need('compose', input)
    Object.assign(row, changes('compose', input))
    return rowView(row)
  })
  mutation('compose.killBuild', (input) => {
    need('compose', input)
    ctx.count('killBuildCalls', input.composeId)
    queue.killBuild('compose')
    return undefined
  })
  mutation('compose.cancelDeployment', cloudOnly)
  mutation('compose.cleanQueues', (input) => {
    need('compose', input)
    ctx.count('cleanQueuesCalls', input.composeId)
    queue.removeWaiting(input.composeId)
    return { success: true, message: 'Queues cleaned successfully' }
  })

  // search (v0.28.3+): case-insensitive substring match; this emulator's key user "created" every service.
  for (const kind of /** @type {const} */ (['application', 'compose'])) {
    query(
      `${kind}.search`,
      (input) => {
        const needle = (/** @type {unknown} */ v) => (typeof v === 'string' ? v.toLowerCase() : undefined)
        const has = (/** @type {unknown} */ hay, /** @type {string|undefined} */ n) => n === undefined || String(hay ?? '').toLowerCase().includes(n)
        const q = needle(input.q)
        const items = state.services[kind]
          .filter((r) => {
            const env = state.environment(r.environmentId)
            return (
              (q === undefined || has(r.name, q) || has(r.appName, q) || has(r.description, q)) &&
              has(r.name, needle(input.name)) &&
              has(r.appName, needle(input.appName)) &&
              (input.projectId === undefined || env?.projectId === input.projectId) &&
              (input.environmentId === undefined || r.environmentId === input.environmentId)
            )
          })
          .map((r) => ({
            [KINDS[kind].idKey]: r[KINDS[kind].idKey],
            name: r.name,
            appName: r.appName,
            description: r.description,
            environmentId: r.environmentId,
            [KINDS[kind].statusKey]: r[KINDS[kind].statusKey],
            sourceType: r.sourceType,
            createdAt: r.createdAt
          }))
        return { items: items.slice(input.offset, input.offset + input.limit), total: items.length }
      },
      { since: 'v0.28.3' }
    )
  }

  // --- databases ------------------------------------------------------------------------------------------
  for (const kind of DB_KINDS) {
    const idKey = KINDS[kind].idKey
    const since = kind === 'libsql' ? { since: LIBSQL_SINCE } : undefined
    /** @param {string} name @param {Procedure['handler']} handler */
    const query = (name, handler) => (procs[name] = { type: 'query', handler, ...since })
    /** @param {string} name @param {Procedure['handler']} handler */
    const mutation = (name, handler) => (procs[name] = { type: 'mutation', handler, ...since })
    query(`${kind}.one`, (input) => oneView(state, kind, need(kind, input), ctx.getVersion()))
    // Synchronous: blocks for the deploy, answers with the row as it was before; 500 on failure; no deployment row.
    mutation(`${kind}.deploy`, async (input) => {
      const row = need(kind, input)
      ctx.count('deployCalls', input[idKey])
      const b = ctx.dbBehaviour(input[idKey])
      const before = setStatus(kind, row, 'running')
      await ctx.timers.sleep(b.durationMs)
      await b.holdEnd?.()
      if (b.fail !== undefined) {
        row.applicationStatus = 'error'
        throw new TrpcError('INTERNAL_SERVER_ERROR', b.fail)
      }
      row.applicationStatus = 'done'
      ctx.swarm?.rollout(kind, input[idKey])
      return before
    })
    mutation(`${kind}.start`, (input) => {
      const before = setStatus(kind, need(kind, input), 'done')
      ctx.swarm?.rollout(kind, input[idKey])
      return before
    })
    mutation(`${kind}.stop`, (input) => setStatus(kind, need(kind, input), 'idle'))
    mutation(`${kind}.reload`, (input) => {
      const row = need(kind, input)
      checkAppName(row, input.appName)
      row.applicationStatus = 'done'
      ctx.swarm?.rollout(kind, input[idKey])
      return true
    })
    mutation(`${kind}.saveEnvironment`, (input) => {
      need(kind, input).env = input.env
      return true
    })
    mutation(`${kind}.update`, (input) => {
      Object.assign(need(kind, input), changes(kind, input))
      return true
    })
    // Deletes the service and force-deletes its volumes in real Dokploy: recorded so tests can assert it never happens.
    mutation(`${kind}.rebuild`, (input) => {
      need(kind, input)
      ctx.count('rebuildCalls', input[idKey])
      return true
    })
  }

  // --- domains (no secret in them; an owner gets [] for an unknown id) -----------------------------------------
  query('domain.byApplicationId', (input) => domainsOf(state, 'application', input.applicationId))
  query('domain.byComposeId', (input) => domainsOf(state, 'compose', input.composeId))

  // --- what runs (API.md §11): a service on a remote server is only seen with its serverId ------------------
  /** @param {string} appName @param {string|undefined} serverId */
  const onServer = (appName, serverId) => {
    const found = ctx.swarm?.serviceByAppName(appName)
    return found && (found.row.serverId ?? undefined) === (serverId || undefined) ? found : undefined
  }
  query(
    'swarm.getAppInfos',
    (input) => {
      // docker service ps a b c: one unknown name makes docker write to stderr, and Dokploy answers nothing
      const found = input.appName.map((/** @type {string} */ name) => onServer(name, input.serverId))
      if (found.some((/** @type {unknown} */ f) => !f)) return undefined
      return input.appName.flatMap((/** @type {string} */ name) => ctx.swarm?.appInfos(name) ?? [])
    },
    { permission: 'docker:read' }
  )
  query('docker.getContainersByAppNameMatch', (input) => (onServer(input.appName, input.serverId) ? (ctx.swarm?.containers(input.appName, input.appType) ?? []) : []))

  // application.readLogs: the log of the newest running container (docker ps --filter name=^appName | head -1)
  query('application.readLogs', (input) => {
    const app = need('application', input)
    const running = ctx.swarm?.tasksOf('application', app).find((t) => t.desired === 'running' && t.state === 'running')
    if (!running) throw new TrpcError('INTERNAL_SERVER_ERROR', `No container or service found for: ${app.appName}`)
    const lines = [`${running.image} starting`, `${running.image} listening on :3000`]
    return lines.slice(-input.tail).join('\n')
  })

  // --- rollbacks (applications with rollbackActive and a rollback registry) --------------------------------
  mutation('rollback.rollback', (input) => {
    // Dokploy wraps every failure of a rollback in the same 400
    if (!ctx.swarm?.rollBack(input.rollbackId)) throw new TrpcError('BAD_REQUEST', 'Error input: Rolling back')
    return undefined
  })

  // --- deployments ----------------------------------------------------------------------------------------
  // Owners skip existence checks: an unknown id is just an empty list.
  /** @param {import('./queue.js').DeploymentRow[]} rows */
  const shown = (rows) => {
    queue.rowsShown(rows)
    return rows.map((r) => deploymentView(r, ctx.getVersion()))
  }
  query('deployment.all', (input) => shown(queue.rowsFor('application', input.applicationId)))
  query('deployment.allByCompose', (input) => shown(queue.rowsFor('compose', input.composeId)))
  // rows of any owner, each with its rollback (Dokploy's `with: {rollback: true}`, fullContext and all)
  query('deployment.allByType', (input) => {
    const rows = input.type === 'previewDeployment' ? queue.rowsForPreview(input.id) : input.type === 'application' || input.type === 'compose' ? queue.rowsFor(input.type, input.id) : []
    return shown(rows).map((view, i) => ({ ...view, rollback: rows[i].rollbackId ? structuredClone(ctx.swarm?.rollbacks.get(rows[i].rollbackId) ?? null) : null }))
  })
  // previews of an application, newest first, each with its domain and its rows (findPreviewDeploymentsByApplicationId)
  query('previewDeployment.all', (input) => {
    need('application', input)
    return [...ctx.previews]
      .filter((p) => p.applicationId === input.applicationId)
      .reverse()
      .map((p) => ({ ...p, deployments: shown(queue.rowsForPreview(p.previewDeploymentId)) }))
  })
  query(
    'deployment.queueList',
    () => {
      queue.queueShown()
      return queue.queueList()
    },
    { since: 'v0.28.3' }
  )
  query(
    'deployment.readLogs',
    (input) => {
      const text = queue.readLogs(input.deploymentId, input.tail)
      if (text === undefined) throw new TrpcError('NOT_FOUND', 'Deployment not found')
      return text
    },
    { since: 'v0.29.6' }
  )

  // --- projects and environments --------------------------------------------------------------------------
  query('project.all', () => projectAll(state, ctx.getVersion()))
  query('project.one', (input) => {
    const project = state.project(input.projectId)
    if (!project) throw new TrpcError('NOT_FOUND', 'Project not found')
    return projectOne(state, project, ctx.getVersion())
  })
  query('environment.byProjectId', (input) => environmentsByProject(state, input.projectId, ctx.getVersion()), { since: 'v0.25.0' })
  query(
    'environment.one',
    (input) => {
      const env = state.environment(input.environmentId)
      if (!env) throw new TrpcError('NOT_FOUND', 'Environment not found')
      return environmentOne(state, env, ctx.getVersion())
    },
    { since: 'v0.25.0' }
  )

  return procs
}
