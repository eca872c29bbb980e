// What runs after a deployment: each service's Swarm tasks (applications, databases, stacks) and a compose
// project's containers, as Dokploy's docker and swarm routers list them (API.md §11). Dokploy marks a
// deployment `done` once Swarm has accepted the service update; what the new task does afterwards is
// modelled here: it runs, or turns healthy slowly, or never, or crash-loops, and Swarm rolls back.

import { KINDS } from './state.js'
import { pseudo } from './state.js'

/** @typedef {import('./state.js').State} State */
/** @typedef {import('./state.js').Kind} Kind */
/** @typedef {import('./timers.js').Timers} Timers */

/**
 * How a service's next rollouts behave. Durations are simulated ms after the deployment turned done.
 * @typedef {object} RolloutBehaviour
 * @property {number} [runningAfterMs] the new task runs this long after done (default: it already ran for 5 s,
 *   so the check confirms it at its first look; a negative value backdates it further)
 * @property {boolean} [neverHealthy] the health check never passes: the new task stays starting (the old one runs on)
 * @property {'rollback'|'loop'} [crash] the new image exits: `rollback`, Swarm puts the previous task spec back
 *   (which runs); `loop`, every replacement crashes too (a git build: the previous spec has the same image)
 * @property {number} [crashAfterMs] the crash comes this long after the task started running (default 1000)
 * @property {string} [error] the failed task's error (default "task: non-zero exit (1)")
 * @property {number} [replicas] tasks of an application or database (default 1)
 * @property {string[]} [services] services of a compose project or stack (default ['web'])
 */

/**
 * @typedef {object} Task
 * @property {string} id
 * @property {string} slot `<appName>.<n>` (a stack: `<appName>_<service>.<n>`)
 * @property {string} image
 * @property {'running'|'shutdown'} desired
 * @property {'starting'|'running'|'failed'|'shutdown'} state
 * @property {number} since real epoch ms of the state's start
 * @property {string} error
 */

/** Swarm keeps this many tasks per slot (its task-history-retention-limit). */
const HISTORY = 5

export class Swarm {
  /** @param {{state: State, timers: Timers}} opts */
  constructor(opts) {
    this.state = opts.state
    this.timers = opts.timers
    /** @type {Map<string, RolloutBehaviour>} by service id */
    this.behaviour = new Map()
    /** @type {Map<string, Task[]>} by appName, every slot's tasks, newest first within a slot */
    this.tasks = new Map()
    this.seq = 0
    /** @type {{appName: string, at: number}[]} every rollout started, in order */
    this.rollouts = []
    /**
     * Rollback records by id (Dokploy's `rollback` table): made for a deployment of an application that has
     * rollbackActive and a rollbackRegistryId; fullContext holds the application whole, secrets included.
     * @type {Map<string, {rollbackId: string, deploymentId: string, version: number, image: string, createdAt: string, fullContext: Record<string, any>}>}
     */
    this.rollbacks = new Map()
    // what runs from the start: the image each service has before a test changes it (a docker-image deploy)
    for (const kind of /** @type {Kind[]} */ (Object.keys(KINDS))) for (const row of this.state.services[kind] ?? []) this.tasksOf(kind, row)
  }

  /** Also lays out the slots again (replicas, a stack's services) while no rollout has run. @param {string} serviceId @param {RolloutBehaviour} b */
  setRollout(serviceId, b) {
    this.behaviour.set(serviceId, { ...b })
    for (const kind of /** @type {Kind[]} */ (Object.keys(KINDS))) {
      const row = this.state.find(kind, serviceId)
      if (!row || this.rollouts.some((r) => r.appName === row.appName)) continue
      const image = this.tasks.get(row.appName)?.[0]?.image ?? this.imageOf(kind, row)
      const dayAgo = Date.now() - this.timers.real(86_400_000)
      this.tasks.set(row.appName, this.slotsOf(kind, row).map((slot) => this.task(slot, image, 'running', dayAgo)))
    }
  }

  /** @param {string} serviceId @returns {RolloutBehaviour} */
  behaviourOf(serviceId) {
    return this.behaviour.get(serviceId) ?? {}
  }

  /**
   * How long ago a real moment was, in real ms: the ages Docker prints are compared by the action with its own
   * (scaled) pauses, so under a time scale they shrink with them.
   * @param {number} since
   */
  age(since) {
    return Math.max(0, Date.now() - since)
  }

  /** @param {string} slot @param {string} image @param {Task['state']} state @param {number} since @returns {Task} */
  task(slot, image, state, since) {
    this.seq++
    return { id: pseudo(`task:${slot}:${this.seq}`, 25), slot, image, desired: 'running', state, since, error: '' }
  }

  /** The image a service runs now (what its next rollout deploys). @param {Kind} kind @param {Record<string, any>} row */
  imageOf(kind, row) {
    if (kind === 'application' && row.sourceType !== 'docker') return `${row.appName}:latest`
    return row.dockerImage || `${row.appName}:latest`
  }

  /** @param {Kind} kind @param {Record<string, any>} row @returns {string[]} */
  slotsOf(kind, row) {
    const b = this.behaviourOf(row[KINDS[kind].idKey])
    if (kind === 'compose') return (b.services ?? ['web']).map((service) => `${row.appName}_${service}.1`)
    return Array.from({ length: b.replicas ?? 1 }, (_, i) => `${row.appName}.${i + 1}`)
  }

  /** The tasks of a service, made on first sight: one running task per slot since the fixture's deploy a day ago. @param {Kind} kind @param {Record<string, any>} row */
  tasksOf(kind, row) {
    let list = this.tasks.get(row.appName)
    if (!list) {
      const dayAgo = Date.now() - this.timers.real(86_400_000)
      list = this.slotsOf(kind, row).map((slot) => this.task(slot, this.imageOf(kind, row), 'running', dayAgo))
      this.tasks.set(row.appName, list)
    }
    return list
  }

  /** @param {string} appName @param {Task} task */
  add(appName, task) {
    const list = this.tasks.get(appName) ?? []
    const others = list.filter((t) => t.slot !== task.slot)
    const slot = [task, ...list.filter((t) => t.slot === task.slot)].slice(0, HISTORY)
    this.tasks.set(appName, [...others, ...slot].sort((a, b) => (a.slot < b.slot ? -1 : a.slot > b.slot ? 1 : 0)))
  }

  /**
   * A build succeeded: with rollbacks on, Dokploy pushes its image to the rollback registry under a version
   * and keeps a record of it on the deployment row (API.md §11); then Swarm rolls the service out.
   * @param {Kind} kind @param {string} serviceId @param {string} deploymentId @param {Record<string, any>|undefined} deployment the row
   */
  deployed(kind, serviceId, deploymentId, deployment) {
    const row = this.state.find(kind, serviceId)
    if (row && kind === 'application' && row.rollbackActive && row.rollbackRegistryId && deployment) {
      const version = this.rollbacks.size + 1
      const rollbackId = `rb-${version}-${pseudo(`rb:${deploymentId}`, 6)}`
      const image = `registry.example.com/rollbacks/${row.appName}:v${version}`
      this.rollbacks.set(rollbackId, { rollbackId, deploymentId, version, image, createdAt: new Date().toISOString(), fullContext: structuredClone(row) })
      deployment.rollbackId = rollbackId
    }
    this.rollout(kind, serviceId)
  }

  /** rollback.rollback: the service runs the record's image again; no deployment row. @param {string} rollbackId */
  rollBack(rollbackId) {
    const record = this.rollbacks.get(rollbackId)
    if (!record) return false
    const app = this.state.services.application.find((r) => r.applicationId === record.fullContext.applicationId)
    if (!app) return false
    this.rollout('application', app.applicationId, record.image)
    return true
  }

  /**
   * A deployment of the service turned done (or a database's deploy, start or reload answered, or a
   * rollback): Swarm starts the new tasks, start-first, and what they do next is the service's behaviour.
   * @param {Kind} kind @param {string} serviceId @param {string} [imageOverride] a rollback's image
   */
  rollout(kind, serviceId, imageOverride) {
    const row = this.state.find(kind, serviceId)
    if (!row) return
    // a rollback runs the image of a deployment that worked: the service's crash or health behaviour is the new version's
    const b = imageOverride ? {} : this.behaviourOf(serviceId)
    const image = imageOverride ?? this.imageOf(kind, row)
    const previous = this.tasksOf(kind, row).filter((t) => t.desired === 'running')
    this.rollouts.push({ appName: row.appName, at: Date.now() })
    const now = Date.now()
    const real = (/** @type {number} */ ms) => this.timers.real(ms)
    for (const slot of this.slotsOf(kind, row)) {
      const old = previous.find((t) => t.slot === slot)
      const runAfter = b.runningAfterMs ?? (b.crash || b.neverHealthy ? 0 : -5000)
      const fresh = this.task(slot, image, runAfter <= 0 && !b.neverHealthy ? 'running' : 'starting', runAfter <= 0 ? now - real(-runAfter) : now)
      this.add(row.appName, fresh)
      const retire = () => {
        if (old && old.desired === 'running') Object.assign(old, { desired: 'shutdown', state: 'shutdown', since: Date.now() })
      }
      if (b.neverHealthy) continue
      const run = () => {
        if (fresh.state !== 'starting') return
        Object.assign(fresh, { state: 'running', since: Date.now() })
        retire()
      }
      if (fresh.state === 'running') retire()
      else this.timers.set(run, runAfter)
      if (b.crash) this.timers.set(() => this.crash(kind, row, fresh, old, b), Math.max(0, runAfter) + (b.crashAfterMs ?? 1000))
    }
  }

  /**
   * The new task exits. With `rollback` Swarm starts the previous spec again (its image, which runs); with
   * `loop` the replacement has the same image and crashes in turn.
   * @param {Kind} kind @param {Record<string, any>} row @param {Task} task @param {Task|undefined} old @param {RolloutBehaviour} b
   */
  crash(kind, row, task, old, b) {
    if (task.desired !== 'running') return
    Object.assign(task, { desired: 'shutdown', state: 'failed', since: Date.now(), error: b.error ?? 'task: non-zero exit (1)' })
    if (b.crash === 'rollback') {
      this.add(row.appName, this.task(task.slot, old?.image ?? task.image, 'running', Date.now()))
      return
    }
    const again = this.task(task.slot, task.image, 'starting', Date.now())
    this.add(row.appName, again)
    this.timers.set(() => {
      if (again.state === 'starting') Object.assign(again, { state: 'running', since: Date.now() })
    }, 300)
    this.timers.set(() => this.crash(kind, row, again, old, b), 300 + (b.crashAfterMs ?? 1000))
  }

  /** `docker service ps <appName> --format '{{json .}}' --no-trunc`, as swarm.getAppInfos returns it. @param {string} appName */
  appInfos(appName) {
    const found = this.serviceByAppName(appName)
    if (!found) return undefined // docker wrote "no such service" to stderr: Dokploy answers nothing
    return this.tasksOf(found.kind, found.row).map((t) => ({
      CurrentState: this.currentState(t),
      DesiredState: t.desired === 'running' ? 'Running' : 'Shutdown',
      Error: t.error,
      ID: t.id,
      Image: t.image,
      Name: t.slot,
      Node: 'dokploy-node',
      Ports: ''
    }))
  }

  /** docker.getContainersByAppNameMatch: a compose project's containers, or (appType stack) its running tasks. @param {string} appName @param {string|undefined} appType */
  containers(appName, appType) {
    const found = this.serviceByAppName(appName)
    if (!found) return []
    const tasks = this.tasksOf(found.kind, found.row)
    if (appType === 'stack') {
      return tasks
        .filter((t) => t.desired === 'running')
        .map((t) => ({
          containerId: t.id.slice(0, 12),
          name: `${t.slot}.${t.id}`,
          node: 'dokploy-node',
          state: t.state,
          status: t.error ? `${this.currentState(t)} (${t.error})` : this.currentState(t)
        }))
    }
    // docker compose: one container per service, recreated in place
    const newest = new Map()
    for (const t of tasks) if (!newest.has(t.slot)) newest.set(t.slot, t)
    return [...newest.values()].map((t) => {
      const service = t.slot.slice(appName.length + 1).replace(/\.1$/, '')
      const up = `Up ${human(this.age(t.since))}`
      const status = t.state === 'running' ? `${up} (healthy)` : t.state === 'starting' ? `${up} (health: starting)` : `Exited (1) ${human(this.age(t.since))} ago`
      return { containerId: t.id.slice(0, 12), name: `${appName}-${service}-1`, state: t.state === 'failed' ? 'exited' : 'running', status }
    })
  }

  /** @param {Task} t */
  currentState(t) {
    const word = { starting: 'Starting', running: 'Running', failed: 'Failed', shutdown: 'Shutdown' }[t.state]
    return `${word} ${human(this.age(t.since))} ago`
  }

  /** @param {string} appName @returns {{kind: Kind, row: Record<string, any>} | undefined} */
  serviceByAppName(appName) {
    for (const kind of /** @type {Kind[]} */ (Object.keys(KINDS))) {
      const row = this.state.services[kind]?.find((r) => r.appName === appName)
      if (row) return { kind, row }
    }
    return undefined
  }
}

/** Docker's HumanDuration (go-units): whole units, rounded down. @param {number} ms */
export function human(ms) {
  const s = Math.floor(ms / 1000)
  if (s < 1) return 'Less than a second'
  if (s === 1) return '1 second'
  if (s < 60) return `${s} seconds`
  const m = Math.floor(s / 60)
  if (m === 1) return 'About a minute'
  if (m < 60) return `${m} minutes`
  const h = Math.floor(s / 3600 + 0.5)
  if (h === 1) return 'About an hour'
  if (h < 48) return `${h} hours`
  return `${Math.floor(h / 24)} days`
}
