import { DokployError } from './dokploy/errors.js'
import type { Outcome } from './outcome.js'

/** Whether a target's failure report quotes the server (a build log, Dokploy's errorMessage, an error text). */
export const quotesServer = (outcome: Outcome, error: unknown): boolean =>
  !!outcome.logTail || !!outcome.errorMessage || !!outcome.runtimeLog || (error instanceof DokployError && error.failure === 'server-error')
