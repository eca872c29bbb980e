import type { Operation, Resource } from './operations.js'
import type { DeploymentRow, ServiceDetails } from './dokploy/api.js'
import { DokployError } from './dokploy/errors.js'
import type { Identified } from './correlate.js'
import type { WaitResult } from './follow-row.js'
import { InputError } from './inputs.js'
import { LookupError } from './lookup.js'
import type { TakeBack } from './take-back.js'
import type { Target } from './target.js'
import type { RolloutResult } from './rollout-check.js'

/** What the run learned of one target, filled in as it goes, so a failure or a cancellation still reports it. */
export interface Outcome {
  resource: Resource
  operation: Operation
  /** One of STATUSES. */
  status: string
  ok: boolean
  startedAt: number
  endedAt?: number
  resourceId?: string
  name?: string
  projectId?: string
  environmentId?: string
  environmentName?: string
  deploymentId?: string
  /** When the followed deployment ended, by the server's clock. */
  finishedAt?: string | null
  matchedBy?: string
  /** From enqueue to the start of its build, by Dokploy's clock. */
  queuedMs?: number
  buildMs?: number
  /** Why it failed, in our words. */
  message?: string
  /** Dokploy's own errorMessage for a failed deployment. */
  errorMessage?: string
  logTail?: string
  /** What became of the step's queued deploy when the step was cancelled or timed out (cancel-queued). */
  queueNote?: string
  /** That deploy was taken back out of Dokploy's queue: nothing of the step is left to build. */
  takenBack?: boolean
  dashboardUrl?: string
  /** The service's public URL, when it has a domain and it was read. */
  url?: string
  /** After a failed rollout check: the running container's log, and what it is (after a rollback, the previous version's). */
  runtimeLog?: { label: string; text: string }
  /** The deployment a rollback restored (operation rollback, or on-failure: rollback). */
  rolledBackTo?: string
  /** After `done`: whether the new version was seen running (checked), or why that was not checked. */
  rollout?: { checked: true; detail: string } | { checked: false; why: string }
  /** Set when the step failed before it had a target: resource and operation as the user wrote them. */
  asWritten?: { resource: string; operation: string }
}

/** Every value of the `status` output (action.yml and the README list them). */
export const STATUSES = ['done', 'error', 'cancelled', 'timeout', 'lost', 'unknown', 'not-found', 'queued', 'idle', 'cancelled-by-runner', 'failed', 'rolled-back', 'unhealthy'] as const

/**
 * Dokploy may have acted on the request, and nothing the step can read proves whether or how: status
 * `unknown`. Re-running the step would repeat the operation, so the message says what to check instead.
 */
export class UnknownOutcome extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'UnknownOutcome'
  }
}

export const newOutcome = (resource: Resource, operation: Operation, startedAt: number, asWritten?: Outcome['asWritten']): Outcome => ({
  resource,
  operation,
  status: 'failed',
  ok: false,
  startedAt,
  ...(asWritten ? { asWritten } : {})
})

/** Who hears of a target's progress besides its outcome (the GitHub deployment). */
export interface ProgressListener {
  accepted: () => void
  building: () => void
  ended: (outcome: Outcome) => void
}

/** Where a service lives. */
export interface Place {
  projectId?: string
  environmentId?: string
  environmentName?: string
}

/**
 * The one writer of a target's outcome. The phases of a step (send, identify, follow) return results and
 * the layers above hand them here; each is recorded at once, so a failure or a cancellation that comes
 * later still reports what was learned.
 */
export class Recorder {
  private listener?: ProgressListener

  constructor(readonly outcome: Outcome) {}

  /** Who else hears of the progress (set once, before the target runs). */
  listen(listener: ProgressListener | undefined): void {
    this.listener = listener
  }

  /** The target as resolved: its id, and its name and place when a lookup brought them. */
  target(target: Target): void {
    const { outcome } = this
    outcome.resourceId = target.id
    outcome.name = target.name
    this.place(target)
  }

  /** What the service's `.one` told, where nothing better is known. */
  service(details: ServiceDetails | undefined): void {
    if (!details) return
    this.outcome.name ??= details.name
    this.place(details)
  }

  /** Where the service lives, where not known yet. */
  place(place: Place | undefined): void {
    if (!place?.projectId) return
    const { outcome } = this
    if (outcome.projectId && outcome.projectId !== place.projectId) return
    outcome.projectId ??= place.projectId
    outcome.environmentId ??= place.environmentId
    outcome.environmentName ??= place.environmentName
  }

  /** Dokploy took the operation (a deploy is queued, a database deploy is under way). */
  accepted(): void {
    this.listener?.accepted()
  }

  /** The step's own build runs (a database deploy: its request is open). */
  building(): void {
    this.listener?.building()
  }

  /** Queued with wait: false: the step's part is done. */
  queued(): void {
    this.outcome.status = 'queued'
    this.outcome.ok = true
  }

  /**
   * The step's own deployment row is proven: recorded before anything else is awaited. `enqueuedAt`, when
   * its queue job was seen, is when Dokploy queued it (Dokploy's clock, like the row's start).
   */
  identified(found: Identified, enqueuedAt?: number): void {
    this.outcome.deploymentId = found.row.deploymentId
    this.outcome.matchedBy = found.by
    const queued = Date.parse(found.row.startedAt ?? found.row.createdAt ?? '') - (enqueuedAt ?? NaN)
    if (Number.isFinite(queued)) this.outcome.queuedMs = Math.max(0, queued)
    this.listener?.building()
  }

  /** The followed deployment's end; `tail` the end of its build log when it did not succeed. */
  followed(result: WaitResult, tail?: string): void {
    const { outcome } = this
    outcome.status = result.status
    outcome.ok = result.status === 'done'
    if (result.row) outcome.deploymentId = result.row.deploymentId
    outcome.finishedAt = result.row?.finishedAt
    outcome.buildMs = result.row && buildMs(result.row)
    outcome.errorMessage = result.row?.errorMessage ?? undefined
    if (!outcome.ok) outcome.message = withNote(result.detail, outcome.queueNote)
    outcome.logTail = tail
  }

  /** What the step did about its queued deploy when `cause` ended its wait (one sentence, added to the message). */
  tookBack(cause: string, takeBack: TakeBack): void {
    this.outcome.queueNote = `When ${cause}, ${takeBack.says}.`
    this.outcome.takenBack = takeBack.removed
  }

  /** A synchronous operation's end: the status Dokploy reports (or answered with). */
  answered(status: string, ok: boolean, message?: string): void {
    this.outcome.status = status
    this.outcome.ok = ok
    if (!ok) this.outcome.message = message
  }

  /**
   * The rollout check after `done`: confirmed, not checked (the status stays Dokploy's `done`, with a note
   * saying why), or failed (`rolled-back`, `unhealthy`).
   */
  rollout(result: RolloutResult): void {
    const { outcome } = this
    if (result.status === 'done') outcome.rollout = { checked: true, detail: result.detail }
    else if (result.status === 'unchecked') outcome.rollout = { checked: false, why: result.why }
    else {
      outcome.status = result.status
      outcome.ok = false
      outcome.message = result.message
    }
  }

  /** A rollback restored this deployment; `note` says how it went when it followed a failure (the status stands). */
  rolledBack(deploymentId: string, note?: string): void {
    this.outcome.rolledBackTo = deploymentId
    if (note) this.outcome.message = `${this.outcome.message ?? ''} ${note}`.trim()
  }

  /** The running container's log after a failed rollout check, with what it shows. */
  runtime(label: string, text: string): void {
    if (text.trim()) this.outcome.runtimeLog = { label, text }
  }

  /** on-failure: rollback could not roll back: why, after the failure's own message. */
  noRollback(note: string): void {
    this.outcome.message = `${this.outcome.message ?? ''} ${note}`.trim()
  }

  /** What an error that ended the target (or the step, before any target) means for its outcome. */
  failed(error: unknown, cancelled: boolean, pastDeadline: boolean): void {
    const { outcome } = this
    outcome.ok = false
    if (cancelled) {
      outcome.status = 'cancelled-by-runner'
      outcome.message = outcome.takenBack
        ? withNote('The job was cancelled while the action waited: nothing of this step is left to build.', outcome.queueNote)
        : withNote('The job was cancelled while the action waited: the outcome is unknown (Dokploy goes on with the operation).', outcome.queueNote)
    } else if (error instanceof UnknownOutcome) {
      outcome.status = 'unknown'
      outcome.message = error.message
    } else if (error instanceof InputError || error instanceof LookupError || error instanceof DokployError) {
      outcome.message = error.message
      if (error instanceof DokployError && error.failure === 'timeout' && pastDeadline) {
        outcome.status = 'timeout'
        // the request was still open: Dokploy was still at work, nothing says it failed
        outcome.message = `${error.message} It was still running when the step stopped waiting; Dokploy may still finish it.`
      }
    } else {
      outcome.message = `Unexpected error: ${error instanceof Error ? error.message : String(error)}`
    }
  }

  /**
   * The service's secrets could not be learned, so no server text of it is shown: not its build log, not
   * Dokploy's error text. The status stands; the message says why and where to read the log.
   */
  withheld(why: string, error: unknown): void {
    const { outcome } = this
    const hadLog = !!outcome.logTail || !!outcome.errorMessage || !!outcome.runtimeLog
    outcome.logTail = undefined
    outcome.errorMessage = undefined
    outcome.runtimeLog = undefined
    if (error instanceof DokployError && error.failure === 'server-error') {
      outcome.message = `Dokploy failed on the ${outcome.operation} of this ${outcome.resource}${error.status ? ` (HTTP ${error.status})` : ''}; its error text is not shown: ${why}. Dokploy's dashboard has it.`
    } else if (hadLog) {
      outcome.message = `${outcome.message ?? `Dokploy ${outcome.operation} ended ${outcome.status}.`} The build log is not shown: ${why}. Read it in Dokploy's dashboard.`
    }
  }

  /** The target's part of the step is over. */
  ended(at: number): void {
    this.outcome.endedAt = at
  }

  /** The URL the deployment is served at, when the step knows it better than the service's domains (a preview's). */
  served(url: string | undefined): void {
    if (url) this.outcome.url = url
  }

  /** The links the report shows. */
  links(dashboardUrl: string, url?: string): void {
    this.outcome.dashboardUrl = dashboardUrl
    if (url !== undefined) this.outcome.url = url
  }

  /** Every listener hears the end once the outcome is complete. */
  done(): void {
    this.listener?.ended(this.outcome)
  }
}

const withNote = (message: string, note: string | undefined): string => (note ? `${message} ${note}` : message)

/**
 * Build time by the server's own clock (startedAt and finishedAt, v0.22+), never mixed with ours. Here
 * rather than in follow-row.ts, so that a step that fails on its inputs loads no follower.
 */
export function buildMs(row: DeploymentRow): number | undefined {
  const ms = Date.parse(row.finishedAt ?? '') - Date.parse(row.startedAt ?? row.createdAt ?? '')
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}
