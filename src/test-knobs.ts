import { scaledTimings, type Timings } from './timings.js'

/**
 * Settings for the end-to-end tests only, read from the environment here and nowhere else; unset, as on
 * every runner, they change nothing.
 * - DOKPLOY_ACTION_TIME_SCALE, a number in (0, 1]: shortens the action's own pauses (timings.ts), so the
 *   tests can run it against an emulator whose builds and delays are shortened by the same factor.
 * - DOKPLOY_ACTION_MAX_BODY_BYTES: a lower cap on a reply's body, to test the cap without 32 MB replies.
 */
export interface TestKnobs {
  timings: Timings
  maxBodyBytes?: number
}

export function readTestKnobs(env: NodeJS.ProcessEnv): TestKnobs {
  const scale = Number(env.DOKPLOY_ACTION_TIME_SCALE)
  const maxBody = Number(env.DOKPLOY_ACTION_MAX_BODY_BYTES)
  return {
    timings: scaledTimings(scale > 0 && scale <= 1 ? scale : 1),
    maxBodyBytes: Number.isInteger(maxBody) && maxBody > 0 ? maxBody : undefined
  }
}
