import * as core from '@actions/core'
import { Input } from './constants.js'
import { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import { createTransport } from './dokploy/transport.js'
import { InputError, readSettings, type GetInput } from './inputs.js'
import { parseEnvInput } from './env.js'
import { execute } from './execute.js'
import { newOutcome, type Outcome } from './outcome.js'
import { dashboardUrl, printFailureDetails, writeOutputs, writeSummary } from './report.js'
import { actionsLog, inline } from './logger.js'
import { registerSecret } from './secrets.js'
import { sleep } from './sleep.js'
import { RESOURCES, OPERATIONS, type Operation, type Resource } from './operations.js'

/** Secrets from inputs are masked before anything else reads, validates or prints them. */
function maskSecretInputs(get: GetInput): void {
  registerSecret(get(Input.apiKey).trim(), true)
  registerSecret(get(Input.registryPassword).trim())
  for (const entry of parseEnvInput(get(Input.env)).entries) registerSecret(entry.value)
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

export async function run(get: GetInput = (name) => core.getInput(name)): Promise<void> {
  const startedAt = Date.now()
  const controller = new AbortController()
  const release = onCancel(controller)
  const transport = createTransport()
  const log = actionsLog
  const guess = <T extends string>(value: string, allowed: readonly T[], fallback: T): T =>
    (allowed as readonly string[]).includes(value) ? (value as T) : fallback
  const outcome: Outcome = newOutcome(
    guess<Resource>(get(Input.resource).trim(), RESOURCES, 'application'),
    guess<Operation>(get(Input.operation).trim(), OPERATIONS, 'deploy'),
    startedAt
  )
  let client: DokployClient | undefined
  let baseUrl: string | undefined
  let deadline: number | undefined
  try {
    maskSecretInputs(get)
    const settings = readSettings(get)
    settings.warnings.forEach((warning) => log.warning(warning))
    baseUrl = settings.baseUrl
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
      debug: log.debug
    })
    await execute(settings, { client, log, sleep, signal: controller.signal, deadline, pollCapMs: settings.pollIntervalMs }, outcome)
  } catch (error) {
    if (controller.signal.aborted) {
      outcome.status = 'cancelled-by-runner'
      outcome.message = 'The run was cancelled while waiting: the outcome of the Dokploy operation is unknown (Dokploy goes on with it).'
    } else if (error instanceof InputError || error instanceof DokployError || (error instanceof Error && error.name === 'LookupError')) {
      outcome.message = error.message
      if (error instanceof DokployError && error.failure === 'timeout' && deadline !== undefined && Date.now() >= deadline) outcome.status = 'timeout'
    } else {
      outcome.message = `Unexpected error: ${error instanceof Error ? error.message : String(error)}`
    }
    outcome.ok = false
  } finally {
    outcome.endedAt = Date.now()
    outcome.requests = client?.stats.requests
    if (baseUrl) outcome.dashboardUrl = dashboardUrl(baseUrl, outcome)
    writeOutputs(outcome)
    printFailureDetails(outcome, log)
    await writeSummary(outcome, log)
    if (client) {
      const { requests, retries, bytesSent, bytesReceived } = client.stats
      log.debug(`Dokploy requests: ${requests} (${retries} retries), ${bytesSent} B sent, ${bytesReceived} B received`)
    }
    if (!outcome.ok) core.setFailed(inline(outcome.message ?? `Dokploy ${outcome.operation} ended ${outcome.status}.`))
    transport.close()
    release()
  }
}
