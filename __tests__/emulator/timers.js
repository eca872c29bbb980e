// One registry for every timer the emulator starts, so close() can clear them all and jest exits cleanly.
// It is also the emulator's clock of durations: every duration it is given (builds, database deploys, lags,
// restarts) is simulated time, run `scale` times as long in real time (1: real time; 0.2: five times as fast).

export class Timers {
  /** @param {number} [scale] */
  constructor(scale = 1) {
    if (!(scale > 0)) throw new Error(`time scale must be a positive number, got ${scale}`)
    this.scale = scale
    /** @type {Set<ReturnType<typeof setTimeout>>} */
    this.pending = new Set()
    this.closed = false
  }

  /**
   * Real milliseconds of a simulated duration.
   * @param {number} ms
   */
  real(ms) {
    return Math.max(0, ms) * this.scale
  }

  /**
   * Run `fn` after `ms` of simulated time; does nothing once closed. Timers are unref'd: the HTTP server is what keeps a process alive.
   * @param {() => void} fn
   * @param {number} ms
   * @returns {ReturnType<typeof setTimeout> | undefined}
   */
  set(fn, ms) {
    return this.start(fn, this.real(ms))
  }

  /**
   * Run `fn` at a moment of the real clock (epoch ms), such as one computed with `real()`.
   * @param {() => void} fn
   * @param {number} epochMs
   */
  at(fn, epochMs) {
    return this.start(fn, epochMs - Date.now())
  }

  /** @param {() => void} fn @param {number} realMs */
  start(fn, realMs) {
    if (this.closed) return undefined
    const t = setTimeout(() => {
      this.pending.delete(t)
      fn()
    }, Math.max(0, realMs))
    t.unref?.()
    this.pending.add(t)
    return t
  }

  /** @param {ReturnType<typeof setTimeout> | undefined} t */
  cancel(t) {
    if (t === undefined) return
    clearTimeout(t)
    this.pending.delete(t)
  }

  /**
   * Resolve after `ms` of simulated time. After close() the promise never settles (its request is gone with its socket).
   * @param {number} ms
   * @returns {Promise<void>}
   */
  sleep(ms) {
    return new Promise((resolve) => {
      this.set(resolve, ms)
    })
  }

  /**
   * Resolve after `ms` of real time (a fault on the wire, which the action measures against its real
   * request-timeout); never settles after close(), as sleep().
   * @param {number} ms
   * @returns {Promise<void>}
   */
  sleepReal(ms) {
    return new Promise((resolve) => {
      this.start(resolve, ms)
    })
  }

  close() {
    this.closed = true
    for (const t of this.pending) clearTimeout(t)
    this.pending.clear()
  }
}
