import * as core from '@actions/core'
import { Input } from './constants.js'
import { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import { createTransport } from './dokploy/transport.js'
import { globalWebSocket, webSockets } from './dokploy/log-socket.js'
import { InputError, readSettings, type GetInput } from './inputs.js'
import { envInputValues } from './env.js'
import { execute } from './execute.js'
import { LookupError } from './lookup.js'
import { newOutcome, UnknownOutcome, type Outcome } from './outcome.js'
import { learnSecrets } from './dokploy/api.js'
import { dashboardUrl, printFailureDetails, writeRunnerFiles } from './report.js'
import { actionsLog, actionsSink, inline, type Log } from './logger.js'
import { redact, registerSecret } from './secrets.js'
import { sleep } from './sleep.js'
import { RESOURCES, OPERATIONS, SPECS, type Operation, type Resource } from './operations.js'

/** Secrets from inputs are masked before anything else reads, validates or prints them. */
function maskSecretInputs(get: GetInput): void {
  registerSecret(get(Input.apiKey).trim(), true)
  registerSecret(get(Input.registryPassword).trim())
  // a multi-line value whole: registerSecret masks each of its lines
  for (const value of envInputValues(get(Input.env))) registerSecret(value)
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

/** Resource and operation for the report, before (or without) valid inputs. */
function provisionalOutcome(get: GetInput, startedAt: number): Outcome {
  const pick = <T extends string>(value: string, allowed: readonly T[], fallback: T): T =>
    (allowed as readonly string[]).includes(value) ? (value as T) : fallback
  return newOutcome(
    pick<Resource>(get(Input.resource).trim(), RESOURCES, 'application'),
    pick<Operation>(get(Input.operation).trim(), OPERATIONS, 'deploy'),
    startedAt
  )
}

/** What an error that ended the run means for the outcome. */
function recordFailure(outcome: Outcome, error: unknown, cancelled: boolean, deadline: number | undefined): void {
  outcome.ok = false
  if (cancelled) {
    outcome.status = 'cancelled-by-runner'
    outcome.message = 'The job was cancelled while the action waited: the outcome is unknown (Dokploy goes on with the operation).'
  } else if (error instanceof UnknownOutcome) {
    outcome.status = 'unknown'
    outcome.message = error.message
  } else if (error instanceof InputError || error instanceof LookupError || error instanceof DokployError) {
    outcome.message = error.message
    const pastDeadline = deadline !== undefined && Date.now() >= deadline
    if (error instanceof DokployError && error.failure === 'timeout' && pastDeadline) outcome.status = 'timeout'
  } else {
    outcome.message = `Unexpected error: ${error instanceof Error ? error.message : String(error)}`
  }
}

/** Statuses whose failure message or log tail quotes the server (a build log, Dokploy's errorMessage, an error text). */
const quotesServer = (outcome: Outcome, error: unknown): boolean =>
  !!outcome.logTail || !!outcome.errorMessage || (error instanceof DokployError && error.failure === 'server-error')

/**
 * Server text may quote secrets the action never read (a build that prints a connection string, a 500
 * that repeats a database password): learn the service's secrets before any of it is printed.
 */
async function learnBeforePrinting(outcome: Outcome, client: DokployClient | undefined, error: unknown, log: Log): Promise<void> {
  if (outcome.ok || !client || !outcome.resourceId || !quotesServer(outcome, error)) return
  try {
    await learnSecrets(client, SPECS[outcome.resource], outcome.resourceId)
  } catch (reason) {
    log.debug(`service secrets not read: ${reason instanceof Error ? reason.message : String(reason)}`)
  }
}

async function report(outcome: Outcome, log: Log, client: DokployClient | undefined): Promise<void> {
  const unwritten = await writeRunnerFiles(outcome)
  printFailureDetails(outcome, log)
  if (client) {
    const { requests, retries, bytesSent, bytesReceived } = client.stats
    log.debug(`Dokploy requests: ${requests} (${retries} retries), ${bytesSent} B sent, ${bytesReceived} B received`)
  }
  if (!outcome.ok) {
    const message = outcome.message ?? `Dokploy ${outcome.operation} ended ${outcome.status}.`
    // one line: server text inside an error annotation cannot start a workflow command
    core.setFailed(inline(redact(outcome.errorMessage ? `${message} Dokploy says: ${outcome.errorMessage}` : message)))
  }
  // outputs or a summary the workflow relies on are missing: the step cannot pass
  for (const problem of unwritten) core.setFailed(problem)
}

/** A log socket whose close Dokploy (or a proxy) never answers would keep Node, and the step, running. */
const SOCKET_CLOSE_GRACE_MS = 2000

/** inputs → settings → execute → report; the one place a failure becomes the step's verdict. */
export async function run(get: GetInput = (name) => core.getInput(name)): Promise<void> {
  const startedAt = Date.now()
  const controller = new AbortController()
  const release = onCancel(controller)
  const transport = createTransport()
  const sockets = webSockets(globalWebSocket())
  const log = actionsLog
  const outcome = provisionalOutcome(get, startedAt)
  let client: DokployClient | undefined
  let deadline: number | undefined
  let failure: unknown
  try {
    maskSecretInputs(get)
    const settings = readSettings(get)
    settings.warnings.forEach((warning) => log.warning(warning))
    outcome.operation = settings.operation
    deadline = startedAt + settings.waitTimeoutMs
    client = new DokployClient({
      baseUrl: settings.baseUrl,
      apiKey: settings.apiKey,
      requestTimeoutMs: settings.requestTimeoutMs,
      retries: settings.retries,
      transport: transport.send,
      deadline,
      signal: controller.signal,
      debug: log.debug,
      info: log.info
    })
    try {
      const liveLog = { baseUrl: settings.baseUrl, apiKey: settings.apiKey, openTimeoutMs: settings.requestTimeoutMs, sockets, sink: actionsSink }
      await execute(settings, { client, log, sleep, signal: controller.signal, deadline, pollCapMs: settings.pollIntervalMs, liveLog }, outcome)
    } finally {
      outcome.dashboardUrl = dashboardUrl(settings.baseUrl, outcome)
    }
  } catch (error) {
    failure = error
    recordFailure(outcome, error, controller.signal.aborted, deadline)
  } finally {
    outcome.endedAt = Date.now()
    if (!controller.signal.aborted) await learnBeforePrinting(outcome, client, failure, log)
    await report(outcome, log, client)
    transport.close()
    release()
  }
  if (!(await sockets.settled(SOCKET_CLOSE_GRACE_MS))) {
    // everything is written: only the unanswered close of the log socket is left
    log.debug('The live log socket did not close: ending the step without it.')
    process.exit()
  }
}
