import { test } from '@jest/globals'

/**
 * Jest starts the concurrent tests of a describe block only once the block before it has ended, so a file of
 * five describe blocks waits through five batches, each as long as its slowest test. A `heading` groups tests
 * by name only: every `concurrent` test under it belongs to the file's root block, and all of them run at once
 * (up to the config's maxConcurrency). Tests that share state keep using describe and beforeEach.
 */
const headings: string[] = []

export function heading(name: string, body: () => void): void {
  headings.push(name)
  try {
    body()
  } finally {
    headings.pop()
  }
}

const titled = (name: string): string => [...headings, name].join(' › ')

type Concurrent = typeof test.concurrent
type Body = Parameters<Concurrent>[1]
type Each = (table: unknown) => (name: string, body: unknown, timeout?: number) => void

function underHeadings(base: Concurrent): Concurrent {
  const run = (name: string, body: Body, timeout?: number): void => base(titled(name), body, timeout)
  const each: Each = (table) => (name, body, timeout) => (base.each as unknown as Each)(table)(titled(name), body, timeout)
  const skip = (name: string, body: Body, timeout?: number): void => base.skip(titled(name), body, timeout)
  return Object.assign(run, base, { each, skip }) as unknown as Concurrent
}

/** test.concurrent, named after the headings it is declared under. */
export const concurrent: Concurrent = underHeadings(test.concurrent)

/**
 * A concurrent test that cancels the step with SIGINT, as a runner does: on Windows, Node cannot send a signal
 * the child can catch (child.kill ends it at once), so such a test runs on Linux and macOS only.
 */
export const concurrentWithSignals: Concurrent =
  process.platform === 'win32' ? underHeadings(test.concurrent.skip as unknown as Concurrent) : concurrent
