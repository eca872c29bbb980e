import * as core from '@actions/core'
import { Input } from './constants.js'
import type { DokployClient } from './dokploy/client.js'
import { headerInputValues, readSettings, type GetInput, type Settings } from './inputs.js'
import { newOutcome, Recorder, type Outcome } from './outcome.js'
import { dashboardUrl, failureAnnotations, printFailureDetails, rolloutNotes, writeRunnerFiles, type StepReport } from './report.js'
import type { GitHubDeployments } from './github-deployment.js'
import { actionsLog, actionsSink, inline, type Log } from './logger.js'
import { globalWebSocket, proxyDispatchers, webSockets, type LogSockets } from './dokploy/log-socket.js'
import { learnEnvText, redact, registerSecret } from './secrets.js'
import { systemClock, type Clock } from './clock.js'
import { TIMINGS, type Timings } from './timings.js'
import { kindsOf, RESOURCES, OPERATIONS, SPECS, type Operation, type Resource } from './operations.js'

/** Secrets from inputs are masked before anything else reads, validates or prints them. */
function maskSecretInputs(get: GetInput): void {
  registerSecret(get(Input.apiKey).trim(), true)
  registerSecret(get(Input.githubToken).trim(), true)
  registerSecret(get(Input.registryPassword).trim())
  // a header's value is a credential (a Cloudflare Access secret): masked whatever its length
  for (const value of headerInputValues(get(Input.headers))) registerSecret(value, true)
  learnEnvText(get(Input.env))
}

/** The runner sends SIGINT on cancellation and kills the step 7.5 s later: stop at once and report. */
function onCancel(controller: AbortController): () => void {
  const handler = (signal: NodeJS.Signals): void => controller.abort(new Error(`cancelled by the runner (${signal})`))
  process.once('SIGINT', handler)
  process.once('SIGTERM', handler)
  return () => {
    process.off('SIGINT', handler)
    process.off('SIGTERM', handler)
  }
}

/** The outcome of a step that fails before it has a target: resource and operation as the user wrote them (or as read). */
function provisionalOutcome(resource: string, operation: string, startedAt: number): Outcome {
  const pick = <T extends string>(value: string, allowed: readonly T[], fallback: T): T =>
    (allowed as readonly string[]).includes(value) ? (value as T) : fallback
  // a value the user typed: one line, masked, not too long
  const asWritten = { resource: clipped(resource), operation: clipped(operation) }
  return newOutcome(pick<Resource>(resource, RESOURCES, 'application'), pick<Operation>(operation, OPERATIONS, 'deploy'), startedAt, asWritten)
}

const clipped = (value: string): string => inline(redact(value)).slice(0, 60)

/** The GitHub deployments of this step, when asked for and the runner says which repository and commit. */
function githubDeployments(work: Work, settings: Settings, log: Log, timings: Timings, env: NodeJS.ProcessEnv = process.env): GitHubDeployments | undefined {
  if (!settings.github) return undefined
  const repository = env.GITHUB_REPOSITORY ?? ''
  const sha = settings.commit ?? env.GITHUB_SHA ?? ''
  const { deployments, statuses } = settings.github
  if (!/^[\w.-]+\/[\w.-]+$/.test(repository) || !/^[0-9a-f]{40}$/i.test(sha)) {
    const what = deployments ? 'github-deployment: GITHUB_REPOSITORY or GITHUB_SHA is not set (is this a GitHub Actions run?): no GitHub deployment is recorded.' : 'commit-status: GITHUB_REPOSITORY is not set (is this a GitHub Actions run?): no commit status is posted.'
    log.warning(what, deployments ? 'GitHub deployment' : 'GitHub commit status')
    return undefined
  }
  const run = { token: settings.github.token, repository, sha, runId: env.GITHUB_RUN_ID, title: settings.title, requestTimeoutMs: timings.githubRequestMs, deployments, statuses }
  return new work.GitHubDeployments(run, log)
}

async function report(step: StepReport, log: Log, client: DokployClient | undefined, sockets: number): Promise<void> {
  const unwritten = await writeRunnerFiles(step)
  printFailureDetails(step, log)
  if (client) {
    const { requests, retries, bytesSent, bytesReceived } = client.stats
    // a log socket's upgrade spends a key check as a request does: counted with them
    const upgrades = sockets > 0 ? `; ${sockets} of them log socket upgrade(s)` : ''
    log.debug(`Dokploy requests: ${requests + sockets} (${retries} retries), ${bytesSent} B sent, ${bytesReceived} B received${upgrades}`)
  }
  for (const { outcome, message } of rolloutNotes(step)) {
    const label = outcome.name || outcome.resourceId
    core.notice(step.outcomes.length > 1 && label ? `${inline(redact(label))}: ${message}` : message, { title: 'Dokploy: rollout not checked' })
  }
  for (const { title, message } of failureAnnotations(step)) fail(message, title)
  // outputs or a summary the workflow relies on are missing: the step cannot pass
  for (const problem of unwritten) fail(problem, 'Dokploy: runner file not written')
}

/** What core.setFailed does, with a title on the annotation. */
function fail(message: string, title: string): void {
  process.exitCode = core.ExitCode.Failure
  core.error(message, { title })
}

type Work = typeof import('./work.js')

/** What a run is given besides its inputs: its clock and timings, and what the tests replace. */
export interface RunOptions {
  clock?: Clock
  timings?: Timings
  /** Largest reply body accepted (the tests lower it). */
  maxBodyBytes?: number
  /** The log sockets (Node's WebSocket unless given). */
  sockets?: LogSockets
}

/** Node's WebSocket loads on the first read of the global (about 15 ms): read it when a live log opens, not before. */
function lazySockets(): LogSockets {
  let sockets: LogSockets | undefined
  const get = (): LogSockets => (sockets ??= webSockets(globalWebSocket(), proxyDispatchers()))
  return {
    unavailable: () => get().unavailable(),
    open: (url, apiKey, events, headers) => get().open(url, apiKey, events, headers),
    opened: () => sockets?.opened?.() ?? 0,
    settled: async (ms) => (sockets ? sockets.settled(ms) : true)
  }
}

/** inputs → settings → targets → execute each → report; the one place a failure becomes the step's verdict. */
export async function run(get: GetInput = (name) => core.getInput(name), options: RunOptions = {}): Promise<void> {
  const clock = options.clock ?? systemClock
  const timings = options.timings ?? TIMINGS
  const startedAt = clock.now()
  const controller = new AbortController()
  const release = onCancel(controller)
  let transport: ReturnType<Work['createTransport']> | undefined
  const sockets = options.sockets ?? lazySockets()
  const log = actionsLog
  let provisional = provisionalOutcome(get(Input.resource).trim() || 'application', get(Input.operation).trim() || 'deploy', startedAt)
  const step: StepReport = { outcomes: [], resource: provisional.asWritten?.resource ?? '', operation: provisional.asWritten?.operation ?? '', startedAt }
  let client: DokployClient | undefined
  let deadline: number | undefined
  let github: GitHubDeployments | undefined
  try {
    maskSecretInputs(get)
    const settings = readSettings(get)
    settings.warnings.forEach((warning) => log.warning(warning))
    provisional = provisionalOutcome(settings.resource, settings.operation, startedAt)
    new Recorder(provisional).links(dashboardUrl(settings.baseUrl, provisional))
    step.operation = settings.operation
    step.resource = settings.resource
    // Dokploy keeps the title of a queued deploy (an application's or a compose stack's)
    if (kindsOf(settings.resource).some((kind) => SPECS[kind].operations[settings.operation] === 'queued')) step.title = settings.title
    deadline = startedAt + settings.waitTimeoutMs
    const work = await import('./work.js')
    transport = work.createTransport({ maxBodyBytes: options.maxBodyBytes })
    client = new work.DokployClient({
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      headers: settings.headers,
      requestTimeoutMs: settings.requestTimeoutMs,
      retries: settings.retries,
      transport: transport.send,
      deadline,
      signal: controller.signal,
      clock,
      timings,
      debug: log.debug,
      info: log.info
    })
    const targets = await work.resolveTargets(client, settings, log)
    github = githubDeployments(work, settings, log, timings)
    const liveLog = { baseUrl: settings.baseUrl, apiKey: settings.apiKey, headers: settings.headers, openTimeoutMs: settings.requestTimeoutMs, sockets, sink: actionsSink }
    const context = { client, log, clock, timings, signal: controller.signal, deadline, pollCapMs: settings.pollIntervalMs, baseUrl: settings.baseUrl, github, liveLog }
    step.outcomes = await work.runTargets(settings, targets, context)
  } catch (error) {
    new Recorder(provisional).failed(error, controller.signal.aborted, deadline !== undefined && clock.now() >= deadline)
    step.outcomes = [provisional]
  } finally {
    step.endedAt = clock.now()
    if (step.outcomes.length === 0) step.outcomes = [provisional]
    // the GitHub statuses go out beside the deploy; at the end they get a short wait, shorter when cancelled
    await github?.settle(controller.signal.aborted ? timings.githubSettleCancelledMs : timings.githubSettleMs)
    await report(step, log, client, sockets.opened?.() ?? 0)
    transport?.close()
    release()
  }
  // a log socket whose close Dokploy (or a proxy) never answers would keep Node, and the step, running
  if (!(await sockets.settled(timings.socketCloseGraceMs))) {
    // everything is written: only the unanswered close of the log socket is left
    log.debug('The live log socket did not close: ending the step without it.')
    process.exit()
  }
}
