/** Capped, full-jitter exponential backoff (the delay for attempt n is random in [0, min(cap, base·2ⁿ)]). */
export interface Backoff {
  baseMs: number
  capMs: number
  random?: () => number
}

export function backoffDelay(attempt: number, backoff: Backoff): number {
  const ceiling = Math.min(backoff.capMs, backoff.baseMs * 2 ** attempt)
  return Math.round((backoff.random ?? Math.random)() * ceiling)
}

/** Retry-After is seconds or an HTTP date; capped so a proxy cannot park the step. */
export function parseRetryAfter(header: string | null, now: number, capMs = 60_000): number | undefined {
  if (!header) return undefined
  const seconds = Number(header)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - now
  return Number.isFinite(ms) ? Math.min(Math.max(0, ms), capMs) : undefined
}
