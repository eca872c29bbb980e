import type { Operation, Resource } from './operations.js'

/** What the run learned, filled in as it goes, so a failure or a cancellation still reports it. */
export interface Outcome {
  resource: Resource
  operation: Operation
  /** done, error, cancelled, timeout, lost, queued, idle, cancelled-by-runner or failed. */
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
}

export const newOutcome = (resource: Resource, operation: Operation, startedAt = Date.now()): Outcome => ({
  resource,
  operation,
  status: 'failed',
  ok: false,
  startedAt
})
