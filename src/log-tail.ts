import type { DokployClient } from './dokploy/client.js'
import { DokployError } from './dokploy/errors.js'
import { readLogs } from './dokploy/api.js'
import type { Log } from './logger.js'

/** The last lines of the build log, or undefined where the server cannot give them (before v0.29.6). */
export async function logTail(client: DokployClient, deploymentId: string, lines: number, log: Log, graceMs: number): Promise<string | undefined> {
  if (lines <= 0) return undefined
  try {
    // after a timeout the deadline has passed: the tail may still take a few seconds
    const tail = await readLogs(client, deploymentId, lines, graceMs)
    return tail.trimEnd() || undefined
  } catch (error) {
    if (error instanceof DokployError && error.failure === 'cancelled') throw error
    log.info(
      error instanceof DokployError && error.failure === 'no-procedure'
        ? 'This Dokploy cannot return build logs (deployment.readLogs needs v0.29.6): see the dashboard.'
        : `Could not read the build log: ${error instanceof Error ? error.message : String(error)}`
    )
    return undefined
  }
}
