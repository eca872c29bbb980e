/**
 * Test-only knob: DOKPLOY_ACTION_TIME_SCALE (a number in (0, 1]) shortens the action's own pauses and
 * windows (the first poll and its backoff, the retry backoff, the settle pause after a lost answer, the
 * lost-after window, the silence long enough to hide a restart, the live log's looks at the status and
 * its wait for a socket to close, the bounds on GitHub's answers), so the end-to-end tests can run it
 * against an emulator (and a fake GitHub) whose builds, restarts and delays are shortened by the same
 * factor. Unset, as on every runner, it is 1 and nothing changes. It never touches what the user sets
 * (wait-timeout, request-timeout, poll-interval) nor what a server asks (Retry-After).
 */
const VARIABLE = 'DOKPLOY_ACTION_TIME_SCALE'

function scaleFromEnv(): number {
  const value = Number(process.env[VARIABLE])
  return value > 0 && value <= 1 ? value : 1
}

export const TIME_SCALE = scaleFromEnv()

/** One of the action's own durations, in ms, under the test time scale. */
export const scaled = (ms: number): number => Math.round(ms * TIME_SCALE)
