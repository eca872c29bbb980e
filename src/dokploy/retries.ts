import { DokployError, isRetryable } from './errors.js'
import { backoffDelay, type Backoff } from '../retry.js'
import { formatDuration } from '../logger.js'
import type { Sleep } from '../sleep.js'
import { phrase } from './wording.js'

/**
 * One call, retried while its failure is transient and the call is safe to repeat (a query always; a
 * mutation only when it certainly never reached Dokploy), with full-jitter backoff that honours
 * Retry-After, and never waiting past what is left of the step.
 */
export interface RetryPolicy {
  retries: number
  backoff: Backoff
  sleep: Sleep
  signal?: AbortSignal
  /** Retry pauses from this long on are said at info level. */
  visiblePauseMs: number
  debug?: (line: string) => void
  info?: (line: string) => void
}

export async function withRetries<T>(
  procedure: string,
  kind: 'query' | 'mutation',
  policy: RetryPolicy,
  remainingMs: () => number,
  attempt: () => Promise<T>
): Promise<T> {
  for (let n = 0; ; n++) {
    try {
      return await attempt()
    } catch (error) {
      if (!(error instanceof DokployError) || !isRetryable(error, kind) || n >= policy.retries) throw error
      const delay = Math.max(error.retryAfterMs ?? 0, backoffDelay(n, policy.backoff))
      if (remainingMs() <= delay) throw error
      announce(procedure, error, delay, n + 1, policy)
      await policy.sleep(delay, policy.signal)
    }
  }
}

/** A pause of 60 s with nothing printed looks like a hang: a long one is said at info level. */
function announce(procedure: string, error: DokployError, delayMs: number, retry: number, policy: RetryPolicy): void {
  policy.debug?.(`${procedure}: ${error.failure}, retry ${retry}/${policy.retries} in ${delayMs} ms`)
  if (delayMs < policy.visiblePauseMs) return
  const asked = error.retryAfterMs !== undefined && error.retryAfterMs >= delayMs
  policy.info?.(`${phrase(procedure, error.failure, error.status)}; waiting ${formatDuration(delayMs)}${asked ? ' as it asks' : ''} (retry ${retry}/${policy.retries}).`)
}
