// The build queue of a self-hosted Dokploy (API.md §4, §10), with its real timing:
// - FIFO, `concurrency` builds at once (one by default), never two of the same service at once;
// - a job turns active (processedOn) a moment before its deployment row exists (rowLagMs);
// - the row turns done/error a moment after the last log line (doneLagMs), git builds get their title and
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
 * @property {boolean} [hang] the build never ends (until restart or killBuild)
 * @property {number} [delayStartMs] a job for this service may start only this long after it was enqueued
 * @property {number} [rowLagMs] time between the job turning active and its row being created
 * @property {number} [doneLagMs] time between the last log line and the row's final status
 * @property {number} [overwriteLagMs] time between the final status and a git build's title overwrite (then the job leaves the queue)
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

/** @typedef {{entry: QueueEntry, kind: Kind, serviceId: string, readyAt: number (real epoch ms), row?: DeploymentRow, timers: ReturnType<typeof setTimeout>[], ended?: boolean}} Job */

const COMMITS = [
  'feat: add checkout flow (#12)',
  'fix: retry payment webhook on 502 (#13)',
  'chore(deps): bump undici to 6.21.1 (#14)',
  'perf: cache product images (#15)',
  'refactor: split cart service (#16)',
  'docs: deployment runbook (#17)'
]

/** Builds keep at most this many rows per service; older ones are deleted (API.md §4). */
export const ROWS_PER_SERVICE = 10

export class BuildQueue {
  /**
   * @param {{state: State, timers: Timers, getVersion: () => string, hostile?: boolean, buildMs?: number, concurrency?: number,
   *   rowLagMs?: number, doneLagMs?: number, overwriteLagMs?: number, onDeployed?: (kind: Kind, serviceId: string, deploymentId: string) => void}} opts
   */
  constructor(opts) {
    this.state = opts.state
    this.timers = opts.timers
    this.getVersion = opts.getVersion
    /** Hears of a build that succeeded, as Dokploy calls Swarm's service update before it writes done (swarm.js). */
    this.onDeployed = opts.onDeployed
    this.hostile = Boolean(opts.hostile)
    this.concurrency = Math.max(1, opts.concurrency ?? 1)
    this.defaultBuild = /** @type {BuildBehaviour} */ ({
      durationMs: opts.buildMs ?? 200,
      hang: false,
      delayStartMs: 0,
      rowLagMs: opts.rowLagMs ?? 200,
      doneLagMs: opts.doneLagMs ?? 200,
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
    /** @type {Map<string, {seq: number, kind: Kind, serviceId: string, logs: string[], dropped: boolean, settledAt?: number}>} */
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
   * @param {{kind: Kind, serviceId: string, title?: string, description?: string, type?: 'deploy'|'redeploy'}} req
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
        applicationType: req.kind,
        server: false
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
    this.jobs.push({ entry, kind: req.kind, serviceId: req.serviceId, readyAt: now + this.timers.real(delay), timers: [] })
    this.pump()
    return entry
  }

  /**
   * Start waiting jobs while a build slot is free: the first waiting job whose service is not building.
   * A job that is not ready yet (delayStartMs) holds every job behind it.
   */
  pump() {
    if (this.timers.closed) return
    for (const job of this.jobs) {
      if (this.active.size >= this.concurrency) return
      if (this.active.has(job) || [...this.active].some((a) => a.serviceId === job.serviceId)) continue
      const wait = job.readyAt - Date.now()
      if (wait > 0) {
        this.timers.cancel(this.wake)
        this.wake = this.timers.at(() => this.pump(), job.readyAt)
        return
      }
      this.start(job)
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
    const t = this.timers.set(() => this.createRow(job), b.rowLagMs ?? 0)
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
      applicationId: job.kind === 'application' ? job.serviceId : null,
      composeId: job.kind === 'compose' ? job.serviceId : null,
      serverId: service.serverId ?? null,
      isPreviewDeployment: false,
      previewDeploymentId: null,
      createdAt: iso,
      startedAt: iso,
      finishedAt: null,
      scheduleId: null,
      backupId: null,
      rollbackId: null,
      volumeBackupId: null,
      buildServerId: null
    }
    job.row = row
    this.deployments.push(row)
    if (b.createError !== undefined) return this.failCreation(job, service, b.createError)
    const logs = this.startLines(job, service)
    this.meta.set(row.deploymentId, { seq: n, kind: job.kind, serviceId: job.serviceId, logs, dropped: false })
    this.capRows(job.kind, job.serviceId)

    // Progress lines every durationMs/5, then the end (never, when hanging).
    const step = Math.max(1, Math.floor(b.durationMs / 5))
    for (let i = 1; i <= 4; i++) {
      const t = this.timers.set(() => this.appendLog(row.deploymentId, `#${i + 4} [build ${i}/4] RUN step-${i} ... done (${(i * step) / 1000}s)`), i * step)
      if (t) job.timers.push(t)
    }
    if (b.echoAfterMs === undefined) logs.push(...(b.echo ?? []))
    else {
      const t = this.timers.set(() => this.appendLog(row.deploymentId, ...(b.echo ?? [])), b.echoAfterMs)
      if (t) job.timers.push(t)
    }
    if (!b.hang) {
      const fail = typeof b.fail === 'function' ? b.fail(job.entry) : b.fail
      const t = this.timers.set(() => this.finish(job, fail), b.durationMs)
      if (t) job.timers.push(t)
    }
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
    this.meta.set(row.deploymentId, { seq: this.rowSeq, kind: job.kind, serviceId: job.serviceId, logs: [], dropped: false, settledAt: Date.now() })
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
      if (meta) meta.settledAt = Date.now()
      const service = this.state.find(job.kind, job.serviceId)
      // a failed build leaves errorMessage null: Dokploy only writes the reason into the log
      row.status = fail === undefined ? 'done' : 'error'
      row.finishedAt = new Date().toISOString()
      if (service) service[KINDS[job.kind].statusKey] = row.status
      const t = this.timers.set(() => overwrite(service), b.overwriteLagMs ?? 0)
      if (t) job.timers.push(t)
    }
    const overwrite = (/** @type {Row|undefined} */ service) => {
      // Git sources (v0.25.7+): the title becomes the commit message and the description its hash; docker
      // images keep theirs, and so does every build on older servers.
      const isGit = job.kind === 'application' ? service?.sourceType !== 'docker' : service?.sourceType !== 'raw'
      if (service && isGit && atLeast(this.getVersion(), 'v0.25.7')) {
        const head = this.headCommit(job.serviceId)
        row.title = head.message
        row.description = `Commit: ${head.hash}`
      }
      this.leave(job)
    }
    const t = this.timers.set(settle, b.doneLagMs ?? 0)
    if (t) job.timers.push(t)
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
        return m && m.kind === kind && m.serviceId === serviceId && !m.dropped
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
   * The log file at `logPath` on the host that built it (null: Dokploy's own host), or undefined.
   * @param {string} logPath @param {string|null} serverId
   * @returns {{deploymentId: string, lines: string[]} | undefined}
   */
  logFile(logPath, serverId) {
    const row = this.deployments.find((r) => r.logPath === logPath && (r.serverId ?? null) === serverId)
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

  /** Newest first, as Dokploy sorts it (by enqueue time, descending). @returns {QueueEntry[]} */
  queueList() {
    return [...this.jobs].reverse().map((j) => ({ ...j.entry, data: { ...j.entry.data } }))
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
