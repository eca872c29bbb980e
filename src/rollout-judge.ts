import type { ContainerRow, SwarmTask } from './dokploy/api.js'

/**
 * What one look at a service's tasks or containers says about its rollout. Pure: the reads and the
 * waiting are rollout-check.ts's. Every string here that came from the server is still raw: the caller
 * redacts it before it is shown.
 */
export type Verdict =
  /** Every unit runs (and is healthy where it has a health check); the youngest has run for `ageMs`. */
  | { kind: 'running'; ageMs: number; units: number }
  /** Not there yet: `why` in our words; `error` a failed unit's error, when one failed on the way. */
  | { kind: 'pending'; why: string; error?: string }
  /** Swarm runs the previous image again after the new one failed. */
  | { kind: 'rolled-back'; running: string; error: string }
  /**
   * A task of this rollout failed and Swarm runs a replacement of the same image: it went back to the previous
   * settings or restarted the new ones, which the tasks cannot tell apart. Not a proven rollout either way.
   */
  | { kind: 'replaced'; error: string }
  /** Dokploy listed nothing: it answers [] whenever it cannot reach Docker, so this proves nothing. */
  | { kind: 'blind' }

const UNITS: Record<string, number> = { second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 604_800_000, month: 2_592_000_000, year: 31_536_000_000 }

/**
 * Docker's human durations ("Less than a second", "12 seconds", "About a minute", "3 hours"…) as a lower
 * bound in ms (Docker rounds down); undefined when the text holds none.
 */
export function durationMs(text: string): number | undefined {
  if (/less than a second/i.test(text)) return 0
  const about = /about an? (minute|hour)/i.exec(text)
  if (about) return UNITS[about[1].toLowerCase()]
  const match = /(\d+) (second|minute|hour|day|week|month|year)s?/i.exec(text)
  return match ? Number(match[1]) * UNITS[match[2].toLowerCase()] : undefined
}

/** An image as Swarm may show it: no digest, no docker.io/ or library/, a tag (latest when none). */
export function normalizeImage(image: string): string {
  let name = image.trim().replace(/@sha256:[0-9a-f]+$/i, '')
  name = name.replace(/^(docker\.io|index\.docker\.io|registry-1\.docker\.io)\//, '').replace(/^library\//, '')
  const last = name.slice(name.lastIndexOf('/') + 1)
  return last.includes(':') ? name : `${name}:latest`
}

const state = (current: string): string => current.trim().split(/\s+/)[0]?.toLowerCase() ?? ''
const FAILED = new Set(['failed', 'rejected', 'orphaned'])
const RETIRED = new Set(['shutdown', 'complete', 'remove'])

export interface TaskExpectations {
  /** The image this deploy runs, when known (a docker image, a database's): a slot that runs another one has not moved on, or went back. */
  image?: string
  /** How long ago the step began (plus slack), in ms. */
  sinceStepMs: number
  /**
   * How long ago Dokploy marked it done (plus slack), in ms: a task that failed since, and after the slot's
   * previous task was shut down for the update, is this rollout's. (Failures of a previous version that
   * crash-looped until this deploy replaced it are older.) Default: sinceStepMs.
   */
  sinceDoneMs?: number
  /** Every deploy makes new tasks (an application's: Dokploy forces the update): a task older than the step is not the new version. */
  newTasks?: boolean
}

/**
 * Swarm tasks (`docker service ps`, history included). Each slot's tasks come newest first: the first is
 * what the slot runs now. A slot whose newest task is shut down was removed (scaled down) and is skipped.
 */
export function judgeTasks(tasks: SwarmTask[], expect: TaskExpectations): Verdict {
  if (tasks.length === 0) return { kind: 'blind' }
  const slots = new Map<string, SwarmTask[]>()
  for (const task of tasks) slots.set(task.name, [...(slots.get(task.name) ?? []), task])
  const wanted = expect.image === undefined ? undefined : normalizeImage(expect.image)
  const failed = (task: SwarmTask): boolean => FAILED.has(state(task.current))
  const recent = (task: SwarmTask): boolean => (durationMs(task.current) ?? 0) <= (expect.sinceDoneMs ?? expect.sinceStepMs)
  /** The slot's tasks newer than its newest shut-down one: those the update started. */
  const sinceUpdate = (list: SwarmTask[]): SwarmTask[] => {
    const retired = list.findIndex((task) => state(task.current) === 'shutdown' && task.desired !== 'running')
    return retired === -1 ? list : list.slice(0, retired)
  }
  let youngest = Infinity
  let running = 0
  let pending: { why: string; error?: string } | undefined
  let behind: { image: string; error?: string } | undefined
  let replaced: string | undefined
  for (const [, list] of slots) {
    const [head, ...older] = list
    const now = state(head.current)
    if (head.desired !== 'running' && RETIRED.has(now)) continue
    const failure = sinceUpdate(list).find((task) => failed(task) && recent(task))
    const error = failure && (failure.error || failure.current)
    if (now !== 'running' || head.desired !== 'running') {
      const why = failed(head) ? 'its new task failed; Swarm is replacing it' : now === 'starting' ? 'the new task is starting (its health check, if it has one, has not passed yet)' : `the new task is ${now || 'not started'}`
      pending ??= { why, error }
      continue
    }
    if (expect.newTasks && (durationMs(head.current) ?? 0) > expect.sinceStepMs) {
      pending ??= { why: 'Swarm still runs the task from before this deploy', error }
      continue
    }
    if (wanted && normalizeImage(head.image) !== wanted) {
      const tried = older.find((task) => failed(task) && normalizeImage(task.image) === wanted)
      behind ??= { image: head.image, error: tried && (tried.error || tried.current) }
      continue
    }
    if (error !== undefined) {
      replaced ??= error
      continue
    }
    running++
    youngest = Math.min(youngest, durationMs(head.current) ?? 0)
  }
  if (pending) return { kind: 'pending', ...pending }
  // every slot runs another image after the new one failed: Swarm went back
  if (behind?.error !== undefined) return { kind: 'rolled-back', running: behind.image, error: behind.error }
  if (behind) return { kind: 'pending', why: `Swarm still runs ${behind.image}` }
  if (replaced !== undefined) return { kind: 'replaced', error: replaced }
  if (running === 0) return { kind: 'pending', why: 'no task is running' }
  return { kind: 'running', ageMs: youngest, units: running }
}

/**
 * A compose project's containers (`docker ps -a`, by the project's label). Each must run, and be healthy
 * where it has a health check; one that exited 0 is a one-off job and is skipped.
 */
export function judgeContainers(containers: ContainerRow[]): Verdict {
  if (containers.length === 0) return { kind: 'blind' }
  let youngest = Infinity
  let running = 0
  for (const container of containers) {
    const { status } = container
    if (container.state === 'exited' && /^exited \(0\)/i.test(status)) continue
    if (container.state !== 'running') {
      return { kind: 'pending', why: `a container is ${container.state || 'not running'}`, error: /^(exited|restarting|dead)/i.test(status) ? status : undefined }
    }
    if (/\(health: starting\)/i.test(status)) return { kind: 'pending', why: 'a container is waiting for its health check' }
    if (/\(unhealthy\)/i.test(status)) return { kind: 'pending', why: 'a container is unhealthy', error: status }
    running++
    youngest = Math.min(youngest, durationMs(status) ?? 0)
  }
  if (running === 0) return { kind: 'pending', why: 'no container is running' }
  return { kind: 'running', ageMs: youngest, units: running }
}

/** A stack's tasks with desired state running (Dokploy lists no others): each must run. */
export function judgeStackTasks(tasks: ContainerRow[]): Verdict {
  if (tasks.length === 0) return { kind: 'blind' }
  let youngest = Infinity
  for (const task of tasks) {
    if (task.state !== 'running') {
      const failed = FAILED.has(task.state)
      return { kind: 'pending', why: failed ? 'a task failed; Swarm is replacing it' : `a task is ${task.state || 'not started'}`, error: failed ? task.status : undefined }
    }
    youngest = Math.min(youngest, durationMs(task.status) ?? 0)
  }
  return { kind: 'running', ageMs: youngest, units: tasks.length }
}
