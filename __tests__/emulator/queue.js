// The build queue of a self-hosted Dokploy (API.md §4, §10), with its real timing:
// - one queue per server (Dokploy's in-memory-queue.ts partitions by the job's serverId, the service's `serverId`;
//   a service with only a build server queues on Dokploy's own host), each FIFO with its own concurrency (one by
//   default), never two builds of the same service at once;
// - the build log lives on the host that builds: the service's buildServerId (applications), else its serverId;
//   rows carry buildServerId and never serverId (services/deployment.ts), and readLogs reads on the row's or the
//   service's serverId, never on a build server (routers/deployment.ts);
// - a job turns active (processedOn) a moment before its deployment row exists (rowLagMs);
// - the row turns done/error a moment after the last log line (at once on the error path; after the Swarm service
//   update on the done path; doneLagMs overrides both), git builds get their title and
//   description replaced by the commit a moment later (overwriteLagMs), and only then the job leaves the queue;
// - a restart cancels running rows, loses queued jobs and numbers new jobs job-1, job-2, … again.

import { KINDS, HOSTILE_TEXT, WORKFLOW_COMMAND_LINES, pseudo } from './state.js'
import { atLeast } from './versions.js'

/** @typedef {import('./state.js').State} State */
/** @typedef {import('./state.js').Kind} Kind */
/** @typedef {import('./state.js').Row} Row */
/** @typedef {import('./timers.js').Timers} Timers */

/**
 * Per-service build behaviour (see emu.setBuild).
 * @typedef {object} BuildBehaviour
 * @property {number} durationMs how long the build runs
 * @property {string | ((job: QueueEntry) => string | undefined)} [fail] when set (or when the function returns a text for the job), the build ends in 'error' and its log says why; like Dokploy's builds, the row's errorMessage stays null (seen on a real v0.30.2)
 * @property {string} [createError] Dokploy fails to create the deployment row itself: it inserts an `error` row at once, with
 *   `errorMessage` "An error have occurred: <this>" and no log, as its createDeployment does; the only way a row gets an errorMessage
 * @property {string[]} [echo] lines the build prints (say, a connection string its script echoes), at its start
 * @property {number} [echoAfterMs] print the echo lines this long into the build instead
 * @property {boolean} [hang] the build never ends (until restart, killBuild or emu.endBuild)
 * @property {number} [delayStartMs] a job for this service may start only this long after it was enqueued
 * @property {number} [rowLagMs] time between the job turning active and its row being created
 * @property {number} [doneLagMs] time between the last log line and the row's final status, on either path; by
 *   default ERROR_LAG_MS on the error path (Dokploy marks the row right after its error line: about 1 ms on a real
 *   v0.30.2) and serviceUpdateMs on the done path
 * @property {number} [serviceUpdateMs] on an application's done path, the time Dokploy takes to update the Swarm
 *   service (mechanizeDockerContainer) between the builder's last line and the row turning done
 * @property {number} [overwriteLagMs] time between the final status and a git build's title overwrite (then the job leaves the queue)
 * @property {(event: BuildEvent, job: QueueEntry, row: DeploymentRow | undefined) => Promise<void> | void} [holdBefore] called as each event of the build comes due:
 *   a promise it returns holds the build at that point until it settles (how a test makes a build wait for the step,
 *   rather than racing it on the clock). The build's timeline is kept: the events after it come as long after it as before
 */

/**
 * The events of a build, in the order they come: its deployment row ('row', rowLagMs after the job turned active),
 * its progress lines (and its echo lines, at echoAfterMs), its last line ('end', at durationMs), its final status
 * ('settle', doneLagMs after the last line), the overwrite of a git build's title, after which the job leaves the
 * queue ('overwrite', overwriteLagMs after that).
 * @typedef {'row'|'step-1'|'step-2'|'step-3'|'step-4'|'echo'|'end'|'settle'|'overwrite'} BuildEvent
 */

/**
 * A deployment row (API.md §4).
 * @typedef {object} DeploymentRow
 * @property {string} deploymentId
 * @property {string} title
 * @property {string} description
 * @property {'running'|'done'|'error'|'cancelled'} status
 * @property {string} logPath
 * @property {null} pid
 * @property {string|null} errorMessage
 * @property {string|null} applicationId
 * @property {string|null} composeId
 * @property {string|null} serverId
 * @property {boolean} isPreviewDeployment
 * @property {string|null} previewDeploymentId
 * @property {string} createdAt
 * @property {string} startedAt
 * @property {string|null} finishedAt
 * @property {string|null} scheduleId
 * @property {string|null} backupId
 * @property {string|null} rollbackId
 * @property {string|null} volumeBackupId
 * @property {string|null} buildServerId
 */

/**
 * A `deployment.queueList` entry.
 * @typedef {object} QueueEntry
 * @property {string} id 'job-N'
 * @property {string} name
 * @property {Record<string, unknown>} data applicationId|composeId, titleLog, descriptionLog, type, applicationType
 * @property {number} timestamp enqueue time
 * @property {number} [processedOn] when the job turned active
 * @property {'waiting'|'active'} state
 * @property {{href: string|null, label: string}} servicePath the service's dashboard path (null when it is gone)
 */

/** @typedef {{entry: QueueEntry, kind: Kind, serviceId: string, previewDeploymentId?: string, partition: string, readyAt: number (real epoch ms), row?: DeploymentRow, timers: ReturnType<typeof setTimeout>[], ended?: boolean, seen?: boolean, onSeen?: (() => void)[]}} Job */

/** The partition of jobs whose service has no serverId: Dokploy's own host (in-memory-queue.ts). */
export const LOCAL_PARTITION = '__local__'

const COMMITS = [
  'feat: add checkout flow (#12)',
  'fix: retry payment webhook on 502 (#13)',
  'chore(deps): bump undici to 6.21.1 (#14)',
  'perf: cache product images (#15)',
  'refactor: split cart service (#16)',
  'docs: deployment runbook (#17)'
]

/**
 * The lag between Dokploy's last log line and the row's final status (docs/dokploy-timing.md). On the error
 * path a real v0.30.2 wrote finishedAt within about 1 ms of its "Error occurred ❌" line; on the done path it
 * first updates the Swarm service (mechanizeDockerContainer), about a second on a quiet swarm.
 */
export const ERROR_LAG_MS = 2
export const SERVICE_UPDATE_MS = 1000

/** Builds keep at most this many rows per service; older ones are deleted (API.md §4). */
export const ROWS_PER_SERVICE = 10

export class BuildQueue {
  /**
   * @param {{state: State, timers: Timers, getVersion: () => string, hostile?: boolean, buildMs?: number, concurrency?: number,
   *   serverConcurrency?: Record<string, number>, rowLagMs?: number, doneLagMs?: number, serviceUpdateMs?: number, overwriteLagMs?: number, seenBuilds?: boolean,
   *   onDeployed?: (kind: Kind, serviceId: string, deploymentId: string) => void}} opts
   */
  constructor(opts) {
    this.state = opts.state
    /** A build does not reach its end before a client was shown it (its job in a queue listing, or its row in a deployment list). */
    this.seenBuilds = Boolean(opts.seenBuilds)
    this.timers = opts.timers
    this.getVersion = opts.getVersion
    /** Hears of a build that succeeded, as Dokploy calls Swarm's service update before it writes done (swarm.js). */
    this.onDeployed = opts.onDeployed
    this.hostile = Boolean(opts.hostile)
    this.concurrency = Math.max(1, opts.concurrency ?? 1)
    /** @type {Map<string, number>} builds at once per remote server (Dokploy's buildsConcurrency of each server) */
    this.serverConcurrency = new Map(Object.entries(opts.serverConcurrency ?? {}))
    this.defaultBuild = /** @type {BuildBehaviour} */ ({
      durationMs: opts.buildMs ?? 200,
      hang: false,
      delayStartMs: 0,
      rowLagMs: opts.rowLagMs ?? 200,
      doneLagMs: opts.doneLagMs,
      serviceUpdateMs: opts.serviceUpdateMs ?? SERVICE_UPDATE_MS,
      overwriteLagMs: opts.overwriteLagMs ?? 50
    })
    /** @type {Map<string, Partial<BuildBehaviour>>} */
    this.behaviour = new Map()
    /** @type {Job[]} every job in the queue, waiting or active, in enqueue order */
    this.jobs = []
    /** @type {Set<Job>} */
    this.active = new Set()
    /** @type {DeploymentRow[]} every row ever created, including ones dropped by the 10-row cap */
    this.deployments = []
    /** @type {Map<string, {seq: number, kind: Kind, serviceId: string, previewDeploymentId?: string, host: string|null, logs: string[], lineAt: number[], dropped: boolean, settledAt?: number, lastLineAt?: number}>} */
    this.meta = new Map()
    /** @type {Map<string, Set<(lines: string[]) => void>>} who follows a deployment's log as it is written */
    this.logListeners = new Map()
    /** @type {Map<string, {message: string, hash: string}>} head commit per git-sourced service */
    this.heads = new Map()
    this.jobSeq = 0
    this.rowSeq = 0
    this.commitSeq = 0
    /** @type {ReturnType<typeof setTimeout> | undefined} wake-up for a job waiting on delayStartMs */
    this.wake = undefined
  }

  /**
   * Replace the service's behaviour (omitted fields fall back to the defaults: no fail, no hang, no delay).
   * @param {string} serviceId @param {Partial<BuildBehaviour>} b
   */
  setBuild(serviceId, b) {
    this.behaviour.set(serviceId, { ...b })
  }

  /** @param {string} serviceId @returns {BuildBehaviour} */
  buildFor(serviceId) {
    return { ...this.defaultBuild, ...this.behaviour.get(serviceId) }
  }

  /** A new commit (what a push would bring). */
  newCommit() {
    const n = this.commitSeq++
    const base = COMMITS[n % COMMITS.length]
    const message = this.hostile ? base.replace(':', `: ${HOSTILE_TEXT}`) : base
    return { message, hash: pseudo(`commit:${n}`, 40, '0123456789abcdef') }
  }

  /** @param {string} serviceId */
  headCommit(serviceId) {
    let head = this.heads.get(serviceId)
    if (!head) {
      head = this.newCommit()
      this.heads.set(serviceId, head)
    }
    return head
  }

  /**
   * Enqueue a build and start it at once if the builder is free.
   * @param {{kind: Kind, serviceId: string, title?: string, description?: string, type?: 'deploy'|'redeploy', previewDeploymentId?: string}} req
   *   previewDeploymentId: a pull request's preview of the application (its job carries the applicationId too)
   * @returns {QueueEntry}
   */
  enqueue(req) {
    const row = this.state.find(req.kind, req.serviceId)
    const env = row ? this.state.environment(row.environmentId) : undefined
    const now = Date.now()
    /** @type {QueueEntry} */
    const entry = {
      id: `job-${++this.jobSeq}`,
      name: 'deployments',
      data: {
        [KINDS[req.kind].idKey]: req.serviceId,
        titleLog: req.title || 'Manual deployment',
        descriptionLog: req.description ?? '',
        type: req.type ?? 'deploy',
        applicationType: req.previewDeploymentId ? 'application-preview' : req.kind,
        ...(req.previewDeploymentId ? { previewDeploymentId: req.previewDeploymentId } : {}),
        server: Boolean(row?.serverId),
        // the job queues where the service runs; a build server does not count (routers/application.ts)
        ...(row?.serverId ? { serverId: row.serverId } : {})
      },
      timestamp: now,
      processedOn: undefined,
      state: 'waiting',
      // the dashboard path of the service, as Dokploy resolves it for the queue table (API.md §10)
      servicePath: env
        ? { href: `/dashboard/project/${env.projectId}/environment/${env.environmentId}/services/${req.kind}/${req.serviceId}`, label: KINDS[req.kind].label }
        : { href: null, label: '—' }
    }
    const delay = this.buildFor(req.serviceId).delayStartMs ?? 0
    const partition = row?.serverId ?? LOCAL_PARTITION
    this.jobs.push({ entry, kind: req.kind, serviceId: req.serviceId, previewDeploymentId: req.previewDeploymentId, partition, readyAt: now + this.timers.real(delay), timers: [] })
    this.pump()
    return entry
  }

  /** Builds at once on one server's queue. @param {string} partition */
  concurrencyOf(partition) {
    return Math.max(1, this.serverConcurrency.get(partition) ?? this.concurrency)
  }

  /** @param {string} serverId @param {number} n */
  setConcurrency(serverId, n) {
    this.serverConcurrency.set(serverId, n)
    this.pump()
  }

  /**
   * Start waiting jobs while a build slot of their server is free: per server, the first waiting job whose
   * service is not building. A job that is not ready yet (delayStartMs) holds every job behind it on its server.
   */
  pump() {
    if (this.timers.closed) return
    /** @type {Set<string>} servers whose queue is held */
    const held = new Set()
    let wakeAt = Infinity
    for (const job of this.jobs) {
      if (held.has(job.partition) || this.active.has(job)) continue
      const active = [...this.active].filter((a) => a.partition === job.partition)
      if (active.length >= this.concurrencyOf(job.partition)) {
        held.add(job.partition)
        continue
      }
      if (active.some((a) => a.serviceId === job.serviceId)) continue
      if (job.readyAt > Date.now()) {
        held.add(job.partition)
        wakeAt = Math.min(wakeAt, job.readyAt)
        continue
      }
      this.start(job)
    }
    if (wakeAt < Infinity) {
      this.timers.cancel(this.wake)
      this.wake = this.timers.at(() => this.pump(), wakeAt)
    }
  }

  /** The job turns active now; its row is created rowLagMs later, as Dokploy does after its first queries. @param {Job} job */
  start(job) {
    const service = this.state.find(job.kind, job.serviceId)
    if (!service) {
      this.jobs = this.jobs.filter((j) => j !== job)
      return
    }
    this.active.add(job)
    job.entry.state = 'active'
    job.entry.processedOn = Date.now()
    service[KINDS[job.kind].statusKey] = 'running'
    const b = this.buildFor(job.serviceId)
    const t = this.timers.set(() => this.due(job, 'row', () => this.createRow(job)), b.rowLagMs ?? 0)
    if (t) job.timers.push(t)
  }

  /** @param {Job} job */
  createRow(job) {
    const service = this.state.find(job.kind, job.serviceId)
    if (!service || !this.active.has(job)) return
    const b = this.buildFor(job.serviceId)
    const n = ++this.rowSeq
    const iso = new Date().toISOString()
    /** @type {DeploymentRow} */
    const row = {
      deploymentId: `dep-${n}-${pseudo(`dep:${n}:${Date.now()}`, 6)}`,
      title: String(job.entry.data.titleLog),
      description: String(job.entry.data.descriptionLog),
      status: 'running',
      logPath: `/etc/dokploy/logs/${service.appName}/${service.appName}-${iso.replace(/[:.]/g, '-')}.log`,
      pid: null,
      errorMessage: null,
      // a preview's row belongs to the preview alone (Dokploy's createDeploymentPreview)
      applicationId: job.kind === 'application' && !job.previewDeploymentId ? job.serviceId : null,
      composeId: job.kind === 'compose' ? job.serviceId : null,
      // Dokploy never fills serverId on application and compose rows (createDeployment, createDeploymentCompose)
      serverId: null,
      isPreviewDeployment: !!job.previewDeploymentId,
      previewDeploymentId: job.previewDeploymentId ?? null,
      createdAt: iso,
      startedAt: iso,
      finishedAt: null,
      scheduleId: null,
      backupId: null,
      rollbackId: null,
      volumeBackupId: null,
      buildServerId: job.kind === 'application' ? (service.buildServerId ?? null) : null
    }
    job.row = row
    this.deployments.push(row)
    if (b.createError !== undefined) return this.failCreation(job, service, b.createError)
    const logs = this.startLines(job, service)
    if (b.echoAfterMs === undefined) logs.push(...(b.echo ?? []))
    const now = Date.now()
    // the log file is written on the host that builds (services/application.ts: buildServerId || serverId)
    const host = row.buildServerId || service.serverId || null
    this.meta.set(row.deploymentId, { seq: n, kind: job.kind, serviceId: job.serviceId, previewDeploymentId: job.previewDeploymentId, host, logs, lineAt: logs.map(() => now), dropped: false })
    this.capRows(job.kind, job.serviceId)

    // Progress lines every durationMs/5, the echo lines at echoAfterMs, then the end (never, when hanging).
    const step = Math.max(1, Math.floor(b.durationMs / 5))
    /** @type {{at: number, event: BuildEvent, run: () => void}[]} */
    const timeline = []
    for (let i = 1; i <= 4; i++) {
      const line = `#${i + 4} [build ${i}/4] RUN step-${i} ... done (${(i * step) / 1000}s)`
      timeline.push({ at: i * step, event: /** @type {BuildEvent} */ (`step-${i}`), run: () => this.appendLog(row.deploymentId, line) })
    }
    if (b.echoAfterMs !== undefined) timeline.push({ at: b.echoAfterMs, event: 'echo', run: () => this.appendLog(row.deploymentId, ...(b.echo ?? [])) })
    if (!b.hang) {
      const fail = typeof b.fail === 'function' ? b.fail(job.entry) : b.fail
      timeline.push({ at: b.durationMs, event: 'end', run: () => this.finish(job, fail) })
    }
    // stable: at the same moment, the progress line comes before the echo, and both before the end
    timeline.sort((x, y) => x.at - y.at)
    this.play(job, timeline, 0)
  }

  /**
   * Plays a build's events one after the other, each its own simulated time after the one before; a hold
   * (holdBefore) delays the event and every one after it. Stops once the job ended (killBuild, restart).
   * @param {Job} job @param {{at: number, event: BuildEvent, run: () => void}[]} timeline @param {number} from
   */
  play(job, timeline, from) {
    const next = timeline.shift()
    if (!next) return
    const t = this.timers.set(() => {
      job.timers = job.timers.filter((x) => x !== t)
      if (job.ended) return
      this.due(job, next.event, () => {
        next.run()
        this.play(job, timeline, next.at)
      })
    }, next.at - from)
    if (t) job.timers.push(t)
  }

  /**
   * Runs an event of the job's build now, or once the test's hold on it is released.
   * @param {Job} job @param {BuildEvent} event @param {() => void} run
   */
  due(job, event, run) {
    const b = this.buildFor(job.serviceId)
    /** @type {Promise<void>[]} */
    const holds = []
    if (event === 'end' && this.seenBuilds && !job.seen) holds.push(new Promise((resolve) => (job.onSeen ??= []).push(resolve)))
    const hold = b.holdBefore?.(event, job.entry, job.row)
    if (hold) holds.push(hold)
    if (!holds.length) return run()
    const still = () => !this.timers.closed && this.active.has(job) && (event === 'settle' || event === 'overwrite' || !job.ended)
    Promise.all(holds).then(() => {
      if (still()) run()
    }, () => {})
  }

  /** A client was shown the job (seenBuilds). @param {Job} job */
  markSeen(job) {
    if (job.seen) return
    job.seen = true
    for (const resolve of job.onSeen ?? []) resolve()
    job.onSeen = undefined
  }

  /** A client was shown the queue listing: every job in it. */
  queueShown() {
    for (const job of this.jobs) this.markSeen(job)
  }

  /** A client was shown these rows: their jobs. @param {DeploymentRow[]} rows */
  rowsShown(rows) {
    for (const job of this.jobs) if (job.row && rows.includes(job.row)) this.markSeen(job)
  }

  /** @param {Job} job @param {Row} service @returns {string[]} */
  startLines(job, service) {
    const lines = ['Initializing deployment']
    if (job.kind === 'application' && service.sourceType === 'docker') {
      lines.push(`Pulling ${service.dockerImage}: ✅`)
    } else {
      const repo = service.customGitUrl ?? `github.com/${service.owner}/${service.repository}.git`
      lines.push(`Cloning ${repo} (branch ${service.branch ?? service.customGitBranch ?? 'main'}) to /etc/dokploy/${job.kind === 'compose' ? 'compose' : 'applications'}/${service.appName}/code: ✅`)
    }
    if (this.hostile) lines.push(`Service ${HOSTILE_TEXT}`, ...WORKFLOW_COMMAND_LINES)
    lines.push(job.kind === 'compose' ? `Running docker compose -p ${service.appName} up -d --build` : `Building ${service.appName} (dockerfile)`)
    return lines
  }

  /**
   * createDeployment's catch: the row is `error` from the start, says why in errorMessage, and has no log file.
   * @param {Job} job @param {Row} service @param {string} reason
   */
  failCreation(job, service, reason) {
    const row = /** @type {DeploymentRow} */ (job.row)
    const text = this.hostile ? `${reason} ${HOSTILE_TEXT}\n${WORKFLOW_COMMAND_LINES.join('\n')}` : reason
    Object.assign(row, { status: 'error', logPath: '', errorMessage: `An error have occurred: ${text}`, finishedAt: row.startedAt })
    this.meta.set(row.deploymentId, { seq: this.rowSeq, kind: job.kind, serviceId: job.serviceId, host: null, logs: [], lineAt: [], dropped: false, settledAt: Date.now() })
    this.capRows(job.kind, job.serviceId)
    service[KINDS[job.kind].statusKey] = 'error'
    job.ended = true
    this.leave(job)
  }

  /**
   * End an active job. `fail` undefined = success. The last log line comes first; the status follows
   * doneLagMs later; a git build's title and description are overwritten overwriteLagMs after that, and
   * only then does the job leave the queue (Dokploy's worker returns after its `finally`).
   * @param {Job} job @param {string|undefined} fail
   */
  finish(job, fail) {
    if (!this.active.has(job) || !job.row || job.ended) return
    job.ended = true
    for (const t of job.timers) this.timers.cancel(t)
    job.timers = []
    const row = job.row
    const b = this.buildFor(job.serviceId)
    const lastLineAt = Date.now()
    if (fail === undefined) {
      this.appendLog(row.deploymentId, 'Docker Deployed: ✅')
      this.onDeployed?.(job.kind, job.serviceId, row.deploymentId)
    }
    else {
      const lines = [`❌ Error: ${fail}`]
      if (this.hostile) lines.push(...WORKFLOW_COMMAND_LINES)
      this.appendLog(row.deploymentId, ...lines, 'Error occurred ❌, check the logs for details.')
    }
    const settle = () => {
      const meta = this.meta.get(row.deploymentId)
      if (meta) Object.assign(meta, { settledAt: Date.now(), lastLineAt })
      const service = this.state.find(job.kind, job.serviceId)
      // a failed build leaves errorMessage null: Dokploy only writes the reason into the log
      row.status = fail === undefined ? 'done' : 'error'
      row.finishedAt = new Date().toISOString()
      if (service) service[KINDS[job.kind].statusKey] = row.status
      const t = this.timers.set(() => this.due(job, 'overwrite', () => overwrite(service)), b.overwriteLagMs ?? 0)
      if (t) job.timers.push(t)
    }
    const overwrite = (/** @type {Row|undefined} */ service) => {
      // Git sources (v0.25.7+): the title becomes the commit message and the description its hash; docker
      // images keep theirs, and so does every build on older servers.
      // a preview's row keeps its `Hash: <sha>` description: only a service's own git build is overwritten
      const isGit = job.kind === 'application' ? service?.sourceType !== 'docker' : service?.sourceType !== 'raw'
      if (service && isGit && !job.previewDeploymentId && atLeast(this.getVersion(), 'v0.25.7')) {
        const head = this.headCommit(job.serviceId)
        row.title = head.message
        row.description = `Commit: ${head.hash}`
      }
      this.leave(job)
    }
    // an application's done: Dokploy updates the Swarm service, then marks the row; a compose stack's done
    // (`docker compose up` printed the line and returned) and every error: the row right after the line
    const lag = b.doneLagMs ?? (fail === undefined && job.kind === 'application' ? b.serviceUpdateMs : ERROR_LAG_MS)
    const t = this.timers.set(() => this.due(job, 'settle', settle), lag ?? 0)
    if (t) job.timers.push(t)
  }

  /**
   * Ends the service's running build now, as if it reached its end: its last line, then its status doneLagMs
   * later (for a build that hangs, or one held before its end).
   * @param {string} serviceId @param {string} [fail] @returns {boolean} whether a build was running
   */
  endBuild(serviceId, fail) {
    const job = [...this.active].find((j) => j.serviceId === serviceId && j.row && !j.ended)
    if (!job) return false
    this.finish(job, fail)
    return true
  }

  /** @param {Job} job */
  leave(job) {
    this.jobs = this.jobs.filter((j) => j !== job)
    this.active.delete(job)
    this.pump()
  }

  /** Keep only the newest ROWS_PER_SERVICE rows of a service visible. @param {Kind} kind @param {string} serviceId */
  capRows(kind, serviceId) {
    const live = [...this.meta.entries()].filter(([, m]) => m.kind === kind && m.serviceId === serviceId && !m.dropped)
    live.sort((a, b) => b[1].seq - a[1].seq)
    for (const [, m] of live.slice(ROWS_PER_SERVICE)) m.dropped = true
  }

  /**
   * Rows of one service, newest first (createdAt, then creation order), at most ROWS_PER_SERVICE.
   * @param {Kind} kind @param {string} serviceId
   * @returns {DeploymentRow[]}
   */
  rowsFor(kind, serviceId) {
    return this.deployments
      .filter((r) => {
        const m = this.meta.get(r.deploymentId)
        return m && m.kind === kind && m.serviceId === serviceId && !m.previewDeploymentId && !m.dropped
      })
      .sort(
        (a, b) =>
          Date.parse(b.createdAt) - Date.parse(a.createdAt) ||
          (this.meta.get(b.deploymentId)?.seq ?? 0) - (this.meta.get(a.deploymentId)?.seq ?? 0)
      )
      .slice(0, ROWS_PER_SERVICE)
  }

  /**
   * Last `tail` log lines, or undefined for an unknown or deleted deployment.
   * @param {string} deploymentId @param {number} tail
   */
  readLogs(deploymentId, tail) {
    const m = this.meta.get(deploymentId)
    if (!m || m.dropped) return undefined
    // Dokploy runs `tail … 2>/dev/null || echo ""` on the row's or the service's serverId, never on a build
    // server: a log written elsewhere reads as an empty line
    const row = this.deployments.find((r) => r.deploymentId === deploymentId)
    const service = this.state.find(m.kind, m.serviceId)
    const readsOn = row?.serverId || service?.serverId || null
    if (readsOn !== m.host) return '\n'
    return m.logs.slice(-tail).join('\n')
  }

  /**
   * The build writes lines to its log file; whoever follows the file (`tail -f`) gets them at once.
   * @param {string} deploymentId @param {...string} lines
   */
  appendLog(deploymentId, ...lines) {
    const m = this.meta.get(deploymentId)
    if (!m || !lines.length) return
    m.logs.push(...lines)
    const now = Date.now()
    m.lineAt.push(...lines.map(() => now))
    for (const listener of this.logListeners.get(deploymentId) ?? []) listener(lines)
  }

  /**
   * Follows a deployment's log: `listener` hears of every line written from now on.
   * @param {string} deploymentId @param {(lines: string[]) => void} listener
   * @returns {() => void} stops following
   */
  followLog(deploymentId, listener) {
    const set = this.logListeners.get(deploymentId) ?? new Set()
    set.add(listener)
    this.logListeners.set(deploymentId, set)
    return () => set.delete(listener)
  }

  /**
   * The log file at `logPath` on the host `serverId` (null: Dokploy's own host), or undefined when that host has
   * no such file.
   * @param {string} logPath @param {string|null} serverId
   * @returns {{deploymentId: string, lines: string[]} | undefined}
   */
  logFile(logPath, serverId) {
    const row = this.deployments.find((r) => r.logPath === logPath && this.meta.get(r.deploymentId)?.host === serverId)
    const m = row && this.meta.get(row.deploymentId)
    return row && m && !m.dropped ? { deploymentId: row.deploymentId, lines: m.logs } : undefined
  }

  /**
   * When the row turned final (done, error or cancelled), by the emulator's clock.
   * @param {string} deploymentId
   */
  settledAt(deploymentId) {
    return this.meta.get(deploymentId)?.settledAt
  }

  /** A preview's rows, newest first. @param {string} previewDeploymentId @returns {DeploymentRow[]} */
  rowsForPreview(previewDeploymentId) {
    return this.deployments
      .filter((r) => r.previewDeploymentId === previewDeploymentId && !this.meta.get(r.deploymentId)?.dropped)
      .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
  }

  /**
   * When Dokploy wrote a build's last line, by the emulator's clock (undefined before the build ended).
   * @param {string} deploymentId
   */
  lastLineAt(deploymentId) {
    return this.meta.get(deploymentId)?.lastLineAt
  }

  /** Whether a server of that id exists: one a service runs or builds on. @param {string} serverId */
  knownServer(serverId) {
    return this.state.servers().includes(serverId)
  }

  /**
   * When each line of a deployment's log was written, by the emulator's clock (epoch ms), in order.
   * @param {string} deploymentId @returns {{line: string, at: number}[]}
   */
  loggedAt(deploymentId) {
    const m = this.meta.get(deploymentId)
    return m ? m.logs.map((line, i) => ({ line, at: m.lineAt[i] })) : []
  }

  /** Newest first, as Dokploy sorts it (by enqueue time, descending). @returns {QueueEntry[]} */
  queueList() {
    return [...this.jobs].reverse().map((j) => ({ ...j.entry, data: { ...j.entry.data } }))
  }

  /**
   * cleanQueues: every waiting job of the service leaves the queue (Dokploy's removeWaiting); active ones stay.
   * @param {string} serviceId
   * @returns {number} how many were removed
   */
  removeWaiting(serviceId) {
    const removed = this.jobs.filter((job) => job.serviceId === serviceId && !this.active.has(job))
    this.jobs = this.jobs.filter((job) => !removed.includes(job))
    return removed.length
  }

  /**
   * killBuild is host-wide: it interrupts whatever build of that kind is running.
   * @param {'application'|'compose'} kind
   * @returns {boolean} whether a build was killed
   */
  killBuild(kind) {
    const jobs = [...this.active].filter((job) => job.kind === kind && job.row && !job.ended)
    for (const job of jobs) this.finish(job, 'Build process was killed (docker build interrupted)')
    return jobs.length > 0
  }

  /**
   * Server restart: running deployments are cancelled (finishedAt stays null, as on v0.30.2) and their services
   * left idle; queued jobs are lost; the in-memory queue numbers its jobs from job-1 again.
   */
  restart() {
    for (const job of this.active) {
      for (const t of job.timers) this.timers.cancel(t)
      const service = this.state.find(job.kind, job.serviceId)
      if (service) service[KINDS[job.kind].statusKey] = 'idle'
      const row = job.row
      if (!row || row.status !== 'running') continue
      row.status = atLeast(this.getVersion(), 'v0.25.4') ? 'cancelled' : 'error'
      const meta = this.meta.get(row.deploymentId)
      if (meta) meta.settledAt = Date.now()
      this.appendLog(row.deploymentId, 'Deployment interrupted: server restarted')
    }
    this.timers.cancel(this.wake)
    this.active.clear()
    this.jobs = []
    this.jobSeq = 0
  }
}
