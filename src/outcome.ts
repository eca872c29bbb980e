import type { Operation, Resource } from './operations.js'

/** What the run learned, filled in as it goes, so a failure or a cancellation still reports it. */
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
  matchedBy?: string
  buildMs?: number
  /** Why it failed, in our words. */
  message?: string
  /** Dokploy's own errorMessage for a failed deployment. */
  errorMessage?: string
  logTail?: string
  dashboardUrl?: string
  /** The service's public URL, when it has a domain and it was read. */
  url?: string
  /** Set when the step failed before it had a target: resource and operation as the user wrote them. */
  asWritten?: { resource: string; operation: string }
}

/** Every value of the `status` output (action.yml and the README list them). */
export const STATUSES = ['done', 'error', 'cancelled', 'timeout', 'lost', 'unknown', 'queued', 'idle', 'cancelled-by-runner', 'failed'] as const

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

export const newOutcome = (resource: Resource, operation: Operation, startedAt = Date.now()): Outcome => ({
  resource,
  operation,
  status: 'failed',
  ok: false,
  startedAt
})
