import { describe, expect, it } from '@jest/globals'
import { backoffDelay, parseRetryAfter } from '../../src/retry.js'

const STANDARD = { baseMs: 1000, capMs: 10_000 }

describe('backoffDelay', () => {
  it('doubles the ceiling with each attempt (full jitter: random · ceiling)', () => {
    const top = { baseMs: 1000, capMs: 60_000, random: () => 1 }
    expect([0, 1, 2, 3].map((n) => backoffDelay(n, top))).toEqual([1000, 2000, 4000, 8000])
  })

  it('never exceeds the cap', () => {
    expect(backoffDelay(20, { baseMs: 1000, capMs: 10_000, random: () => 1 })).toBe(10_000)
    expect(backoffDelay(5, { ...STANDARD, random: () => 1 })).toBe(STANDARD.capMs)
  })

  it('scales by the random factor and rounds to whole milliseconds', () => {
    expect(backoffDelay(1, { baseMs: 1000, capMs: 10_000, random: () => 0.5 })).toBe(1000)
    expect(backoffDelay(0, { baseMs: 3, capMs: 10, random: () => 0.5 })).toBe(2)
    expect(backoffDelay(3, { baseMs: 1000, capMs: 10_000, random: () => 0 })).toBe(0)
  })

  it('uses Math.random by default and stays within [0, ceiling]', () => {
    for (let i = 0; i < 50; i++) {
      const delay = backoffDelay(2, STANDARD)
      expect(delay).toBeGreaterThanOrEqual(0)
      expect(delay).toBeLessThanOrEqual(4000)
    }
  })
})

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-08-20T10:00:00Z')

  it('reads delta-seconds', () => {
    expect(parseRetryAfter('5', now)).toBe(5000)
    expect(parseRetryAfter('0', now)).toBe(0)
    expect(parseRetryAfter('1.5', now)).toBe(1500)
  })

  it('reads an HTTP date relative to now', () => {
    expect(parseRetryAfter('Thu, 20 Aug 2026 10:00:30 GMT', now)).toBe(30_000)
  })

  it('treats a date in the past or a negative number as no wait', () => {
    expect(parseRetryAfter('Thu, 20 Aug 2026 09:59:00 GMT', now)).toBe(0)
    expect(parseRetryAfter('-10', now)).toBe(0)
  })

  it('caps the wait so a proxy cannot park the step', () => {
    expect(parseRetryAfter('3600', now)).toBe(60_000)
    expect(parseRetryAfter('3600', now, 5000)).toBe(5000)
    expect(parseRetryAfter('Fri, 21 Aug 2026 10:00:00 GMT', now)).toBe(60_000)
  })

  it('returns undefined for a missing or unreadable header', () => {
    expect(parseRetryAfter(null, now)).toBeUndefined()
    expect(parseRetryAfter('', now)).toBeUndefined()
    expect(parseRetryAfter('soon', now)).toBeUndefined()
  })
})
