import type { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import { learnSecrets } from './dokploy/api.js'
import { InputError } from './inputs.js'
import { LookupError } from './lookup.js'
import { SPECS } from './operations.js'
import { UnknownOutcome, type Outcome } from './outcome.js'
import type { Log } from './logger.js'

/** What an error that ended a target (or the whole step, before any target) means for its outcome. */
export function recordFailure(outcome: Outcome, error: unknown, cancelled: boolean, deadline: number | undefined): void {
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
    if (error instanceof DokployError && error.failure === 'timeout' && pastDeadline) {
      outcome.status = 'timeout'
      // the request was still open: Dokploy was still at work, nothing says it failed
      outcome.message = `${error.message} It was still running when the step stopped waiting; Dokploy may still finish it.`
    }
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
export async function learnBeforePrinting(outcome: Outcome, client: DokployClient | undefined, error: unknown, log: Log): Promise<void> {
  if (outcome.ok || !client || !outcome.resourceId || !quotesServer(outcome, error)) return
  try {
    await learnSecrets(client, SPECS[outcome.resource], outcome.resourceId)
  } catch (reason) {
    log.debug(`service secrets not read: ${reason instanceof Error ? reason.message : String(reason)}`)
  }
}
