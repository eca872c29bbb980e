// One registry for every timer the emulator starts, so close() can clear them all and jest exits cleanly.

export class Timers {
  constructor() {
    /** @type {Set<ReturnType<typeof setTimeout>>} */
    this.pending = new Set()
    this.closed = false
  }

  /**
   * Run `fn` after `ms`; does nothing once closed. Timers are unref'd: the HTTP server is what keeps a process alive.
   * @param {() => void} fn
   * @param {number} ms
   * @returns {ReturnType<typeof setTimeout> | undefined}
   */
  set(fn, ms) {
    if (this.closed) return undefined
    const t = setTimeout(() => {
      this.pending.delete(t)
      fn()
    }, Math.max(0, ms))
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
   * Resolve after `ms`. After close() the promise never settles (its request is gone with its socket).
   * @param {number} ms
   * @returns {Promise<void>}
   */
  sleep(ms) {
    return new Promise((resolve) => {
      this.set(resolve, ms)
    })
  }

  close() {
    this.closed = true
    for (const t of this.pending) clearTimeout(t)
    this.pending.clear()
  }
}
