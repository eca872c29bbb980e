import { sleep, type Sleep } from './sleep.js'

/** The one clock of a run: what time it is, and an abortable pause. Tests give a fake one. */
export interface Clock {
  now: () => number
  sleep: Sleep
}

export const systemClock: Clock = { now: () => Date.now(), sleep }
