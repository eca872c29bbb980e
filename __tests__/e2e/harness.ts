import { spawn, type ChildProcess } from 'node:child_process'
import { test } from '@jest/globals'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { EOL, tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { SECRET_MARKERS } from '../emulator/state.js'
import { setDefaultSeenBuilds, setDefaultTimeScale, startEmulator, type EmulatorOptions } from '../emulator/server.js'
import { findNode24, missingNode24 } from '../../scripts/node24.js'

/**
 * Runs the built action exactly as a runner does: `node24 dist/index.js` with INPUT_* variables
 * (hyphens kept), GITHUB_OUTPUT and GITHUB_STEP_SUMMARY files, and the exit code as the verdict.
 * Every run is made with debug logging on and scanned for the emulator's secret markers.
 */
const node24 = findNode24()
if (!node24) throw new Error(missingNode24())
export const NODE24: string = node24
export const ACTION = resolve('dist/index.js')
const COMPILE_CACHE = join(tmpdir(), 'dokploy-action-e2e-compile-cache')

/**
 * One simulated second lasts TIME_SCALE real seconds: the emulator's builds, lags and restarts (in every
 * emulator a test starts) and the action's own pauses (DOKPLOY_ACTION_TIME_SCALE) shrink together,
 * so every race keeps its order while no test waits real seconds for a simulated build. Inputs such as
 * wait-timeout and request-timeout, faults on the wire and Retry-After stay real.
 * DOKPLOY_TEST_TIME_SCALE=1 runs the suite at real speed.
 */
export const TIME_SCALE = timeScaleFromEnv()
setDefaultTimeScale(TIME_SCALE)

/**
 * A real build outlasts the step's first look at it by far; a build of a few simulated hundred ms, while the
 * machine is busy, need not: the step's first look could come after it ended, and its outcome would then be
 * unprovable. So no build of an emulator a test starts reaches its end before the step was shown it (its
 * job in a queue listing or its row in a deployment list). A test that stages a build ending unseen says so
 * with `seenBuilds: false`.
 */
setDefaultSeenBuilds(true)

function timeScaleFromEnv(): number {
  const variable = process.env.DOKPLOY_TEST_TIME_SCALE
  if (variable === undefined || variable === '') return 0.2
  const scale = Number(variable)
  if (!(scale > 0 && scale <= 1)) throw new Error(`DOKPLOY_TEST_TIME_SCALE is "${variable}": expected a number in (0, 1]`)
  return scale
}

/**
 * A test that cancels the step with SIGINT, as a runner does: on Windows, Node cannot send a signal the
 * child can catch (child.kill ends it at once), so such a test runs on Linux and macOS only.
 */
export const testWithSignals = process.platform === 'win32' ? test.skip : test

export type Emulator = Awaited<ReturnType<typeof startEmulator>>

/**
 * Emulators for tests that run concurrently (test.concurrent, whose tests get no beforeEach/afterEach):
 * `start` gives each test one of its own, and `closeAll` (the file's afterAll) closes every one started.
 */
export function emulators(defaults: EmulatorOptions = {}): { start: (options?: EmulatorOptions) => Promise<Emulator>; closeAll: () => Promise<void> } {
  const started = new Set<Emulator>()
  return {
    start: async (options = {}) => {
      const emu = await startEmulator({ ...defaults, ...options })
      started.add(emu)
      return emu
    },
    closeAll: async () => {
      await Promise.all([...started].map((emu) => emu.close()))
      started.clear()
    }
  }
}

/**
 * A run's stdout as it comes (pass `onStdout` to runAction): what was printed so far, when a text was first
 * printed, and a promise for a text to be printed. How a test makes the emulator wait for the step (a build
 * that goes on only once the step has printed its last line) instead of racing it on the clock.
 */
export class StdoutWatch {
  text = ''
  private readonly firstAt = new Map<string, number>()
  private waiting: { needle: string; resolve: () => void }[] = []

  /** Where the line not yet ended starts. */
  private lineStart = 0

  readonly onStdout = (chunk: string): void => {
    this.text += chunk
    const now = Date.now()
    const end = this.text.lastIndexOf('\n')
    if (end >= this.lineStart) {
      for (const line of this.text.slice(this.lineStart, end).split('\n')) if (!this.firstAt.has(line)) this.firstAt.set(line, now)
      this.lineStart = end + 1
    }
    this.waiting = this.waiting.filter((w) => {
      if (!this.text.includes(w.needle)) return true
      w.resolve()
      return false
    })
  }

  /** Resolves once `needle` was printed (at once if it already was). */
  printed(needle: string): Promise<void> {
    if (this.text.includes(needle)) return Promise.resolve()
    return new Promise((resolve) => this.waiting.push({ needle, resolve }))
  }

  /** When the whole line `line` was first printed (epoch ms), if it was. */
  lineAt(line: string): number | undefined {
    return this.firstAt.get(line)
  }
}

/** Resolves once the step has opened its live-log socket and the emulator has sent the log so far on it. */
export const logSocketOpened = (emu: Emulator): Promise<void> =>
  new Promise((resolve) => {
    emu.hook({ procedure: 'listen-deployment', when: 'after', run: () => resolve() })
  })

/**
 * A holdBefore that holds each build's end until the step has been shown its row running (an answer to the
 * step's deployment.all or allByCompose for that service listed it): the step sees every build running, however slowly it runs.
 */
export function endOnceShown(emu: Emulator): (event: string, job: unknown, row: { deploymentId: string } | undefined) => Promise<void> | undefined {
  const shown = new Set<string>()
  for (const procedure of ['deployment.all', 'deployment.allByCompose']) {
    emu.hook({
      procedure,
      when: 'after',
      times: Infinity,
      run: (request) => {
        const input = (request?.input ?? {}) as Record<string, unknown>
        const service = input.applicationId ?? input.composeId
        for (const row of emu.deployments) if (row.status === 'running' && (row.applicationId ?? row.composeId) === service) shown.add(row.deploymentId)
      }
    })
  }
  return (event, _job, row) => (event === 'end' && row ? emu.until(() => shown.has(row.deploymentId), 20_000) : undefined)
}

/** A holdBefore that holds each build's end until the step has opened a live-log socket on that build's log. */
export function endOnceStreaming(emu: Emulator): (event: string, job: unknown, row: { logPath: string } | undefined) => Promise<void> | undefined {
  return (event, _job, row) =>
    event === 'end' && row
      ? emu.until(() => emu.requests.some((r) => r.api === 'websocket' && r.status === 101 && (r.input as { logPath?: string }).logPath === row.logPath), 20_000)
      : undefined
}

/** The runner's files and stdout end lines with the OS's EOL (\r\n on Windows): tests read them with \n. */
const unixLines = (text: string): string => (EOL === '\n' ? text : text.split(EOL).join('\n'))

export interface ActionRun {
  code: number | null
  stdout: string
  stderr: string
  outputs: Record<string, string>
  summary: string
  ms: number
}

export interface RunOptions {
  env?: Record<string, string>
  debug?: boolean
  /** Called with each stdout chunk: lets a test cancel the step (SIGINT) at the right moment. */
  onStdout?: (chunk: string, child: ChildProcess) => void
  /** Hard stop for a run that never ends; the test then fails on the exit code. */
  killAfterMs?: number
}

const GITHUB_ENV = {
  GITHUB_SHA: '1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d',
  GITHUB_WORKFLOW: 'Deploy',
  GITHUB_RUN_NUMBER: '42',
  GITHUB_RUN_ID: '9000001',
  GITHUB_RUN_ATTEMPT: '1',
  GITHUB_REPOSITORY: 'acme/shop',
  GITHUB_SERVER_URL: 'https://github.com'
}

/** The name a runner gives an input's variable: upper case, spaces to underscores, hyphens kept. */
export const inputVariable = (name: string): string => `INPUT_${name.replace(/ /g, '_').toUpperCase()}`

export function parseOutputFile(text: string): Record<string, string> {
  const outputs: Record<string, string> = {}
  const lines = text.split(/\r?\n/)
  for (let i = 0; i < lines.length; i++) {
    const heredoc = /^([^=<]+)<<(.+)$/.exec(lines[i])
    if (heredoc) {
      const [, name, delimiter] = heredoc
      const value: string[] = []
      while (++i < lines.length && lines[i] !== delimiter) value.push(lines[i])
      outputs[name] = value.join('\n')
    } else if (lines[i].includes('=')) {
      const at = lines[i].indexOf('=')
      outputs[lines[i].slice(0, at)] = lines[i].slice(at + 1)
    }
  }
  return outputs
}

export async function runAction(inputs: Record<string, string>, options: RunOptions = {}): Promise<ActionRun> {
  const dir = mkdtempSync(join(tmpdir(), 'dokploy-action-e2e-'))
  const outputFile = join(dir, 'output')
  const summaryFile = join(dir, 'summary')
  writeFileSync(outputFile, '')
  writeFileSync(summaryFile, '')
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin',
    HOME: dir,
    // Windows programs need SystemRoot (sockets, crypto) even in a minimal environment
    ...(process.env.SystemRoot ? { SystemRoot: process.env.SystemRoot } : {}),
    DOKPLOY_ACTION_TIME_SCALE: String(TIME_SCALE),
    // V8's compiled code for dist/, kept on disk across the suite's runs of it: the action behaves the same,
    // and each of the suite's hundreds of runs skips compiling the bundle again (Node checks the cache
    // against the file's content, so a rebuilt dist/ is compiled afresh)
    NODE_COMPILE_CACHE: COMPILE_CACHE,
    GITHUB_OUTPUT: outputFile,
    GITHUB_STEP_SUMMARY: summaryFile,
    ...GITHUB_ENV,
    ...(options.debug === false ? {} : { RUNNER_DEBUG: '1' }),
    ...options.env
  }
  for (const [name, value] of Object.entries(inputs)) env[inputVariable(name)] = value

  const started = Date.now()
  const child = spawn(NODE24, [ACTION], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk
    options.onStdout?.(chunk, child)
  })
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk))
  const killer = options.killAfterMs ? setTimeout(() => child.kill('SIGKILL'), options.killAfterMs) : undefined
  const code = await new Promise<number | null>((done) => child.on('close', (status) => done(status)))
  if (killer) clearTimeout(killer)

  const run: ActionRun = {
    code,
    stdout: unixLines(stdout),
    stderr: unixLines(stderr),
    outputs: parseOutputFile(readFileSync(outputFile, 'utf8')),
    summary: unixLines(readFileSync(summaryFile, 'utf8')),
    ms: Date.now() - started
  }
  rmSync(dir, { recursive: true, force: true })
  assertNoSecrets(run, inputs)
  return run
}

/** Lines the runner consumes to mask values are the one place a secret may be written. */
export function leakedSecrets(run: ActionRun, extra: string[] = []): string[] {
  const visible = [
    ...run.stdout.split('\n').filter((line) => !line.startsWith('::add-mask::')),
    run.stderr,
    JSON.stringify(run.outputs),
    run.summary
  ].join('\n')
  return [...SECRET_MARKERS, ...extra].filter((secret) => secret && visible.includes(secret))
}

function assertNoSecrets(run: ActionRun, inputs: Record<string, string>): void {
  const inputSecrets = [inputs['api-key'], inputs['registry-password']].filter((s): s is string => !!s && s.length >= 8)
  const leaks = leakedSecrets(run, inputSecrets)
  if (leaks.length) throw new Error(`secret(s) leaked into the step's output: ${leaks.join(', ')}\n${run.stdout}`)
}

/** The step's visible log: what the runner shows, commands it consumes left out. */
export const visibleLog = (run: ActionRun): string =>
  run.stdout
    .split('\n')
    .filter((line) => !/^::(add-mask|debug|set-output)/.test(line))
    .join('\n')

/** An annotation line, `::error title=…::message`: its title (unescaped) and message. */
const ANNOTATION = /^::(error|warning|notice)(?: title=([^:]*))?::(.*)$/

/** The annotations of a kind, in order: each with its title, which every annotation of the action carries. */
export const annotations = (run: ActionRun, kind: 'error' | 'warning' | 'notice'): { title: string; message: string }[] =>
  run.stdout.split('\n').flatMap((line) => {
    const match = ANNOTATION.exec(line)
    return match && match[1] === kind ? [{ title: decodeURIComponent(match[2] ?? ''), message: match[3] }] : []
  })

/** The message of the step's (first) failure, the ::error:: line. */
export const errorLine = (run: ActionRun): string => annotations(run, 'error')[0]?.message ?? ''
