/**
 * The action's own durations, in one table. The user's bounds (wait-timeout, request-timeout,
 * poll-interval) and what a server asks for (Retry-After) are not here: they are never scaled.
 */
export interface Timings {
  /** The first pause of a poll loop; later pauses grow by `pollBackoff` up to poll-interval. */
  firstPollMs: number
  pollBackoff: number
  /** With nothing new to say, a line this often, so a long wait does not look like a hang. */
  heartbeatMs: number
  /** Our job gone from the queue with no row to show for it, this long: the server lost it (restart). */
  lostAfterMs: number
  /** Given to a deploy whose answer was lost to reach the queue before the step looks for it. */
  lostAnswerSettleMs: number
  /** Slack for a proxy whose clock (its Date header) runs ahead of Dokploy's. */
  clockSlackMs: number
  /** Dokploy takes about 8 s to answer again after a restart: a shorter silence cannot hide one. */
  restartMinMs: number
  /** Full-jitter retry backoff of one request: base and cap. */
  retryBaseMs: number
  retryCapMs: number
  /** Retry pauses from this long on are said at info level; shorter ones only under debug. */
  visiblePauseMs: number
  /**
   * Status looks after one of Dokploy's last log lines (docs/dokploy-timing.md): the first soon after it (a
   * failed build's row and a compose stack's are marked right after the line), the second when an
   * application's Swarm service update has had its second, then every `endLookMs` for a few, then less often.
   */
  firstEndLookMs: number
  settleEndLookMs: number
  endLookMs: number
  quickEndLooks: number
  endLookBackoff: number
  /** With the live log quiet this long the status is read anyway: a socket can stall without closing. */
  quietLookMs: number
  /** A log socket whose close is never answered would keep the step running. */
  socketCloseGraceMs: number
  /**
   * The whole take-back of a queued deploy (a queue read, the clean, a check), when the runner cancels the
   * step: the runner kills it 7.5 s after SIGINT, and the outputs and summary must be written before that.
   */
  takeBackMs: number
  /** A failure tail read through the log socket: the whole file has come once it has been quiet this long. */
  socketTailQuietMs: number
  /**
   * After `done`, the new version must have run this long before the rollout counts as checked: Swarm's
   * update monitor (5 s by default, which Dokploy keeps) rolls back a task that fails within it.
   */
  rolloutSettleMs: number
  /** Past wait-timeout, for the reads that complete a report: the log tail, the domains. */
  reportGraceMs: number
  /** GitHub's answers: one request, and the wait for the last statuses at the end of the step. */
  githubRequestMs: number
  githubSettleMs: number
  githubSettleCancelledMs: number
}

export const TIMINGS: Readonly<Timings> = {
  firstPollMs: 1000,
  pollBackoff: 1.5,
  heartbeatMs: 30_000,
  lostAfterMs: 15_000,
  lostAnswerSettleMs: 2000,
  clockSlackMs: 2000,
  restartMinMs: 2000,
  retryBaseMs: 1000,
  retryCapMs: 10_000,
  visiblePauseMs: 3000,
  firstEndLookMs: 150,
  settleEndLookMs: 1000,
  endLookMs: 500,
  quickEndLooks: 5,
  endLookBackoff: 1.5,
  quietLookMs: 30_000,
  socketCloseGraceMs: 2000,
  takeBackMs: 3000,
  socketTailQuietMs: 500,
  rolloutSettleMs: 5000,
  reportGraceMs: 5000,
  githubRequestMs: 10_000,
  githubSettleMs: 15_000,
  githubSettleCancelledMs: 2000
}

/** What a time scale shortens: the pauses and windows a test must not wait out in full. Heartbeats, slack, counts and factors stay. */
const SCALED: readonly (keyof Timings)[] = [
  'firstPollMs',
  'lostAfterMs',
  'lostAnswerSettleMs',
  'restartMinMs',
  'retryBaseMs',
  'retryCapMs',
  'firstEndLookMs',
  'settleEndLookMs',
  'endLookMs',
  'quietLookMs',
  'socketCloseGraceMs',
  'takeBackMs',
  'socketTailQuietMs',
  'rolloutSettleMs',
  'githubRequestMs',
  'githubSettleMs',
  'githubSettleCancelledMs'
]

/** The table under a time scale in (0, 1]; 1 is the table itself. */
export function scaledTimings(scale: number): Timings {
  const timings: Timings = { ...TIMINGS }
  if (scale === 1) return timings
  for (const key of SCALED) timings[key] = Math.round(TIMINGS[key] * scale)
  return timings
}
